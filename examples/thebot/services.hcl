# The backend (API and WebSocket under /api/) and the frontend (the single
# page application under /), both behind nginx with TLS.

service "backend" {
  image    = "thebot/backend:${var.version}"
  replicas = 2
  port     = 8000
  memory   = "1g"

  env = {
    SECRET_KEY    = var.secret_key
    DATABASE_URL  = var.database_url
    REDIS_URL     = var.redis_url
    ALLOWED_HOSTS = var.domain
  }
  extra_hosts  = ["host.docker.internal:host-gateway"] # postgres and redis on the host
  stop_timeout = "30s"                                 # let WebSocket clients reconnect elsewhere

  health {
    path              = "/api/health/"
    interval          = "2s"
    timeout           = "1s"
    healthy_threshold = 2
    deadline          = "60s"
  }

  route {
    listen        = 443
    server_name   = var.domain
    location      = "/api/"
    tls_cert      = "/etc/letsencrypt/live/thebot.example.com/fullchain.pem"
    tls_key       = "/etc/letsencrypt/live/thebot.example.com/privkey.pem"
    proxy_timeout = "120s" # long-lived WebSocket connections
  }

  # DEPLOYMENT_STRATEGIES.md, Canary: "Monitor at each phase (5% -> 25% ->
  # 50% -> 100%)", 30-45 minutes in all. Each step waits 5m while the
  # analysis judges it; a fail verdict moves all traffic back in one switch.
  canary {
    steps         = [5, 25, 50, 100]
    pause         = "5m"
    analysis      = "standard"
    sticky_cookie = "thebot_canary" # a user stays on one version across requests
  }
}

service "frontend" {
  image    = "thebot/frontend:${var.version}"
  replicas = 2
  port     = 8080

  health {
    path = "/"
  }

  route {
    listen      = 443
    server_name = var.domain
    location    = "/"
    tls_cert    = "/etc/letsencrypt/live/thebot.example.com/fullchain.pem"
    tls_key     = "/etc/letsencrypt/live/thebot.example.com/privkey.pem"
  }

  # "Regular release? -> Blue-Green": the old color keeps running, so a
  # rollback is one nginx switch (<1 minute).
  blue_green {
    keep_previous = "running"
  }
}
