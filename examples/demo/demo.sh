#!/usr/bin/env bash
# slipway's demo: release v1 of a tiny web app behind a private nginx, move to
# v2 blue-green while a load runs through nginx, roll back, and show status and
# history. Everything it makes lives under ./demo/ (config, state, nginx), in
# containers labelled io.slipway.project=demo, and in the demo images.
#
#   examples/demo/demo.sh run     clean up any earlier run, then run the demo
#   examples/demo/demo.sh clean   stop nginx, remove the containers and ./demo
#
# `make demo` runs `deps` and `build` first; run this script directly only
# when bin/slipway is built and nginx is installed.
#
# Environment (all optional):
#   GO               the go command (default: go)
#   DEMO_IMAGE       image repository for the demo app (default: slipway-demo)
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
DEMO_IMAGE=${DEMO_IMAGE:-slipway-demo}
DEMO_LOAD_RATE=${DEMO_LOAD_RATE:-200}
DEMO_LOAD_MODE=${DEMO_LOAD_MODE:-retrying}
DEMO_LOAD_TOOL=${DEMO_LOAD_TOOL:-auto}
case $DEMO_LOAD_TOOL in auto | curl) ;; *) echo "demo: error: DEMO_LOAD_TOOL=$DEMO_LOAD_TOOL: want auto or curl" >&2; exit 1 ;; esac
TEMPLATE=$REPO/examples/demo/slipway.hcl.tmpl
# Names the template may use; render refuses a template with any other.
TEMPLATE_VARS=(PROJECT DEMO_IMAGE NGINX_PORT NGINX_PREFIX NGINX_CONF NGINX_CONF_DIR NGINX_ACCESS_LOG)

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
demo_clean() {
  need docker "install the Docker CLI (Debian: apt-get install -y docker.io)"
  if [ -f "$DEMO/nginx/logs/nginx.pid" ]; then
    say "Stopping the demo's nginx..."
    if [ -x "$DEMO/bin/slipway-env" ]; then
      env_tool nginx-stop "$DEMO/nginx" || true
    else
      "$GO" run ./internal/testenv/cmd/slipway-env nginx-stop "$DEMO/nginx" || true
    fi
  fi
  local ids
  ids=$(docker ps -aq --filter "label=io.slipway.project=$PROJECT")
  if [ -n "$ids" ]; then
    say "Removing the containers of project $PROJECT..."
    # shellcheck disable=SC2086 # one id per word
    docker rm -f $ids >/dev/null
  fi
  for tag in v1 v2; do
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
  say "Building the demo images $DEMO_IMAGE:v1 and $DEMO_IMAGE:v2 (FROM scratch, through the Docker API)..."
  env_tool build-demo "$DEMO_IMAGE:v1"
  env_tool build-demo "$DEMO_IMAGE:v2"
}

demo_nginx() {
  NGINX_PORT=$(env_tool free-port)
  say "Starting a private nginx under demo/nginx (routes on port $NGINX_PORT)..."
  local vars
  vars=$(env_tool nginx-start "$DEMO/nginx") ||
    die "could not start nginx" "run 'make deps' to install it"
  eval "$vars"
  note "nginx master pid $NGINX_PID, conf $NGINX_CONF"
}

demo_config() {
  say "Rendering demo/config/slipway.hcl from examples/demo/slipway.hcl.tmpl..."
  mkdir -p "$DEMO/config"
  render "$TEMPLATE" "$DEMO/config/slipway.hcl"
  cd "$DEMO/config"
  export PATH="$REPO/bin:$PATH"
  show slipway validate
}

demo_release_v1() {
  say "Planning release v1..."
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

demo_rollback() {
  say "Rolling back to v1 (blue is still running: one switch) under load..."
  load_start rollback
  show slipway rollback -auto-approve -m "demo: back to v1"
  load_stop
  expect "version=v1 color=blue"
  say "The configuration still says v1, so there is nothing left to do..."
  show slipway plan
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
  demo_config
  demo_release_v1
  demo_blue_green_v2
  demo_rollback
  say "Done in ${SECONDS}s. nginx still serves http://127.0.0.1:$NGINX_PORT/; 'make demo-clean' removes everything the demo made."
}

case ${1:-run} in
run) demo_run ;;
clean) demo_clean ;;
*) die "unknown command '$1'" "use: $0 [run|clean]" ;;
esac
