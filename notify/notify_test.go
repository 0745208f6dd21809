package notify

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/state/records"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// rolledBack is the event of a canary apply that was rolled back.
func rolledBack() Event {
	return Event{Type: EventRolledBack, Project: "thebot", Env: "staging", Release: 43, PriorRelease: 42,
		Operation: "apply", Who: "deploy@host", Time: t0, Summary: "error rate 9.00% > 5% at step 3 <candidate>",
		Error: "analysis of service.backend failed", Record: "/srv/.slipway/records/20250304T050607Z-r43-apply.md"}
}

// receiver is a local webhook that records what it gets and answers
// with the statuses in replies (200 once they run out).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []request
	replies []int
	body    string // sent with a non-2xx reply
}

type request struct {
	method, path, contentType, body string
}

func newReceiver(t *testing.T, replies ...int) *receiver {
	r := &receiver{replies: replies}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, request{req.Method, req.URL.Path, req.Header.Get("Content-Type"), string(body)})
		status := http.StatusOK
		if len(r.replies) > 0 {
			status, r.replies = r.replies[0], r.replies[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		if status >= 300 {
			io.WriteString(w, r.body)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// sleeps records the waits asked of the Sleep hook, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
}

func hook(name, url, format string, on ...string) *config.Notify {
	return &config.Notify{Name: name, Webhook: config.Secret{Value: url, Sensitive: true}, On: on, Format: format}
}

func TestPayloads(t *testing.T) {
	recv := newReceiver(t)
	n := New([]*config.Notify{
		hook("incidents", recv.URL+"/json", "json", "failed", "rolled_back"),
		hook("chat", recv.URL+"/slack", "slack"),
	}, Options{})
	if w := n.Send(context.Background(), rolledBack()); w != nil {
		t.Fatalf("warnings %q", w)
	}
	got := recv.requests()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	byPath := map[string]request{}
	for _, r := range got {
		if r.method != http.MethodPost || r.contentType != "application/json" {
			t.Errorf("%s: %s with Content-Type %q, want a JSON POST", r.path, r.method, r.contentType)
		}
		byPath[r.path] = r
	}
	wantJSON := `{"format_version":"1","event":"rolled_back","project":"thebot","env":"staging","release":43,"prior_release":42,` +
		`"operation":"apply","who":"deploy@host","time":"2025-03-04T05:06:07Z","summary":"error rate 9.00% > 5% at step 3 <candidate>",` +
		`"error":"analysis of service.backend failed","record":"/srv/.slipway/records/20250304T050607Z-r43-apply.md",` +
		`"text":"slipway thebot (staging): apply of release #43 failed and was rolled back to release #42 (by deploy@host)\n` +
		`error rate 9.00% > 5% at step 3 <candidate>\nError: analysis of service.backend failed\n` +
		`Record: /srv/.slipway/records/20250304T050607Z-r43-apply.md"}`
	if b := byPath["/json"].body; b != wantJSON {
		t.Errorf("JSON payload\n got %s\nwant %s", b, wantJSON)
	}
	wantSlack := `{"text":"slipway thebot (staging): apply of release #43 failed and was rolled back to release #42 (by deploy@host)\n` +
		`error rate 9.00% &gt; 5% at step 3 &lt;candidate&gt;\nError: analysis of service.backend failed\n` +
		`Record: /srv/.slipway/records/20250304T050607Z-r43-apply.md"}`
	if b := byPath["/slack"].body; b != wantSlack {
		t.Errorf("slack payload\n got %s\nwant %s", b, wantSlack)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		e    Event
		want string
	}{
		{"started", Event{Type: EventStarted, Project: "p", Operation: "apply", Release: 2, PriorRelease: 1},
			"slipway p (default): apply of release #2 started (release #1 live)"},
		{"paused", Event{Type: EventPaused, Project: "p", Operation: "apply", Release: 2, Who: "me"},
			"slipway p (default): apply of release #2 paused at an approval gate (by me)"},
		{"manual rollback", Event{Type: EventRolledBack, Project: "p", Env: "prod", Operation: "rollback", Release: 1, PriorRelease: 2, Summary: "succeeded"},
			"slipway p (prod): rollback from release #2 to release #1 done\nsucceeded"},
		{"failed", Event{Type: EventFailed, Project: "p", Operation: "apply", Release: 2, Error: "boom"},
			"slipway p (default): apply of release #2 failed\nError: boom"},
		{"aborted", Event{Type: EventAborted, Project: "p", Operation: "abort", Release: 2, PriorRelease: 1},
			"slipway p (default): abort of release #2 aborted; release #1 serves"},
		{"degraded", Event{Type: EventDegraded, Project: "p", Operation: "watch", Release: 3, PriorRelease: 3,
			Summary: "service.web: 1 of 2 replicas healthy", Details: []string{"p-web-r3-2 restarting (exit code 1, restarted 4 times)", "  demoapp: error: boom"}},
			"slipway p (default): release #3 is degraded\nservice.web: 1 of 2 replicas healthy\np-web-r3-2 restarting (exit code 1, restarted 4 times)\n  demoapp: error: boom"},
		{"recovered", Event{Type: EventRecovered, Project: "p", Operation: "watch", Release: 3, Summary: "service.web: 2 of 2 replicas healthy"},
			"slipway p (default): release #3 serves with every replica again\nservice.web: 2 of 2 replicas healthy"},
	}
	for _, tt := range tests {
		if got := Text(tt.e); got != tt.want {
			t.Errorf("%s: Text =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
	b, err := Payload("json", Event{Type: EventDegraded, Project: "p", Release: 3, Time: t0, Details: []string{"a", "b"}})
	if err != nil || !strings.Contains(string(b), `"event":"degraded"`) || !strings.Contains(string(b), `"details":["a","b"]`) {
		t.Errorf("degraded payload %s, %v: want the event and its details", b, err)
	}
	if b, _ := Payload("json", rolledBack()); strings.Contains(string(b), "details") {
		t.Errorf("payload without details has the field: %s", b)
	}
	if _, err := Payload("xml", rolledBack()); err == nil {
		t.Error("Payload accepted an unknown format")
	}
}

func TestOnFilters(t *testing.T) {
	tests := []struct {
		on    []string
		event string
		sent  bool
	}{
		{[]string{"failed", "rolled_back"}, EventFailed, true},
		{[]string{"failed", "rolled_back"}, EventRolledBack, true},
		{[]string{"failed", "rolled_back"}, EventSucceeded, false},
		{[]string{"failed", "rolled_back"}, EventStarted, false},
		{[]string{"paused"}, EventPaused, true},
		{nil, EventStarted, true}, // no list: every event
	}
	for _, tt := range tests {
		recv := newReceiver(t)
		e := rolledBack()
		e.Type = tt.event
		New([]*config.Notify{hook("n", recv.URL, "json", tt.on...)}, Options{}).Send(context.Background(), e)
		if got := len(recv.requests()) == 1; got != tt.sent {
			t.Errorf("on %v, event %s: sent %v, want %v", tt.on, tt.event, got, tt.sent)
		}
	}
}

// downURL is the URL of a receiver that no longer listens.
func downURL(t *testing.T, path string) string {
	s := httptest.NewServer(http.NotFoundHandler())
	u := s.URL + path
	s.Close()
	return u
}

func TestFailuresGiveWarnings(t *testing.T) {
	const secretPath = "/services/T000/B000/XXXXSECRETXXXX"
	tests := []struct {
		name    string
		url     func(t *testing.T) string
		opts    Options
		want    string
		tries   int
		backoff []time.Duration
	}{
		{
			name:    "receiver down",
			url:     func(t *testing.T) string { return downURL(t, secretPath) },
			want:    `notify "incidents": POST failed after 3 tries: connection refused`,
			backoff: []time.Duration{500 * time.Millisecond, time.Second},
		},
		{
			name: "server errors until the tries run out, body echoing the URL",
			url: func(t *testing.T) string {
				recv := newReceiver(t, 500, 503, 502, 500)
				recv.body = "no route for " + recv.URL + secretPath + "\nstack..."
				return recv.URL + secretPath
			},
			opts:    Options{Retries: 4, Backoff: time.Second},
			want:    `notify "incidents": POST failed after 4 tries: status 500 Internal Server Error: no route for <webhook>`,
			tries:   4,
			backoff: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name: "refused for good: no retry",
			url: func(t *testing.T) string {
				recv := newReceiver(t, 404)
				recv.body = "no_service"
				return recv.URL + secretPath
			},
			want:  `notify "incidents": POST failed after 1 try: status 404 Not Found: no_service`,
			tries: 1,
		},
		{
			name: "redirect not followed",
			url: func(t *testing.T) string {
				s := httptest.NewServer(http.RedirectHandler("/elsewhere"+secretPath, http.StatusFound))
				t.Cleanup(s.Close)
				return s.URL + secretPath
			},
			want: `notify "incidents": POST failed after 1 try: status 302 Found: redirects are not followed`,
		},
		{
			name: "timeout",
			url: func(t *testing.T) string {
				release := make(chan struct{})
				s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-release:
					}
				}))
				t.Cleanup(func() { close(release); s.Close() })
				return s.URL + secretPath
			},
			opts:    Options{Timeout: 20 * time.Millisecond, Retries: 2},
			want:    `notify "incidents": POST failed after 2 tries: timed out after 20ms`,
			backoff: []time.Duration{500 * time.Millisecond},
		},
		{
			name: "not a URL",
			url:  func(*testing.T) string { return "hooks.example.com" + secretPath },
			want: `notify "incidents": the webhook is not an http(s) URL (not shown: it is secret)`,
		},
		{
			name: "unknown host",
			url:  func(*testing.T) string { return "http://secret-host.example" + secretPath },
			// No real lookup: the dialer says what a resolver would.
			opts: Options{Retries: 1, Client: &http.Client{Transport: &http.Transport{
				DialContext: func(context.Context, string, string) (net.Conn, error) {
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "secret-host.example", IsNotFound: true}}
				},
			}}},
			want: `notify "incidents": POST failed after 1 try: host not found`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url(t)
			var sl sleeps
			tt.opts.Sleep = sl.sleep
			w := New([]*config.Notify{hook("incidents", u, "json")}, tt.opts).Send(context.Background(), rolledBack())
			if len(w) != 1 || w[0] != tt.want {
				t.Fatalf("warnings %q\nwant [%q]", w, tt.want)
			}
			for _, part := range []string{u, secretPath, strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")} {
				if strings.Contains(w[0], part) || strings.Contains(w[0], "SECRET") {
					t.Errorf("warning reveals the webhook URL (%q): %s", part, w[0])
				}
			}
			if !reflect.DeepEqual(sl.d, tt.backoff) {
				t.Errorf("waits %v, want %v", sl.d, tt.backoff)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	recv := newReceiver(t, 503, 429)
	var sl sleeps
	w := New([]*config.Notify{hook("n", recv.URL, "slack")}, Options{Sleep: sl.sleep}).Send(context.Background(), rolledBack())
	if w != nil {
		t.Fatalf("warnings %q", w)
	}
	if got := recv.requests(); len(got) != 3 || got[0].body != got[2].body {
		t.Fatalf("receiver got %d requests, want 3 identical ones", len(got))
	}
}

func TestWarningsInConfigOrder(t *testing.T) {
	recv := newReceiver(t)
	var sl sleeps
	n := New([]*config.Notify{
		hook("first", downURL(t, "/a"), "json"),
		nil,
		hook("ok", recv.URL, "json"),
		hook("second", downURL(t, "/b"), "slack"),
	}, Options{Retries: 2, Sleep: sl.sleep})
	w := n.Send(context.Background(), rolledBack())
	want := []string{
		`notify "first": POST failed after 2 tries: connection refused`,
		`notify "second": POST failed after 2 tries: connection refused`,
	}
	if !reflect.DeepEqual(w, want) {
		t.Fatalf("warnings %q\nwant %q", w, want)
	}
	if len(recv.requests()) != 1 {
		t.Fatal("the working webhook was not told")
	}
}

func TestCancelled(t *testing.T) {
	recv := newReceiver(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := New([]*config.Notify{hook("n", recv.URL, "json")}, Options{}).Send(ctx, rolledBack())
	if len(w) != 1 || w[0] != `notify "n": not sent: cancelled` {
		t.Fatalf("warnings %q", w)
	}
	var nilNotifier *Notifier
	if w := nilNotifier.Send(context.Background(), rolledBack()); w != nil {
		t.Fatalf("nil notifier: %q", w)
	}
}

// roundTripper answers every request itself.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDefaultSleepEndsWithContext(t *testing.T) {
	// A real backoff of an hour must not hold a cancelled send.
	answered := make(chan struct{}, 1)
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		defer func() { answered <- struct{}{} }()
		return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})}
	ctx, cancel := context.WithCancel(context.Background())
	n := New([]*config.Notify{hook("n", "http://127.0.0.1:9/hook", "json")}, Options{Client: client, Backoff: time.Hour})
	done := make(chan []string)
	go func() { done <- n.Send(ctx, rolledBack()) }()
	<-answered
	cancel()
	w := <-done
	if len(w) != 1 || w[0] != `notify "n": POST failed after 1 try: status 503 Service Unavailable` {
		t.Fatalf("warnings %q", w)
	}
}

func TestEventFor(t *testing.T) {
	end := t0.Add(time.Minute)
	tests := []struct {
		op, result string
		want       string
	}{
		{records.OpApply, records.ResultRunning, EventStarted},
		{records.OpPromote, records.ResultRunning, EventPromoted},
		{records.OpApply, records.ResultPaused, EventPaused},
		{records.OpApply, records.ResultSucceeded, EventSucceeded},
		{records.OpPromote, records.ResultSucceeded, EventSucceeded},
		{records.OpRollback, records.ResultSucceeded, EventRolledBack},
		{records.OpAbort, records.ResultSucceeded, EventAborted},
		{records.OpApply, records.ResultRolledBack, EventRolledBack},
		{records.OpRollback, records.ResultRolledBack, EventFailed},
		{records.OpApply, records.ResultFailed, EventFailed},
		{records.OpApply, records.ResultNeedsIntervention, EventFailed},
	}
	for _, tt := range tests {
		r := &records.Record{Operation: tt.op, Project: "p", Env: "e", Release: 3, PriorRelease: 2, Who: "me",
			Started: t0, Result: tt.result}
		if tt.result != records.ResultRunning {
			r.Ended = end
		}
		e := EventFor(r, "rec.md")
		if e.Type != tt.want {
			t.Errorf("%s %s: event %q, want %q", tt.op, tt.result, e.Type, tt.want)
		}
		if e.Project != "p" || e.Env != "e" || e.Release != 3 || e.PriorRelease != 2 || e.Who != "me" || e.Operation != tt.op || e.Record != "rec.md" {
			t.Errorf("%s %s: event %+v lacks the record's fields", tt.op, tt.result, e)
		}
		if wantTime := map[bool]time.Time{true: t0, false: end}[tt.result == records.ResultRunning]; !e.Time.Equal(wantTime) {
			t.Errorf("%s %s: time %v, want %v", tt.op, tt.result, e.Time, wantTime)
		}
	}
	r := &records.Record{Operation: records.OpApply, Release: 43, PriorRelease: 42, Started: t0, Result: records.ResultNeedsIntervention,
		Error: "boom", Steps: []records.StepRecord{{Index: 1, ID: "health.web", Kind: "health", Target: "service.web", Outcome: records.OutcomeFailed, Error: "deadline exceeded"}}}
	want := `failed and could not restore release #42: manual intervention needed. Trigger: step 1 "health.web" (health service.web) failed: deadline exceeded`
	if e := EventFor(r, ""); e.Summary != want || e.Error != "boom" {
		t.Errorf("summary %q error %q\nwant %q", e.Summary, e.Error, want)
	}
}

// TestSendRecordWarnsInRecord is the acceptance case: the receiver is
// down, the release still succeeds, and the written record carries the
// warning but never the URL.
func TestSendRecordWarnsInRecord(t *testing.T) {
	u := downURL(t, "/hooks/T0/SECRETTOKEN")
	var sl sleeps
	n := New([]*config.Notify{hook("incidents", u, "json", "succeeded")}, Options{Sleep: sl.sleep})
	r := &records.Record{ID: "r1", Operation: records.OpApply, Project: "p", Release: 1, Started: t0, Ended: t0.Add(time.Second),
		Result: records.ResultSucceeded, Warnings: []string{"earlier"}}
	dir := t.TempDir()
	_, md, err := records.Write(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	w := n.SendRecord(context.Background(), r, md)
	want := `notify "incidents": POST failed after 3 tries: connection refused`
	if len(w) != 1 || w[0] != want {
		t.Fatalf("warnings %q", w)
	}
	if r.Result != records.ResultSucceeded || !reflect.DeepEqual(r.Warnings, []string{"earlier", want}) {
		t.Fatalf("record result %q warnings %q", r.Result, r.Warnings)
	}
	jsonPath, _, err := records.Write(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := records.Load(jsonPath)
	if err != nil || !reflect.DeepEqual(back.Warnings, r.Warnings) {
		t.Fatalf("loaded warnings %q, %v", back.Warnings, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), "SECRETTOKEN") || strings.Contains(string(data), strings.TrimPrefix(u, "http://")) {
			t.Errorf("%s reveals the webhook URL", f)
		}
		if !strings.Contains(string(data), "POST failed after 3 tries") {
			t.Errorf("%s lacks the warning", f)
		}
	}
}
