// Command demoapp is the tiny web application slipway's tests, demo and
// benchmarks deploy. It is a static, stdlib-only binary meant to run in a
// FROM-scratch image.
//
// It listens on :$PORT (default 8080) and serves:
//
//	/               200 "demoapp version=<VERSION> color=<COLOR>\n", header X-Demo-Version
//	/health         200 "ok", or 503 when FAIL_HEALTH is 1 or true
//	/metrics        Prometheus text format: demoapp_requests_total{code},
//	                demoapp_request_duration_seconds (histogram), demoapp_info
//	/ws             WebSocket echo (RFC 6455, text and binary messages)
//	/static/app.css a small embedded stylesheet
//	/env            the environment as KEY=VALUE lines, only when DEMO_LOG_ENV=1
//	                (404 otherwise); the same lines are printed at start
//
// Knobs, all from the environment:
//
//	VERSION, COLOR  reported by / (defaults "dev" and, for COLOR, SLIPWAY_COLOR
//	                as slipway sets it, else "none")
//	FAIL_RATE       fraction of requests to / answered with 500, from 0 to 1
//	                (resolution 1e-6). Deterministic and spread evenly: with
//	                0.07, any 100 consecutive requests hold exactly 7 failures.
//	LATENCY_MS      delay in milliseconds added to every request to /
//	FAIL_HEALTH     1 or true makes /health answer 503
//	DEMO_LOG_ENV    1 prints the environment at start and enables /env
//	DATABASE_URL    keeps one connection to this PostgreSQL database open (and
//	                reconnects when it is lost), as an app's pool would; /db
//	                answers 200 "connected" while it is up
//
// Metrics count every request except those to /health and /metrics, so that
// probes and scrapes do not dilute error rates.
//
// With -migrate, demoapp migrates DATABASE_URL as an app migrates itself
// (a demoapp_migrations table, one row per version) and exits.
//
// With -healthcheck, demoapp instead GETs http://127.0.0.1:$PORT/health and
// exits 0 on 200, 1 otherwise (for a Docker HEALTHCHECK).
//
// SIGTERM or SIGINT shuts the server down gracefully: in-flight requests get
// up to 10 seconds to finish, open WebSockets receive a 1001 close frame.
package main
