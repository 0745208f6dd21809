package prober

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/slipwayhq/slipway/state/records"
)

// Keys of Counts.ByBody that are not a body's first line.
const (
	// OtherBodies counts the responses whose first line came after
	// ByBody already held its 19 other keys.
	OtherBodies = "(other)"
	// EmptyBody counts the responses with an empty (or blank) body.
	EmptyBody = "(empty)"
)

// Limits of Counts.
const (
	maxBodyKeys = 20 // keys of Counts.ByBody, OtherBodies included
	maxErrors   = 10 // distinct Counts.Errors
	maxBodyLine = 80 // bytes of a body's first line kept as a ByBody key
)

// Counts are the totals of a Load. A request counts once, however many
// attempts it took; a request cut short by Stop or by the end of the
// context is not counted at all.
type Counts struct {
	// Requests is the number of requests that finished: OK + Non2xx +
	// TransportErrors.
	Requests int `json:"requests"`
	// OK counts responses that passed the check (2xx, or Options.Expect).
	OK int `json:"ok"`
	// Non2xx counts responses that failed the check.
	Non2xx int `json:"non_2xx"`
	// TransportErrors counts requests that got no complete response:
	// refused, reset, closed, timed out, malformed.
	TransportErrors int `json:"transport_errors"`
	// Retried counts the retries of Retrying mode (whatever their outcome).
	Retried int `json:"retried"`
	// ByBody counts responses by the first line of their body (at most
	// maxBodyLine bytes; EmptyBody for an empty one). It holds at most 20
	// keys; responses beyond go under OtherBodies.
	ByBody map[string]int `json:"by_body,omitempty"`
	// Errors lists the first 10 distinct transport errors, without the
	// addresses that would make each one unique.
	Errors []string `json:"errors,omitempty"`
}

// Failures returns the requests that failed: Non2xx + TransportErrors.
func (c Counts) Failures() int { return c.Non2xx + c.TransportErrors }

// Record returns c as the prober counts of an operation record.
func (c Counts) Record() records.ProberCounts {
	return records.ProberCounts{Requests: c.Requests, Failures: c.Failures(), Non2xx: c.Non2xx, TransportErrors: c.TransportErrors}
}

func (c Counts) clone() Counts {
	c.ByBody = maps.Clone(c.ByBody)
	c.Errors = append([]string(nil), c.Errors...)
	return c
}

// add counts one finished request.
func (c *Counts) add(r result, retried bool) {
	c.Requests++
	if retried {
		c.Retried++
	}
	if r.err != nil {
		c.TransportErrors++
		c.addError(describe(r.phase, r.err))
		return
	}
	if r.ok {
		c.OK++
	} else {
		c.Non2xx++
	}
	c.addBody(firstLine(r.body))
}

func (c *Counts) addBody(key string) {
	if c.ByBody == nil {
		c.ByBody = map[string]int{}
	}
	if _, ok := c.ByBody[key]; !ok && len(c.ByBody) >= maxBodyKeys-1 && key != OtherBodies {
		key = OtherBodies
	}
	c.ByBody[key]++
}

func (c *Counts) addError(msg string) {
	if len(c.Errors) >= maxErrors {
		return
	}
	for _, e := range c.Errors {
		if e == msg {
			return
		}
	}
	c.Errors = append(c.Errors, msg)
}

// firstLine returns the first line of body, trimmed and cut at maxBodyLine
// bytes on a rune boundary.
func firstLine(body []byte) string {
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		body = body[:i]
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return EmptyBody
	}
	if len(body) > maxBodyLine {
		body = body[:maxBodyLine]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
	}
	return strings.ToValidUTF8(string(body), "?")
}

// describe names a transport error by the phase it happened in and its
// cause, leaving out the addresses and ports that would make every
// occurrence distinct.
func describe(phase string, err error) string {
	var ne net.Error
	var se *os.SyscallError
	var oe *net.OpError
	cause := err.Error()
	switch {
	case errors.Is(err, io.EOF):
		cause = "connection closed (EOF)"
	case errors.Is(err, io.ErrUnexpectedEOF):
		cause = "connection closed mid-response (unexpected EOF)"
	case errors.As(err, &ne) && ne.Timeout():
		cause = "timeout"
	case errors.As(err, &se):
		cause = se.Err.Error()
	case errors.As(err, &oe) && oe.Err != nil:
		cause = oe.Err.Error()
	}
	return phase + ": " + cause
}
