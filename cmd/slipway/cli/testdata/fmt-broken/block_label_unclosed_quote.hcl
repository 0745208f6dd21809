service "web {
}
