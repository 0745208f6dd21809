service "web" {
  image = "x"
