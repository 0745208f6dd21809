package checks

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			fmt.Fprint(w, `{"status":"ok","version":"1.3.0"}`)
		case "/created":
			if r.Method != http.MethodPost {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, "got %s", b)
		case "/auth":
			if r.Header.Get("X-Token") != "let-me-in" || r.Host != "api.example.com" {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			fmt.Fprint(w, "welcome")
		case "/slow":
			time.Sleep(300 * time.Millisecond)
			fmt.Fprint(w, "late")
		case "/redirect":
			http.Redirect(w, r, "/health", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	u := srv.URL
	tests := []struct {
		name   string
		attrs  []any
		status string
		err    string
	}{
		{"default status", []any{"url", str(u + "/health")}, StatusPass, ""},
		{"404 fails by default", []any{"url", str(u + "/missing")}, StatusFail, "status 404, want 2xx or 3xx"},
		{"expected 404", []any{"url", str(u + "/missing"), "status", num(404)}, StatusPass, ""},
		{"status list", []any{"url", str(u + "/health"), "status", list(num(201), num(204))}, StatusFail, "status 200, want 201 or 204"},
		{"redirect followed", []any{"url", str(u + "/redirect"), "status", num(200), "body_contains", str(`"ok"`)}, StatusPass, ""},
		{"body contains", []any{"url", str(u + "/health"), "body_contains", str(`"version":"1.3.0"`)}, StatusPass, ""},
		{"body lacks", []any{"url", str(u + "/health"), "body_contains", str("1.4.0")}, StatusFail, `body does not contain "1.4.0"`},
		{"body regex", []any{"url", str(u + "/health"), "body_regex", str(`"version":"1\.\d+\.\d+"`)}, StatusPass, ""},
		{"body regex misses", []any{"url", str(u + "/health"), "body_regex", str(`^\d+$`)}, StatusFail, "body does not match"},
		{"method and body", []any{"url", str(u + "/created"), "method", str("post"), "body", str("ping"), "status", num(201), "body_contains", str("got ping")}, StatusPass, ""},
		{"headers and host", []any{"url", str(u + "/auth"), "headers", obj("X-Token", str("let-me-in"), "Host", str("api.example.com"))}, StatusPass, ""},
		{"missing header", []any{"url", str(u + "/auth")}, StatusFail, "status 403"},
		{"over max latency", []any{"url", str(u + "/slow"), "max_latency", str("50ms")}, StatusFail, "over max_latency 50ms"},
		{"within max latency", []any{"url", str(u + "/slow"), "max_latency", str("5s")}, StatusPass, ""},
		{"refused", []any{"url", str("http://127.0.0.1:1/")}, StatusFail, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "http", tt.attrs...), Env{})
			want(t, r, tt.status, tt.err)
			if tt.err != "connection refused" && !strings.Contains(r.Evidence, " -> ") {
				t.Errorf("evidence %q lacks the answer", r.Evidence)
			}
		})
	}
}

func TestHTTPEvidenceShowsBodyOnFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		fmt.Fprint(w, "database   unavailable\n"+strings.Repeat("x", 500))
	}))
	defer srv.Close()
	r := run1(t, ck("h", "http", "url", str(srv.URL)), Env{})
	want(t, r, StatusFail, "status 503")
	if !strings.Contains(r.Evidence, `body: "database unavailable xxx`) || !strings.HasSuffix(r.Evidence, `..."`) {
		t.Errorf("evidence %q lacks a one-line, cut body snippet", r.Evidence)
	}
}

// The demo application's WebSocket echo and static files, as a deployed
// release serves them.
func TestDemoAppWebSocketAndStatic(t *testing.T) {
	base := startDemoApp(t)
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	tests := []struct {
		name   string
		kind   string
		attrs  []any
		status string
		err    string
	}{
		{"ws handshake", "websocket", []any{"url", str(ws)}, StatusPass, ""},
		{"ws handshake over http url", "websocket", []any{"url", str(base + "/ws")}, StatusPass, ""},
		{"ws echo", "websocket", []any{"url", str(ws), "send", str("hello slipway")}, StatusPass, ""},
		{"ws long echo", "websocket", []any{"url", str(ws), "send", str(strings.Repeat("ab", 40000))}, StatusPass, ""},
		{"ws expect", "websocket", []any{"url", str(ws), "send", str("ping 42"), "expect", str("42")}, StatusPass, ""},
		{"ws expect misses", "websocket", []any{"url", str(ws), "send", str("ping 42"), "expect", str("pong")}, StatusFail, `answer does not contain "pong"`},
		{"ws not a websocket", "websocket", []any{"url", str(base + "/health")}, StatusFail, "want 101 Switching Protocols"},
		{"static css", "static", []any{"url", str(base + "/static/app.css"), "content_type", str("text/css")}, StatusPass, ""},
		{"static wrong type", "static", []any{"url", str(base + "/static/app.css"), "content_type", str("application/javascript")}, StatusFail, `want "application/javascript"`},
		{"static missing", "static", []any{"url", str(base + "/static/nope.js")}, StatusFail, "status 404, want 200"},
		{"http root", "http", []any{"url", str(base + "/"), "body_contains", str("version=checks")}, StatusPass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, tt.kind, tt.attrs...), Env{})
			want(t, r, tt.status, tt.err)
		})
	}
}

func TestWebSocketAgainstPlainServer(t *testing.T) {
	// A server that answers 101 with a wrong accept key is not a WebSocket.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Sec-WebSocket-Accept", "wrong")
		w.WriteHeader(http.StatusSwitchingProtocols)
	}))
	defer srv.Close()
	r := run1(t, ck("w", "websocket", "url", str(srv.URL+"/ws")), Env{})
	want(t, r, StatusFail, "Sec-WebSocket-Accept")
}

func TestStaticNeedsBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}))
	defer srv.Close()
	r := run1(t, ck("s", "static", "url", str(srv.URL+"/a.css"), "content_type", str("text/css")), Env{})
	want(t, r, StatusFail, "empty body")
}
