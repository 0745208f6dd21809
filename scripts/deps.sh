#!/usr/bin/env bash
# Makes sure what slipway's tests and demo drive is on this machine: a
# reachable Docker engine, nginx (with its Lua module), PostgreSQL 15 and
# Prometheus (for the prometheus analysis source's end-to-end test).
# Installs Debian's packages when they are missing and we run as root;
# otherwise says exactly what to install. Under CI=true anything missing
# fails the run.
set -euo pipefail

missing=()
have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }
have_lua() { ls /usr/lib/nginx/modules/ngx_http_lua_module.so >/dev/null 2>&1; }
have_pg() { [ -x /usr/lib/postgresql/15/bin/postgres ]; }
have_prom() { command -v prometheus >/dev/null 2>&1; }

pkgs=()
have_nginx || pkgs+=(nginx-light)
have_lua || pkgs+=(libnginx-mod-http-lua)
have_pg || pkgs+=(postgresql-15)
have_prom || pkgs+=(prometheus)

if [ ${#pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing ${pkgs[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    # The packages start system services; slipway's tests run private
    # instances and never use them, so leave the machine as it was.
    for s in nginx postgresql prometheus; do
      if command -v systemctl >/dev/null 2>&1; then systemctl stop "$s" >/dev/null 2>&1 || true; fi
      service "$s" stop >/dev/null 2>&1 || true
    done
  else
    echo "deps: missing ${pkgs[*]}; install them with: sudo apt-get install -y ${pkgs[*]}" >&2
    missing+=("${pkgs[@]}")
  fi
fi

if ! docker info >/dev/null 2>&1 && ! curl -s --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; then
  echo "deps: the Docker engine is not reachable (DOCKER_HOST or /var/run/docker.sock); start dockerd" >&2
  missing+=(docker)
fi

if [ ${#missing[@]} -gt 0 ] && [ "${CI:-}" = true ]; then
  echo "deps: CI=true and ${missing[*]} missing: failing rather than skipping" >&2
  exit 1
fi
exit 0
