package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/clock"
	"github.com/slipwayhq/slipway/internal/panics"
)

// Event types a Notifier sends (config.Events lists every name a notify
// block may subscribe to).
const (
	EventStarted    = "started"
	EventPaused     = "paused"
	EventPromoted   = "promoted"
	EventAborted    = "aborted"
	EventSucceeded  = "succeeded"
	EventFailed     = "failed"
	EventRolledBack = "rolled_back"
	// EventDegraded: a watch saw the live release serve with fewer
	// healthy replicas than it runs (Details say which, and why).
	EventDegraded = "degraded"
	// EventRecovered: a watch saw a degraded release serve with every
	// replica again.
	EventRecovered = "recovered"
)

// Event is one thing that happened to a release.
type Event struct {
	// Type is one of the Event constants.
	Type string
	// Project and Env name the release's project and environment ("" is
	// the default environment).
	Project, Env string
	// Release is the release made (or returned to); PriorRelease the one
	// live before.
	Release, PriorRelease int
	// Operation is apply, rollback, promote or abort.
	Operation string
	// Who ran it (user@host).
	Who string
	// Time is when it happened; zero means when Send is called.
	Time time.Time
	// Summary is a one-line account, e.g. "failed and rolled back to
	// release #42 (analysis of service.backend failed ...)".
	Summary string
	// Error is the operation's error, if any.
	Error string
	// Record is the path of the operation's markdown record.
	Record string
	// Details are lines that say more than Summary, such as each replica
	// that does not serve and its last log lines (sensitive values
	// masked by whoever made them).
	Details []string
}

// Options tune how a Notifier posts. The zero value gives the defaults.
type Options struct {
	// Client posts the requests. Default: a client that does not follow
	// redirects (a redirected POST would silently become a GET).
	Client *http.Client
	// Timeout bounds each try (default 5s).
	Timeout time.Duration
	// Retries is the number of tries in all (default 3).
	Retries int
	// Backoff is the wait before the second try; it doubles before each
	// further try (default 500ms).
	Backoff time.Duration
	// Sleep waits between tries (default: a timer that ends early when the
	// context is cancelled). Tests set it to avoid real waits; it may be
	// called from several goroutines at once.
	Sleep func(time.Duration)
}

// Notifier posts events to the webhooks of notify blocks. It is safe for
// concurrent use. A nil *Notifier sends nothing.
type Notifier struct {
	targets []*config.Notify
	o       Options
}

// New returns a Notifier for the notify blocks cfg (nil blocks are
// ignored), with the defaults of Options filled in.
func New(cfg []*config.Notify, o Options) *Notifier {
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	n := &Notifier{o: o}
	for _, c := range cfg {
		if c != nil {
			n.targets = append(n.targets, c)
		}
	}
	return n
}

// Wants reports whether c subscribes to events of type typ: its On list
// holds typ, or is empty (every event).
func Wants(c *config.Notify, typ string) bool {
	return len(c.On) == 0 || slices.Contains(c.On, typ)
}

// Send posts e to every notify block that wants it, all at once, and waits
// for them. It returns one warning per webhook that could not be told,
// in configuration order, for the operation record; it never fails
// otherwise. A warning names the notify block, never its URL:
//
//	notify "incidents": POST failed after 3 tries: connection refused
func (n *Notifier) Send(ctx context.Context, e Event) []string {
	if n == nil {
		return nil
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	var targets []*config.Notify
	for _, c := range n.targets {
		if Wants(c, e.Type) {
			targets = append(targets, c)
		}
	}
	warnings := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, c := range targets {
		wg.Go(func() {
			defer panics.Recover()
			if err := n.send(ctx, c, e); err != nil {
				warnings[i] = fmt.Sprintf("notify %q: %s", c.Name, err)
			}
		})
	}
	wg.Wait()
	var out []string
	for _, w := range warnings {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// send posts e to c, trying again on transport errors, 5xx, 408 and 429.
// Its error never holds the URL.
func (n *Notifier) send(ctx context.Context, c *config.Notify, e Event) error {
	raw := c.Webhook.Value
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("the webhook is not an http(s) URL (not shown: it is secret)")
	}
	body, err := Payload(c.Format, e)
	if err != nil {
		return err
	}
	tries := 0
	var last string
	for tries < n.o.Retries {
		if tries > 0 {
			n.sleep(ctx, n.o.Backoff<<(tries-1))
		}
		if ctx.Err() != nil {
			break
		}
		tries++
		retry, err := n.post(ctx, raw, body)
		if err == nil {
			return nil
		}
		last = describe(err, u, n.o.Timeout)
		if !retry {
			break
		}
	}
	if tries == 0 {
		return errors.New("not sent: cancelled")
	}
	plural := "tries"
	if tries == 1 {
		plural = "try"
	}
	return fmt.Errorf("POST failed after %d %s: %s", tries, plural, last)
}

// statusError is a response outside 2xx.
type statusError struct {
	status string
	body   string
}

func (e *statusError) Error() string {
	if e.body == "" {
		return "status " + e.status
	}
	return "status " + e.status + ": " + e.body
}

// post makes one try. retry says whether another try may succeed.
func (n *Notifier) post(ctx context.Context, rawURL string, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, n.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "slipway")
	resp, err := n.o.Client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(snippet)), "\n")
	if len(line) > 100 {
		line = line[:100] + "..."
	}
	se := &statusError{status: resp.Status, body: line}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		se.body = "redirects are not followed"
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout:
		return true, se
	}
	return false, se
}

// sleep waits d, or less when ctx ends.
func (n *Notifier) sleep(ctx context.Context, d time.Duration) {
	if n.o.Sleep != nil {
		n.o.Sleep(d)
		return
	}
	_ = clock.SleepUntil(ctx, time.Now().Add(d)) // the caller checks ctx
}

// describe says what went wrong in words that cannot reveal the URL.
func describe(err error, u *url.URL, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	var se *statusError
	switch {
	case errors.As(err, &se):
		return redact(se.Error(), u)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("timed out after %s", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "host not found"
		}
		return "host name lookup failed"
	}
	return redact(err.Error(), u)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// redact replaces every part of u that could be secret in s.
func redact(s string, u *url.URL) string {
	parts := []string{u.String(), u.Redacted(), u.Host, u.Hostname(), u.RawQuery, u.EscapedPath(), u.Path}
	if u.User != nil {
		parts = append(parts, u.User.String(), u.User.Username())
		if p, ok := u.User.Password(); ok {
			parts = append(parts, p)
		}
	}
	// Longest first, so that a part inside another goes with it.
	slices.SortFunc(parts, func(a, b string) int { return len(b) - len(a) })
	for _, p := range parts {
		if len(p) > 1 {
			s = strings.ReplaceAll(s, p, "<webhook>")
		}
	}
	return s
}
