/* open comment
project "p" {}
