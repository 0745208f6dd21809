project "p" {}
}
