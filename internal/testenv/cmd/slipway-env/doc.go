// Command slipway-env starts and stops the private services of
// internal/testenv from a shell, for the Makefile demo and manual testing.
//
//	slipway-env build-demo TAG [KEY=VALUE...]  build a FROM-scratch demoapp image
//	slipway-env remove-image TAG               remove an image (missing is fine)
//	slipway-env nginx-start [-lua] DIR         start a private nginx under DIR
//	slipway-env nginx-reload DIR               validate and reload it
//	slipway-env nginx-stop DIR                 stop it
//	slipway-env pg-start DIR                   start a private PostgreSQL 15
//	slipway-env pg-stop DIR                    stop it and remove its data
//	slipway-env free-port                      print a free 127.0.0.1 port
//
// The start commands print NAME=VALUE lines, shell-quoted where needed, for
// `eval "$(slipway-env pg-start demo/pg)"`: nginx-start prints NGINX_PREFIX,
// NGINX_CONF, NGINX_CONF_DIR, NGINX_ACCESS_LOG and NGINX_PID; pg-start
// prints DATABASE_URL (and keeps the server's description, password
// included, in DIR/postgres.json, mode 0600, for pg-stop).
//
// build-demo finds the repository from the current directory, or from
// SLIPWAY_REPO when set. Exit codes: 0 done, 1 failed, 2 usage error.
package main
