// Package starter is the commented starter configuration `slipway init`
// writes: a service behind nginx with PostgreSQL, and a first migration.
// It never overwrites a file.
package starter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// nameRE is what config accepts as a block label.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// ValidName reports whether name can name a project (a block label).
func ValidName(name string) bool { return nameRE.MatchString(name) }

// ProjectName derives a project name from a directory's base name: lower
// case, other characters turned into dashes; "app" when nothing is left.
func ProjectName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	base := strings.ToLower(filepath.Base(dir))
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-_")
	if !nameRE.MatchString(name) {
		return "app"
	}
	return name
}

// File is one file of the starter: its path relative to the directory,
// and its content.
type File struct{ Path, Body string }

// Files returns the files of the starter of project name, in the order
// Write writes them.
func Files(name string) []File {
	image := strings.ToLower(name)
	hcl := strings.NewReplacer("{{name}}", name, "{{image}}", image).Replace(starterHCL)
	return []File{
		{"slipway.hcl", hcl},
		{filepath.Join("migrations", "0001_init.sql"), starterMigration},
	}
}

// Write writes the starter files of project name into dir, creating it,
// and returns their paths. It checks first that none exists, so a refusal
// (an error wrapping fs.ErrExist) writes nothing, and creates each with
// O_EXCL, so a file that appears meanwhile is not overwritten either.
func Write(dir, name string) ([]string, error) {
	files := Files(name)
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("write starter %q: %w", p, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("write starter %q: %w", p, err)
		}
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, fmt.Errorf("create directory %q: %w", filepath.Dir(p), err)
		}
		out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return written, fmt.Errorf("write starter %q: %w", p, err)
		}
		_, err = out.WriteString(f.Body)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, fmt.Errorf("write starter %q: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}

// starterHCL is the starter configuration; {{name}} and {{image}} are
// replaced by the project name and its lower-case form. It must stay in
// canonical format (slipway fmt -check passes on it: init_test.go).
const starterHCL = `# slipway.hcl: the release you want live. Every *.hcl file in this directory
# is configuration; *.vars.hcl files hold variable values (NAME.vars.hcl is
# loaded by -env NAME). Reference: docs/configuration.md.
#
#   slipway validate -var version=1.0.0    # check this file, all problems at once
#   slipway plan -var version=1.0.0        # what a release would do, step by step
#   slipway apply -var version=1.0.0       # do it, gated on health and checks
#   slipway rollback                       # back to the previous release

project "{{name}}" {
  # State, snapshots and records live in .slipway/ beside this file. On a CI
  # runner whose checkout comes and goes, keep them somewhere stable:
  # state {
  #   path = "/var/lib/slipway/{{name}}"
  # }
}

# The version to release, given on each run: -var version=1.2.3, or
# SLIPWAY_VAR_version in the environment.
variable "version" {
  type        = string
  description = "Image tag to release."
}

# Sensitive values are never printed, and never stored in state, plans or
# records. Set it with SLIPWAY_VAR_database_url.
variable "database_url" {
  type        = string
  sensitive   = true
  description = "PostgreSQL URL as seen from this host."
  default     = "postgres://{{image}}@127.0.0.1:5432/{{image}}?sslmode=disable"
}

# slipway writes one file per route into config_dir and touches no other file
# there; every change is checked with nginx -t before a reload.
nginx {
  config_dir = "/etc/nginx/conf.d"
  access_log = "/var/log/nginx/slipway.log" # read by canary analyses
}

# Migrations are files such as migrations/0002_add_email.sql, applied in
# order, each in one transaction, before the new version takes traffic. Keep
# them additive (expand/contract): then rolling the code back stays safe.
postgres "main" {
  url        = var.database_url
  migrations = "./migrations"

  # pg_dump -Fc before migrating; 'slipway rollback -restore-db' restores it.
  backup {
    dir  = "./backups"
    keep = 10
  }
}

service "web" {
  image    = "registry.example.com/{{image}}/web:${var.version}"
  replicas = 2
  port     = 8080 # the port the application listens on inside the container

  env = {
    # Inside a container 127.0.0.1 is the container itself: point the
    # application at the host, for example through host.docker.internal.
    DATABASE_URL = var.database_url
  }
  extra_hosts = ["host.docker.internal:host-gateway"]

  # New containers get traffic only after this probe passes.
  health {
    path              = "/health"
    interval          = "2s"
    healthy_threshold = 2
    deadline          = "60s"
  }

  # The nginx server and location that serve this service.
  route {
    listen      = 80
    server_name = "{{image}}.example.com"
    location    = "/"
  }

  # Start the new color beside the old, switch all traffic at once, keep the
  # old color running for an instant rollback. For a risky change, use
  # canary { steps = [5, 25, 50, 100] ... } instead (docs/strategies.md).
  blue_green {
    keep_previous = "running"
  }
}

# Checks run before (pre), against the new containers before traffic moves
# (preview), or after (post) a release; 'slipway check' runs them now.
check "db_reachable" {
  phase = "pre"
  postgres {
    database = "main"
  }
}

check "web_answers" {
  phase = "post"
  http {
    url    = "http://127.0.0.1/health"
    status = 200
    headers = {
      Host = "{{image}}.example.com"
    }
  }
}
`

// starterMigration is migrations/0001_init.sql.
const starterMigration = `-- 0001_init.sql: the first migration. slipway applies pending migrations in
-- version order, each in one transaction, and records them with a checksum in
-- slipway_schema_migrations: never edit a migration once it is applied, add
-- the next one (0002_...) instead.
CREATE TABLE IF NOT EXISTS app_settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);
`
