service 1 {}
