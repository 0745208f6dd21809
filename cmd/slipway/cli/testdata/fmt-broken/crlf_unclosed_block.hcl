project "p" {
  keep = 1
