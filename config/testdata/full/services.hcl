service "backend" {
  image    = "${local.image_repo}:${var.version}"
  replicas = var.replicas
  port     = 8000
  env = {
    SECRET_KEY = var.secret_key
    DSN        = local.dsn_line
    DEBUG      = "false"
  }
  extra_hosts = ["host.docker.internal:host-gateway"]

  health {
    path              = "/api/health"
    interval          = "2s"
    timeout           = "1s"
    healthy_threshold = 2
    deadline          = "60s"
  }

  route {
    listen      = 80
    server_name = "thebot.example.com"
    location    = "/"
  }

  canary {
    steps    = [5, 25, { percent = 50, pause = "10m", approve = true }, 100]
    pause    = "5m"
    analysis = "standard"
  }
}

service "frontend" {
  image = "thebot/frontend:${var.version}"
  port  = 3000

  route {
    server_name = "www.thebot.example.com"
    location    = "/app/"
  }
}

service "worker" {
  image    = "thebot/backend:${var.version}"
  port     = 8001
  replicas = 2
  command  = ["celery", "worker"]
  rolling {
    batch_size = 2
  }
}

analysis "standard" {
  source       = "nginx"
  interval     = "30s"
  min_requests = 50

  error_rate {
    warn     = "1%"
    fail     = "5%"
    warn_for = "2m"
  }
  latency_p95 {
    warn     = "2s"
    fail     = "5s"
    warn_for = "5m"
  }
}

check "secret_key_set" {
  phase = "pre"
  env {
    names = ["SECRET_KEY"]
  }
}

check "api" {
  phase    = "post"
  severity = "warning"
  tags     = ["smoke"]
  http {
    url    = "http://127.0.0.1/api/health"
    status = 200
    header = { Authorization = "Bearer ${var.secret_key}" }
  }
}

notify "incidents" {
  webhook = env("SLACK_WEBHOOK_URL")
  on      = ["failed", "rolled_back"]
  format  = "slack"
}
