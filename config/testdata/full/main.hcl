project "thebot" {
  keep = 20
  state {
    path = "/var/lib/slipway/thebot"
  }
}

variable "version" {
  type        = string
  description = "Backend image tag."
}

variable "secret_key" {
  type      = string
  sensitive = true
  validation {
    condition     = length(var.secret_key) >= 50
    error_message = "SECRET_KEY must be at least 50 characters."
  }
}

variable "replicas" {
  type    = number
  default = 2
}

locals {
  image_repo = "thebot/backend"
  dsn_line   = format("key=%s", var.secret_key)
}

docker {
  host = "unix:///var/run/docker.sock"
}

nginx {
  config_dir = "/etc/nginx/conf.d"
  access_log = "/var/log/nginx/slipway.log"
}

postgres "main" {
  url        = env("DATABASE_URL")
  migrations = "./migrations"
  backup {
    dir  = "./backups"
    keep = 10
  }
}
