package prober

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// maxBody is how much of a response body is kept for Options.Expect and
// Counts.ByBody; the rest is read and dropped so the connection can be
// reused.
const maxBody = 64 << 10

// Phases of an attempt, as named in Counts.Errors.
const (
	phaseDial  = "dial"
	phaseWrite = "write"
	phaseRead  = "read"
)

// result is the outcome of one attempt.
type result struct {
	err    error  // a transport error
	phase  string // where err happened
	reused bool   // the attempt went over a connection used before
	began  bool   // some byte of the response had been read when err happened
	ok     bool   // the response passed the check
	body   []byte // the response body, cut at maxBody
}

// client is a minimal HTTP/1.1 client over one keep-alive connection at a
// time. Unlike net/http it never retries by itself: each call to do is one
// attempt. It is not safe for concurrent use.
type client struct {
	t      target
	expect func(*http.Response, []byte) bool
	dialer net.Dialer
	// timeout bounds a whole attempt.
	timeout time.Duration

	// req tells http.ReadResponse how to read the body of an answer to GET.
	req *http.Request

	conn net.Conn
	br   *bufio.Reader
}

func newClient(t target, o Options) *client {
	return &client{t: t, expect: o.Expect, timeout: o.Timeout, dialer: net.Dialer{Timeout: o.Timeout},
		req: &http.Request{Method: http.MethodGet}}
}

// do performs one attempt, over the current connection when there is one,
// else over a new one. On any transport error the connection is closed, so
// the next attempt dials again. Cancelling ctx interrupts the attempt.
func (c *client) do(ctx context.Context) result {
	r := result{reused: c.conn != nil}
	if c.conn == nil {
		conn, err := c.dialer.DialContext(ctx, "tcp", c.t.addr)
		if err != nil {
			r.err, r.phase = err, phaseDial
			return r
		}
		c.conn, c.br = conn, bufio.NewReader(conn)
	}
	conn := c.conn
	_ = conn.SetDeadline(time.Now().Add(c.timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(phase string, err error) result {
		c.close()
		r.err, r.phase = err, phase
		return r
	}
	if _, err := conn.Write(c.t.req); err != nil {
		return fail(phaseWrite, err)
	}
	if _, err := c.br.Peek(1); err != nil {
		return fail(phaseRead, err)
	}
	r.began = true
	resp, err := http.ReadResponse(c.br, c.req)
	if err != nil {
		return fail(phaseRead, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	_ = resp.Body.Close()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fail(phaseRead, err)
	}
	if resp.Close {
		c.close()
	}
	r.body = body
	if c.expect != nil {
		r.ok = c.expect(resp, body)
	} else {
		r.ok = resp.StatusCode >= 200 && resp.StatusCode < 300
	}
	return r
}

// retryable reports whether Retrying mode sends r's request once more: it
// failed on a reused connection before any byte of the response, and not
// by a timeout (a server that is slow is not a server that closed an idle
// connection).
func (r result) retryable() bool {
	var ne net.Error
	return r.err != nil && r.reused && !r.began && !(errors.As(r.err, &ne) && ne.Timeout())
}

func (c *client) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn, c.br = nil, nil
	}
}
