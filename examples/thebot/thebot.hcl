# THE_BOT platform: the runbook in docs/runbooks/ (DEPLOYMENT.md and the
# scripts pre-deploy-check.sh, verify-deployment.sh and rollback.sh) as one
# slipway configuration. See README.md for what maps to what.
#
#   export SLIPWAY_VAR_secret_key=... SLIPWAY_VAR_database_url=... SLACK_WEBHOOK_URL=...
#   slipway check -quick                   # pre-deploy-check.sh --quick
#   slipway plan -var version=1.3.0        # what the release will do
#   slipway apply -var version=1.3.0       # do it: backend canary, frontend blue-green
#   slipway check -phase post              # verify-deployment.sh
#   slipway rollback                       # rollback.sh

project "thebot" {
  keep = 30 # snapshots kept for rollback

  # The deploy host keeps state outside the CI checkout, which comes and goes.
  state {
    path = "/var/lib/slipway/thebot"
  }
}

variable "version" {
  type        = string
  description = "Release tag of both images, such as 1.3.0."
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.]+)?$", var.version))
    error_message = "The version must be a release tag such as 1.3.0 or 1.3.1-hotfix.1."
  }
}

variable "domain" {
  type        = string
  default     = "thebot.example.com"
  description = "Public name nginx serves; staging.vars.hcl sets the staging one."
}

# pre-deploy-check.sh: "SECRET_KEY strong (50+ chars)", never a placeholder.
variable "secret_key" {
  type      = string
  sensitive = true # never printed, never stored
  validation {
    condition     = length(var.secret_key) >= 50
    error_message = "SECRET_KEY must be at least 50 characters."
  }
  validation {
    condition     = !can(regex("(?i)changeme|insecure|example", var.secret_key))
    error_message = "SECRET_KEY holds a placeholder; generate a real key."
  }
}

variable "database_url" {
  type        = string
  sensitive   = true
  description = "postgres://user:password@host:5432/thebot_db, as seen from the deploy host."
  validation {
    condition     = startswith(var.database_url, "postgres://") || startswith(var.database_url, "postgresql://")
    error_message = "The database URL must start with postgres:// or postgresql://."
  }
}

variable "redis_url" {
  type    = string
  default = "redis://host.docker.internal:6379/0"
}

locals {
  base_url = "https://${var.domain}"
}

docker {
  host = "unix:///var/run/docker.sock"
}

nginx {
  config_dir = "/etc/nginx/conf.d" # slipway writes only its own files there
  access_log = "/var/log/nginx/slipway.log"
  switch     = "auto" # no reload for traffic moves when nginx has Lua
}

# DEPLOYMENT.md, "Database migrations": back up, then migrate. Migrations
# run before the new backend takes traffic, while the old one still serves,
# so they must be additive (expand/contract, see docs/strategies.md).
postgres "main" {
  url        = var.database_url
  migrations = "./migrations"

  backup {
    dir  = "/var/backups/thebot"
    keep = 10
    when = "migrations"
  }
}

# The seed's rollback decision tree, as the verdicts of each canary step:
#   error rate > 5%                     -> immediate rollback
#   error rate 1-5% for longer than 2m  -> rollback ("investigate, then
#                                          roll back if not resolved in 2 mins")
#   p95 > 5s                            -> immediate rollback
#   p95 > 2s for longer than 5m         -> rollback ("monitor for 5 min")
# The candidate is judged against the stable version in the same window.
analysis "standard" {
  source       = "nginx" # per-version error rate and p95 from the access log
  interval     = "30s"
  min_requests = 50 # fewer requests give "no data", never a pass

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

# rollback.sh and the emergency procedure: "Post in #incidents Slack channel".
notify "incidents" {
  webhook = env("SLACK_WEBHOOK_URL")
  on      = ["paused", "failed", "rolled_back", "rollback_failed"]
  format  = "slack"
}
