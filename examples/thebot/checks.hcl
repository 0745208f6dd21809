# pre-deploy-check.sh and verify-deployment.sh as checks. slipway runs the
# pre checks before changing anything, the preview checks against the new
# backend before it takes traffic, and the post checks after the release;
# `slipway check [-phase pre|preview|post]` runs them now.
#   --quick       -> slipway check -quick    (leaves out checks tagged "slow")
#   --no-tests    -> slipway check -skip tests
#   --strict      -> slipway check -strict   (warnings fail too)
# Exit codes as the scripts': 0 passed, 1 only warnings failed, 2 a critical
# check failed ("rollback required").

# ---- pre: pre-deploy-check.sh ------------------------------------------

check "git_clean" {
  phase = "pre"
  git {
    clean     = true
    untracked = false
    branch    = "main"
  }
}

check "environment" {
  phase = "pre"
  env {
    names      = ["SLACK_WEBHOOK_URL"]
    min_length = 20
    forbidden  = ["changeme"]
  }
}

check "code_style" {
  phase    = "pre"
  severity = "warning"
  tags     = ["slow", "lint"]
  command {
    argv    = ["sh", "-c", "black --check backend && (cd frontend && npx eslint src)"]
    dir     = ".."
    timeout = "5m"
  }
}

check "type_check" {
  phase    = "pre"
  severity = "warning"
  tags     = ["slow", "lint"]
  command {
    argv    = ["mypy", "backend"]
    dir     = ".."
    timeout = "5m"
  }
}

check "dependencies_audit" {
  phase = "pre"
  tags  = ["slow", "security"]
  command {
    argv    = ["sh", "-c", "pip-audit -r backend/requirements.txt && (cd frontend && npm audit --audit-level=critical)"]
    dir     = ".."
    timeout = "5m"
  }
}

check "test_suite" {
  phase = "pre"
  tags  = ["slow", "tests"]
  command {
    argv    = ["sh", "-c", "pytest -q tests/critical && (cd frontend && npm test -- --watchAll=false)"]
    dir     = ".."
    timeout = "15m"
  }
}

check "db_reachable" {
  phase = "pre"
  postgres {
    database    = "main"
    max_latency = "100ms" # "Database Response > 100ms: check queries"
  }
}

check "redis_reachable" {
  phase = "pre"
  redis {
    address = "127.0.0.1:6379"
  }
}

check "tls_certificate" {
  phase = "pre"
  tls {
    address     = "${var.domain}:443"
    server_name = var.domain
    min_days    = 30 # "SSL certificates valid (>30 days)"
  }
}

check "nginx_config" {
  phase = "pre"
  nginx {}
}

check "disk_space" {
  phase = "pre"
  disk {
    path     = "/var/lib/docker"
    min_free = "10%"
  }
}

# ---- preview: the new backend, before any request reaches it ------------

check "candidate_health" {
  phase = "preview"
  http {
    url         = "{{candidate.url}}/api/health/"
    status      = 200
    max_latency = "2s"
  }
}

# ---- post: verify-deployment.sh -----------------------------------------

check "containers" {
  phase = "post"
  container {
    service     = "backend"
    min_running = 2
  }
}

check "frontend_containers" {
  phase = "post"
  container {
    service     = "frontend"
    min_running = 2
  }
}

check "api" {
  phase = "post"
  http {
    url         = "${local.base_url}/api/health/"
    status      = 200
    max_latency = "2s" # "Response Time (p95) > 2s: investigate"
  }
}

check "frontend_loads" {
  phase = "post"
  http {
    url           = "${local.base_url}/"
    status        = 200
    body_contains = "<div id=\"root\">"
  }
}

check "websocket" {
  phase = "post"
  websocket {
    url    = "wss://${var.domain}/api/ws/echo/"
    send   = "ping"
    expect = "ping"
  }
}

check "static_files" {
  phase = "post"
  static {
    url          = "${local.base_url}/favicon.ico"
    content_type = "image/x-icon"
  }
}

check "migrations_applied" {
  phase = "post"
  postgres {
    database   = "main"
    no_pending = true
  }
}

check "memory" {
  phase    = "post"
  severity = "warning"
  memory {
    max_used = "80%" # "Memory Usage > 80%: check for leaks"
  }
}

check "disk_after" {
  phase    = "post"
  severity = "warning"
  disk {
    path     = "/var/lib/docker"
    min_free = "10%"
  }
}
