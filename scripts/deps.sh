#!/usr/bin/env bash
# Makes sure every program slipway's tests and demo drive is on this machine.
#
#   scripts/deps.sh          install what is missing (as root, from Debian),
#                            or say exactly what to install
#   scripts/deps.sh --check  only report; exit 1 when anything is missing
#   scripts/deps.sh --list   print the component names, one per line
#
# The component names are the ones tests pass to testenv.Require (and the
# script tests' conditions); internal/testenv's TestDepsListsEveryComponent
# fails when a test requires a component this list does not hold. Under
# CI=true anything missing fails the run: CI never skips a test silently.
set -euo pipefail

# name|Debian package ("-" when it is not installed here)|check
components=(
  "docker|-|have_docker"
  "nginx|nginx-light|have_nginx"
  "nginx-lua|libnginx-mod-http-lua|have_lua"
  "postgres|postgresql-15|have_pg"
  "prometheus|prometheus|have_prom"
  "redis-server|redis-server|have_redis"
  "git|git|have_git"
  "curl|curl|have_curl"
  "runuser|util-linux|have_runuser"
  "pgrep|procps|have_pgrep"
)

have() { command -v "$1" >/dev/null 2>&1; }
have_docker() {
  docker info >/dev/null 2>&1 ||
    curl -s --max-time 5 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1
}
have_nginx() { have nginx || [ -x /usr/sbin/nginx ]; }
have_lua() { [ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ]; }
have_pg() { [ -x /usr/lib/postgresql/15/bin/postgres ] && [ -x /usr/lib/postgresql/15/bin/pg_dump ]; }
have_prom() { have prometheus; }
have_redis() { have redis-server; }
have_git() { have git; }
have_curl() { have curl; }
have_runuser() { have runuser; }
have_pgrep() { have pgrep; }

mode=install
case "${1:-}" in
  "") ;;
  --list)
    for c in "${components[@]}"; do echo "${c%%|*}"; done
    exit 0
    ;;
  --check) mode=check ;;
  *)
    echo "deps: unknown argument '$1'; use --list, --check or nothing" >&2
    exit 2
    ;;
esac

# missing_now prints "name|package" for each component whose check fails.
missing_now() {
  local c name rest pkg check
  for c in "${components[@]}"; do
    name=${c%%|*}
    rest=${c#*|}
    pkg=${rest%%|*}
    check=${rest#*|}
    "$check" || echo "$name|$pkg"
  done
}

mapfile -t missing < <(missing_now)
pkgs=()
for m in "${missing[@]}"; do
  pkg=${m#*|}
  [ "$pkg" = - ] || pkgs+=("$pkg")
done

if [ "$mode" = install ] && [ ${#pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "deps: installing ${pkgs[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' own system services from starting: slipway's
    # tests run private instances and never use them. A policy-rc.d the
    # machine already has is left as it is; one made here is removed.
    rc=/usr/sbin/policy-rc.d
    made_rc=""
    if [ ! -e "$rc" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$rc"
      chmod 0755 "$rc"
      made_rc=1
    fi
    status=0
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; } || status=$?
    if [ -n "$made_rc" ]; then rm -f "$rc"; fi
    if [ $status -ne 0 ]; then
      echo "deps: apt-get install ${pkgs[*]} failed (exit $status)" >&2
      exit 1
    fi
    mapfile -t missing < <(missing_now)
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  names=()
  pkgs=()
  for m in "${missing[@]}"; do
    names+=("${m%%|*}")
    pkg=${m#*|}
    [ "$pkg" = - ] || pkgs+=("$pkg")
  done
  echo "deps: missing: ${names[*]}" >&2
  if [ ${#pkgs[@]} -gt 0 ]; then
    echo "deps: install them with: sudo apt-get install -y ${pkgs[*]}" >&2
  fi
  for n in "${names[@]}"; do
    if [ "$n" = docker ]; then
      echo "deps: the Docker engine is not reachable (DOCKER_HOST or /var/run/docker.sock): start dockerd" >&2
    fi
  done
  if [ "${CI:-}" = true ] || [ "$mode" = check ]; then
    echo "deps: ${names[*]} missing: failing rather than skipping tests" >&2
    exit 1
  fi
fi
exit 0
