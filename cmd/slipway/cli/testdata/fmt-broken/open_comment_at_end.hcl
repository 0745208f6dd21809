project "p" {}
a = 1 /* never closed
