package checks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/zclconf/go-cty/cty"
)

func TestSelect(t *testing.T) {
	cfg := &config.Config{Checks: []*config.Check{
		{Name: "a", Phase: "pre"},
		{Name: "b", Phase: "post", Tags: []string{"api"}},
		{Name: "c", Phase: "pre", Tags: []string{"slow"}},
		{Name: "d", Phase: "preview"},
		{Name: "e", Phase: "", Tags: []string{"db", "api"}},
	}}
	tests := []struct {
		phase string
		skip  []string
		quick bool
		want  []string
	}{
		{"pre", nil, false, []string{"a", "c", "e"}},
		{"post", nil, false, []string{"b"}},
		{"preview", nil, false, []string{"d"}},
		{"", nil, false, []string{"a", "b", "c", "d", "e"}},
		{"all", []string{"api"}, false, []string{"a", "c", "d"}},
		{"pre", nil, true, []string{"a", "e"}},
		{"pre", []string{"db"}, true, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v/%v", tt.phase, tt.skip, tt.quick), func(t *testing.T) {
			var got []string
			for _, c := range Select(cfg, tt.phase, tt.skip, tt.quick) {
				got = append(got, c.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Select = %v, want %v", got, tt.want)
			}
		})
	}
	if got := Select(nil, "pre", nil, false); got != nil {
		t.Errorf("Select(nil) = %v", got)
	}
}

func TestExitCode(t *testing.T) {
	pass := Result{Status: StatusPass, Severity: "critical"}
	skip := Result{Status: StatusSkip, Severity: "critical"}
	warn := Result{Status: StatusFail, Severity: "warning"}
	crit := Result{Status: StatusFail, Severity: "critical"}
	tests := []struct {
		name    string
		results []Result
		strict  bool
		want    int
	}{
		{"none", nil, false, 0},
		{"all pass", []Result{pass, pass, skip}, false, 0},
		{"all pass strict", []Result{pass, skip}, true, 0},
		{"warning fails", []Result{pass, warn}, false, 1},
		{"warning fails strict", []Result{pass, warn}, true, 2},
		{"critical fails", []Result{warn, crit, pass}, false, 2},
		{"critical first", []Result{crit, warn}, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.results, tt.strict); got != tt.want {
				t.Errorf("ExitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		check *config.Check
		want  []string // substrings of the error; none: valid
	}{
		{"http ok", ck("h", "http", "url", str("http://127.0.0.1/"), "status", list(num(200), num(204)), "timeout", str("2s")), nil},
		{"http candidate", ck("h", "http", "url", str(CandidateURL+"/health")), nil},
		{"http missing url", ck("h", "http"), []string{"http.url is required"}},
		{"http bad scheme", ck("h", "http", "url", str("ftp://x/")), []string{"must start with http:// or https://"}},
		{"http unknown attribute", ck("h", "http", "url", str("http://x/"), "statuss", num(200)), []string{`no attribute "statuss"`, "valid: body, body_contains"}},
		{"http bad status", ck("h", "http", "url", str("http://x/"), "status", num(42)), []string{"not an HTTP status"}},
		{"http bad regexp", ck("h", "http", "url", str("http://x/"), "body_regex", str("(")), []string{"not a valid regular expression"}},
		{"bad timeout", ck("t", "tcp", "address", str("127.0.0.1:1"), "timeout", str("soon")), []string{`tcp.timeout must be a duration`}},
		{"tcp bad address", ck("t", "tcp", "address", str("localhost")), []string{"must be host:port"}},
		{"command argv type", ck("c", "command", "argv", num(3)), []string{"command.argv must be a list of strings"}},
		{"command empty argv", ck("c", "command", "argv", cty.EmptyTupleVal), []string{"must name a program"}},
		{"env no names", ck("e", "env"), []string{"env.names is required"}},
		{"tls neither", ck("t", "tls"), []string{"tls.address or cert_file is required"}},
		{"tls both", ck("t", "tls", "address", str("a:1"), "cert_file", str("c.pem")), []string{"cannot be set together"}},
		{"disk bad size", ck("d", "disk", "min_free", str("lots")), []string{"must be a size"}},
		{"disk bad unit", ck("d", "disk", "min_free", str("3 parsecs")), []string{"unknown unit"}},
		{"memory percent over 100", ck("m", "memory", "max_used", str("120%")), []string{"from 0% to 100%"}},
		{"nginx takes nothing", ck("n", "nginx", "conf", str("x")), []string{`nginx checks take no attribute "conf" (only timeout)`}},
		{"assert not bool", ck("a", "assert", "condition", str("yes"), "error_message", str("m")), []string{"must be true or false"}},
		{"assert ok", ck("a", "assert", "condition", cty.True, "error_message", str("m")), nil},
		{"websocket expect without send", ck("w", "websocket", "url", str("ws://x/ws"), "expect", str("e")), []string{"needs send"}},
		{"git bool", ck("g", "git", "clean", str("yes")), []string{"git.clean must be true or false"}},
		{"unknown kind", ck("x", "smtp"), []string{`unknown check kind "smtp"`}},
		{"several at once", ck("h", "http", "method", list(), "max_latency", str("-1s")), []string{"http.url is required", "http.method must be a string", "http.max_latency must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.check)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("check %q: ", tt.check.Name)) {
				t.Errorf("error %q does not name the check", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAttributesEveryKind(t *testing.T) {
	for _, k := range config.CheckKinds() {
		names := Attributes(k)
		if names == nil {
			t.Errorf("Attributes(%q) = nil: kind not supported", k)
		}
		found := false
		for _, n := range names {
			found = found || n == "timeout"
		}
		if !found {
			t.Errorf("Attributes(%q) lacks timeout", k)
		}
	}
	if Attributes("smtp") != nil {
		t.Error("Attributes of an unknown kind is not nil")
	}
}

func TestInvalidCheckFailsWhenRun(t *testing.T) {
	r := run1(t, ck("typo", "http", "url", str("http://127.0.0.1:1/"), "bodycontains", str("x")), Env{})
	want(t, r, StatusFail, `http checks take no attribute "bodycontains"`)
}

func TestRunKeepsOrderAndBoundsParallelism(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		inFlight.Add(-1)
		if r.URL.Path == "/bad" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	var cks []*config.Check
	for i := range 9 {
		path := "/ok"
		if i%3 == 0 {
			path = "/bad"
		}
		cks = append(cks, ck(fmt.Sprintf("c%d", i), "http", "url", str(srv.URL+path)))
	}
	rs := Run(context.Background(), cks, Env{Parallel: 2})
	for i, r := range rs {
		if r.Name != cks[i].Name {
			t.Fatalf("result %d is %q, want %q", i, r.Name, cks[i].Name)
		}
		wantStatus := StatusPass
		if i%3 == 0 {
			wantStatus = StatusFail
		}
		if r.Status != wantStatus {
			t.Errorf("%s: %s, want %s (%s)", r.Name, r.Status, wantStatus, r.Err)
		}
		if r.Kind != "http" || r.Phase != "pre" || r.Severity != "critical" || r.Duration <= 0 {
			t.Errorf("%s: incomplete result %+v", r.Name, r)
		}
	}
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak concurrency %d, want at most 2", p)
	}
}

func TestRunTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	r := run1(t, ck("slow", "http", "url", str(srv.URL), "timeout", str("100ms")), Env{})
	want(t, r, StatusFail, "timed out after 100ms")
}

func TestRunCancelled(t *testing.T) {
	rs := Run(ctxDone(), []*config.Check{ck("t", "tcp", "address", str("127.0.0.1:1"))}, Env{})
	if rs[0].Status != StatusFail {
		t.Errorf("cancelled check: %s", rs[0].Status)
	}
}

func TestCandidatePlaceholder(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Store(r.URL.Path) }))
	defer srv.Close()
	c := ck("preview", "http", "url", str(CandidateURL+"/api/health"))
	c.Phase = "preview"

	r := run1(t, c, Env{})
	want(t, r, StatusSkip, "needs a candidate")
	if ExitCode([]Result{r}, true) != 0 {
		t.Error("a skipped check fails the exit code")
	}

	r = run1(t, c, Env{Candidate: srv.URL})
	want(t, r, StatusPass, "")
	if got.Load() != "/api/health" {
		t.Errorf("candidate got path %v", got.Load())
	}
	if !strings.Contains(r.Evidence, srv.URL+"/api/health") {
		t.Errorf("evidence %q does not name the candidate URL", r.Evidence)
	}

	addr := strings.TrimPrefix(srv.URL, "http://")
	r = run1(t, ck("tcp", "tcp", "address", str(CandidateAddress)), Env{Candidate: srv.URL})
	want(t, r, StatusPass, "")
	if !strings.Contains(r.Evidence, addr) {
		t.Errorf("evidence %q does not name %s", r.Evidence, addr)
	}
}

func TestMaskingEverywhere(t *testing.T) {
	const token = "tok-3f9a1c77e2"
	const envSecret = "from-env-mask-51"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprintf(w, "bad %s and %s", r.Header.Get("Authorization"), envSecret)
	}))
	defer srv.Close()
	c := ck("leaky", "http", "url", secret(srv.URL+"/?t="+token), "headers", obj("Authorization", secret("Bearer "+token)))
	r := run1(t, c, Env{Mask: func(s string) string { return strings.ReplaceAll(s, envSecret, "(sensitive)") }})
	want(t, r, StatusFail, "status 500")
	for _, s := range []string{token, envSecret} {
		if strings.Contains(r.Evidence+r.Err, s) {
			t.Errorf("result shows %q: evidence %q, err %q", s, r.Evidence, r.Err)
		}
	}
	if !strings.Contains(r.Evidence, "(sensitive)") {
		t.Errorf("evidence %q has no mask", r.Evidence)
	}
}

func TestAssert(t *testing.T) {
	tests := []struct {
		name   string
		cond   cty.Value
		status string
		err    string
	}{
		{"true", cty.True, StatusPass, ""},
		{"false", cty.False, StatusFail, "the secret key is too short"},
		{"marked true", cty.True.Mark(config.SensitiveMark), StatusPass, ""},
		{"marked false", cty.False.Mark(config.SensitiveMark), StatusFail, "the secret key is too short"},
		{"null", cty.NullVal(cty.Bool), StatusFail, "must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck("a", "assert", "condition", tt.cond, "error_message", str("the secret key is too short")), Env{})
			want(t, r, tt.status, tt.err)
		})
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		bytes   uint64
		percent float64
		err     bool
	}{
		{"1GB", 1e9, 0, false},
		{"512MiB", 512 << 20, 0, false},
		{"1.5 GB", 1.5e9, 0, false},
		{"100", 100, 0, false},
		{"10%", 0, 10, false},
		{"0.5%", 0, 0.5, false},
		{"101%", 0, 0, true},
		{"-1GB", 0, 0, true},
		{"GB", 0, 0, true},
		{"1XB", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := parseAmount(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("parseAmount(%q) error %v, want error %v", tt.in, err, tt.err)
			}
			if err == nil && (m.bytes != tt.bytes || m.percent != tt.percent) {
				t.Errorf("parseAmount(%q) = %+v", tt.in, m)
			}
		})
	}
	if got := (amount{percent: 10, isPct: true}).of(2000); got != 200 {
		t.Errorf("10%% of 2000 = %d", got)
	}
}

func TestSentinels(t *testing.T) {
	_, _, _, err := parse(ck("x", "http"), "")
	if !errors.Is(err, ErrInvalidAttribute) {
		t.Errorf("missing url: %v is not ErrInvalidAttribute", err)
	}
	_, _, _, err = parse(ck("x", "smtp"), "")
	if !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind: %v is not ErrUnknownKind", err)
	}
}
