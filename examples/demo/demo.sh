#!/usr/bin/env bash
# slipway's demo: the whole life of a tiny web app behind a private nginx
# with a private PostgreSQL. It validates and plans, releases v1 with a
# database migration, moves to v2 blue-green while a load runs through nginx,
# tries a canary of a bad v3 (7% errors) that rolls back by itself and writes
# an incident report, rolls back by hand, and shows the history. Everything
# it makes lives under ./demo/ (config, state, nginx, postgres), in containers
# labelled io.slipway.project=demo, and in the demo images.
#
#   examples/demo/demo.sh run     clean up any earlier run, then run the demo
#   examples/demo/demo.sh clean   stop nginx and postgres, remove the
#                                 containers, the images and ./demo
#
# `make demo` runs `deps` and `build` first; run this script directly only
# when bin/slipway is built and nginx is installed.
#
# Environment (all optional):
#   GO               the go command (default: go)
#   DEMO_IMAGE       image repository for the demo app (default:
#                    slipway-demo/web, apart from the images tests build)
#   DEMO_LOAD_RATE   requests per second during each switch (default: 200)
#   DEMO_LOAD_MODE   slipway-load mode: retrying (as browsers do) or strict
#                    (default: retrying)
#   DEMO_LOAD_TOOL   auto (slipway-load when the checkout has it) or curl
#                    (a plain curl loop) (default: auto)
#
# To extend the demo, add a function per step, call it from demo_run, and add
# any new ${NAME} of the template to TEMPLATE_VARS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

GO=${GO:-go}
PROJECT=demo
DEMO=$REPO/demo
DEMO_IMAGE=${DEMO_IMAGE:-slipway-demo/web}
DEMO_LOAD_RATE=${DEMO_LOAD_RATE:-200}
DEMO_LOAD_MODE=${DEMO_LOAD_MODE:-retrying}
DEMO_LOAD_TOOL=${DEMO_LOAD_TOOL:-auto}
case $DEMO_LOAD_TOOL in auto | curl) ;; *) echo "demo: error: DEMO_LOAD_TOOL=$DEMO_LOAD_TOOL: want auto or curl" >&2; exit 1 ;; esac
EXAMPLE=$REPO/examples/demo
# Names the templates may use; render refuses a template with any other.
TEMPLATE_VARS=(PROJECT DEMO_IMAGE NGINX_PORT NGINX_PREFIX NGINX_CONF NGINX_CONF_DIR NGINX_ACCESS_LOG NGINX_ADMIN_DIR)
# The demo's versions: v3 answers 7% of its requests with 500.
TAGS=(v1 v2 v3)

LOAD_PID=
LOAD_OUT=

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'demo: error: %s\n' "$1" >&2
  [ $# -lt 2 ] || printf 'demo: hint: %s\n' "$2" >&2
  exit 1
}
# need fails with a hint when a command the demo runs is missing.
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed" "$2"; }

# show prints a command the way a user would type it, then runs it.
show() {
  local a line='$'
  for a; do
    case $a in
    *[!A-Za-z0-9_./:=@%+,-]* | '') line+=" '${a//\'/\'\\\'\'}'" ;;
    *) line+=" $a" ;;
    esac
  done
  printf '%s\n' "$line"
  "$@"
}

# env_tool runs one of the repository's helper commands, built once into
# demo/bin so the demo does not pay `go run` on every call.
env_tool() { "$DEMO/bin/slipway-env" "$@"; }

build_tools() {
  mkdir -p "$DEMO/bin"
  "$GO" build -o "$DEMO/bin/slipway-env" ./internal/testenv/cmd/slipway-env
  if [ "$DEMO_LOAD_TOOL" != curl ] && test -d executor/prober/cmd/slipway-load; then
    "$GO" build -o "$DEMO/bin/slipway-load" ./executor/prober/cmd/slipway-load
  fi
}

# render substitutes ${NAME} for each name in TEMPLATE_VARS, like envsubst
# limited to those names, so that slipway's own ${var.x} stays as it is.
render() {
  local tmpl=$1 out=$2 name value args=()
  for name in "${TEMPLATE_VARS[@]}"; do
    value=${!name}
    case $value in *'"'* | *'\'* | *'$'*) die "$name=$value cannot go into an HCL string" ;; esac
    value=$(printf '%s' "$value" | sed -e 's/[|&\\]/\\&/g')
    args+=(-e "s|\\\${$name}|$value|g")
  done
  sed "${args[@]}" "$tmpl" >"$out.tmp"
  if grep -n '\${[A-Z_][A-Z0-9_]*}' "$out.tmp" >&2; then
    die "$tmpl uses a name the script does not set (above)" "add it to TEMPLATE_VARS in $0"
  fi
  mv "$out.tmp" "$out"
}

# expect GETs / through nginx, prints the answer, and fails unless it holds want.
expect() {
  local want=$1 body
  printf '$ curl -s http://127.0.0.1:%s/\n' "$NGINX_PORT"
  body=$(curl -sS --max-time 5 "http://127.0.0.1:$NGINX_PORT/") || die "nginx did not answer on 127.0.0.1:$NGINX_PORT"
  printf '%s\n' "$body"
  case $body in *"$want"*) ;; *) die "expected '$want' through nginx, got '$body'" ;; esac
}

# load_start sends requests through nginx in the background until load_stop:
# with slipway-load when the repository has it, otherwise a curl loop.
load_start() {
  local url="http://127.0.0.1:$NGINX_PORT/"
  LOAD_OUT=$DEMO/load-$1.txt
  if [ -x "$DEMO/bin/slipway-load" ]; then
    note "load: slipway-load, $DEMO_LOAD_RATE requests/s, $DEMO_LOAD_MODE mode, through nginx"
    "$DEMO/bin/slipway-load" -url "$url" -duration 10m -rate "$DEMO_LOAD_RATE" -workers 4 \
      -mode "$DEMO_LOAD_MODE" -allow-failures >"$LOAD_OUT" 2>&1 &
  else
    note "load: a curl loop through nginx, one connection per request"
    (
      trap 'exit 0' TERM
      while :; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$url" || true
      done
    ) >"$LOAD_OUT" 2>/dev/null &
  fi
  LOAD_PID=$!
  sleep 1 # let the load reach its pace before the switch
}

# load_stop ends the background load and reports its failed requests.
load_stop() {
  [ -n "$LOAD_PID" ] || return 0
  sleep 1 # keep the load on the new routing for a moment
  kill -TERM "$LOAD_PID" 2>/dev/null || true
  wait "$LOAD_PID" 2>/dev/null || true
  LOAD_PID=
  if [ -x "$DEMO/bin/slipway-load" ]; then
    # counts, rate, then which answers came back (body "..." N) and errors
    sed -n -e '1,2s/^/    load: /p' -e 's/^body \(".*"\) \([0-9]*\)$/    load: \2 x \1/p' \
      -e 's/^error /    load: error: /p' "$LOAD_OUT"
  else
    local total failed
    total=$(grep -c . "$LOAD_OUT" || true)
    failed=$(grep -vc '^200$' "$LOAD_OUT" || true)
    note "load: $total requests, $failed failed (not 200)"
  fi
}

on_exit() {
  local rc=$?
  if [ -n "$LOAD_PID" ]; then
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    printf '\ndemo: failed (exit %d); what it made is still there: inspect demo/, then run make demo-clean\n' "$rc" >&2
  fi
}

# demo_clean removes what the demo made; with "keep-images" it leaves the
# images, which the next run rebuilds anyway.
# demo_clean removes what the demo made; with "keep-images" it leaves the
# images, which the next run rebuilds anyway.
demo_clean() {
  need docker "install the Docker CLI (Debian: apt-get install -y docker.io)"
  local tool=("$GO" run ./internal/testenv/cmd/slipway-env)
  [ ! -x "$DEMO/bin/slipway-env" ] || tool=("$DEMO/bin/slipway-env")
  if [ -f "$DEMO/nginx/logs/nginx.pid" ]; then
    say "Stopping the demo's nginx..."
    "${tool[@]}" nginx-stop "$DEMO/nginx" || true
  fi
  if [ -f "$DEMO/postgres/postgres.json" ]; then
    say "Stopping the demo's PostgreSQL..."
    "${tool[@]}" pg-stop "$DEMO/postgres" || true
  fi
  local ids
  ids=$(docker ps -aq --filter "label=io.slipway.project=$PROJECT")
  if [ -n "$ids" ]; then
    say "Removing the containers of project $PROJECT..."
    # shellcheck disable=SC2086 # one id per word
    docker rm -f $ids >/dev/null
  fi
  for tag in "${TAGS[@]}"; do
    [ "${1:-}" != keep-images ] || break
    if docker image inspect "$DEMO_IMAGE:$tag" >/dev/null 2>&1; then
      say "Removing image $DEMO_IMAGE:$tag..."
      docker rmi -f "$DEMO_IMAGE:$tag" >/dev/null
    fi
  done
  if [ -e "$DEMO" ]; then
    say "Removing demo/..."
    rm -rf "$DEMO"
  fi
}

demo_images() {
  say "Building the demo images $DEMO_IMAGE:v1, :v2 and :v3 (FROM scratch, through the Docker API)..."
  note "v3 is the bad one: FAIL_RATE=0.07 answers 7% of its requests with 500"
  env_tool build-demo "$DEMO_IMAGE:v1"
  env_tool build-demo "$DEMO_IMAGE:v2"
  env_tool build-demo "$DEMO_IMAGE:v3" FAIL_RATE=0.07
}

demo_nginx() {
  NGINX_PORT=$(env_tool free-port)
  say "Starting a private nginx with its Lua module under demo/nginx (routes on port $NGINX_PORT)..."
  local vars
  vars=$(env_tool nginx-start -lua "$DEMO/nginx") ||
    die "could not start nginx" "run 'make deps' to install it and its Lua module"
  eval "$vars"
  NGINX_ADMIN_DIR=$DEMO/nginx-admin
  note "nginx master pid $NGINX_PID, conf $NGINX_CONF"
}

demo_postgres() {
  say "Starting a private PostgreSQL under demo/postgres..."
  local vars
  vars=$(env_tool pg-start "$DEMO/postgres") ||
    die "could not start PostgreSQL" "run 'make deps' to install PostgreSQL 15"
  eval "$vars"
  export DATABASE_URL
  note "DATABASE_URL points at it (slipway reads env(\"DATABASE_URL\"); the password never shows)"
}

demo_config() {
  say "Rendering demo/config/ from examples/demo/ (project, nginx, postgres, analysis; web blue-green)..."
  mkdir -p "$DEMO/config"
  render "$EXAMPLE/slipway.hcl.tmpl" "$DEMO/config/slipway.hcl"
  render "$EXAMPLE/web-blue-green.hcl.tmpl" "$DEMO/config/web.hcl"
  cp -R "$EXAMPLE/migrations" "$DEMO/config/migrations"
  cd "$DEMO/config"
  export PATH="$REPO/bin:$PATH"
  show ls migrations
  show slipway validate
}

demo_release_v1() {
  say "Planning release v1: a backup, the migration, then the web service..."
  show slipway plan
  say "Releasing v1 (blue)..."
  show slipway apply -auto-approve
  expect "version=v1 color=blue"
}

demo_blue_green_v2() {
  say "Releasing v2 blue-green (green starts beside blue, then nginx switches) under load..."
  load_start v2
  show slipway apply -auto-approve -var version=v2
  load_stop
  expect "version=v2 color=green"
  say "Status: both colors run, nginx routes to green..."
  show slipway status
}

demo_canary_v3() {
  say "Switching web to a canary for v3 (the change a team would review)..."
  render "$EXAMPLE/web-canary.hcl.tmpl" "$DEMO/config/web.hcl.new"
  diff -u --label web.hcl --label web.hcl "$DEMO/config/web.hcl" "$DEMO/config/web.hcl.new" | sed -n '/^@@/,$p' || true
  mv "$DEMO/config/web.hcl.new" "$DEMO/config/web.hcl"
  say "Releasing the bad v3 as a canary under load: analysis should fail it at 20% and roll back by itself (exit 2)..."
  load_start v3
  local rc=0
  show slipway apply -auto-approve -var version=v3 || rc=$?
  load_stop
  [ "$rc" -eq 2 ] || die "the canary of v3 exited $rc, want 2 (failed and rolled back)"
  note "exit $rc: failed after changes and rolled back; v2 serves again"
  expect "version=v2 color=green"
  say "The incident report slipway wrote for release #3..."
  show slipway show -incident 3
}

demo_rollback() {
  say "Rolling back by hand to v1 (blue is still running: one switch) under load..."
  load_start rollback
  show slipway rollback -auto-approve -m "demo: back to v1"
  load_stop
  expect "version=v1 color=blue"
  say "History of project $PROJECT..."
  show slipway history
}

demo_run() {
  trap on_exit EXIT
  need curl "apt-get install -y curl"
  [ -x "$REPO/bin/slipway" ] || die "bin/slipway is missing" "run 'make build' (or 'make demo')"
  demo_clean keep-images
  say "Building the demo's helpers into demo/bin..."
  build_tools
  demo_images
  demo_nginx
  demo_postgres
  demo_config
  demo_release_v1
  demo_blue_green_v2
  demo_canary_v3
  demo_rollback
  say "Done in ${SECONDS}s. nginx still serves http://127.0.0.1:$NGINX_PORT/; 'make demo-clean' removes everything the demo made."
}

case ${1:-run} in
run) demo_run ;;
clean) demo_clean ;;
*) die "unknown command '$1'" "use: $0 [run|clean]" ;;
esac
