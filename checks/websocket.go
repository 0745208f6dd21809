package checks

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// wsGUID is RFC 6455's key suffix for Sec-WebSocket-Accept.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsSpec is a websocket check: the handshake on url (ws, wss, http or
// https) answers 101 with the right Sec-WebSocket-Accept; with send, a text
// message is sent and the first message back must contain expect (default:
// equal send).
type wsSpec struct {
	url          string
	headers      map[string]string
	send, expect string
	hasSend      bool
}

func parseWebSocket(a *attrs) runFunc {
	s := wsSpec{url: a.str("url", true), headers: a.strMap("headers"), send: a.str("send", false), expect: a.str("expect", false)}
	_, s.hasSend = a.value("send")
	if _, hasExpect := a.value("expect"); hasExpect && !s.hasSend {
		a.errorf("expect", "needs send: the check compares the answer to a message it sends")
	}
	checkURL(a, "url", s.url, "ws", "wss", "http", "https")
	return s.run
}

func (s wsSpec) run(ctx context.Context, _ *Env) (string, error) {
	u, err := url.Parse(s.url)
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	secure := u.Scheme == "wss" || u.Scheme == "https"
	start := time.Now()
	conn, err := dialWebSocket(ctx, u, secure)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}

	br := bufio.NewReader(conn)
	resp, key, err := s.handshake(conn, br, u, secure)
	if err != nil {
		return "", err
	}
	ev := fmt.Sprintf("handshake %s -> %d in %s", s.url, resp.StatusCode, round(time.Since(start)))
	if err := checkUpgrade(resp, key); err != nil {
		return ev, err
	}
	if !s.hasSend {
		_ = writeFrame(conn, 0x8, closePayload(1000))
		return ev, nil
	}
	return s.exchange(conn, br, ev, start)
}

// dialWebSocket connects to u's host (on port 443 or 80 when u has none)
// and, when secure, completes the TLS handshake.
func dialWebSocket(ctx context.Context, u *url.URL, secure bool) (net.Conn, error) {
	host := u.Host
	if u.Port() == "" {
		if secure {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", host, err)
	}
	if !secure {
		return conn, nil
	}
	tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname()})
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("tls handshake with %s: %w", host, err)
	}
	return tc, nil
}

// handshake sends the upgrade request for u with the check's headers and
// reads the answer; key is the Sec-WebSocket-Key it sent.
func (s wsSpec) handshake(conn net.Conn, br *bufio.Reader, u *url.URL, secure bool) (resp *http.Response, key string, err error) {
	keyRaw := make([]byte, 16)
	_, _ = rand.Read(keyRaw)
	key = base64.StdEncoding.EncodeToString(keyRaw)
	hu := *u
	hu.Scheme = map[bool]string{true: "https", false: "http"}[secure]
	req, err := http.NewRequest(http.MethodGet, hu.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("build handshake: %w", err)
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	for _, k := range sortedKeys(s.headers) {
		req.Header.Set(k, s.headers[k])
	}
	if err := req.Write(conn); err != nil {
		return nil, "", fmt.Errorf("send handshake: %w", err)
	}
	resp, err = http.ReadResponse(br, req)
	if err != nil {
		return nil, "", fmt.Errorf("read handshake answer: %w", err)
	}
	return resp, key, nil
}

// checkUpgrade fails unless resp switches to the websocket protocol and
// accepts key.
func checkUpgrade(resp *http.Response, key string) error {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("handshake answered %d, want 101 Switching Protocols", resp.StatusCode)
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("handshake answered Sec-WebSocket-Accept %q, want %q", got, want)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return fmt.Errorf("handshake answered Upgrade %q, want websocket", resp.Header.Get("Upgrade"))
	}
	return nil
}

// exchange sends the check's message, reads the first message back,
// closes, and judges the answer; ev is the handshake's evidence, which it
// extends.
func (s wsSpec) exchange(conn net.Conn, br *bufio.Reader, ev string, start time.Time) (string, error) {
	if err := writeFrame(conn, 0x1, []byte(s.send)); err != nil {
		return ev, fmt.Errorf("send message: %w", err)
	}
	msg, err := readMessage(br, conn)
	if err != nil {
		return ev, fmt.Errorf("read answer: %w", err)
	}
	_ = writeFrame(conn, 0x8, closePayload(1000))
	ev += fmt.Sprintf("; sent %d bytes, got %q in %s", len(s.send), truncate(string(msg), 100), round(time.Since(start)))
	if s.expect != "" {
		if !strings.Contains(string(msg), s.expect) {
			return ev, fmt.Errorf("answer does not contain %q", s.expect)
		}
		return ev, nil
	}
	if string(msg) != s.send {
		return ev, fmt.Errorf("answer is not the echo of the message sent")
	}
	return ev, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func closePayload(code uint16) []byte {
	return binary.BigEndian.AppendUint16(nil, code)
}

// writeFrame writes one final, masked client frame.
func writeFrame(w io.Writer, opcode byte, payload []byte) error {
	hdr := []byte{0x80 | opcode}
	n := len(payload)
	switch {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	mask := make([]byte, 4)
	_, _ = rand.Read(mask)
	hdr = append(hdr, mask...)
	body := make([]byte, n)
	for i := range payload {
		body[i] = payload[i] ^ mask[i%4]
	}
	_, err := w.Write(append(hdr, body...))
	return err
}

// readMessage reads one data message (reassembling fragments), answering
// pings and ignoring pongs. A close frame is an error.
func readMessage(r *bufio.Reader, w io.Writer) ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, err
		}
		fin, opcode := h[0]&0x80 != 0, h[0]&0x0f
		masked := h[1]&0x80 != 0
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > maxBody {
			return nil, fmt.Errorf("frame of %d bytes is over the %d bytes a check reads", n, maxBody)
		}
		var mask [4]byte
		if masked {
			if _, err := io.ReadFull(r, mask[:]); err != nil {
				return nil, err
			}
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return nil, err
		}
		if masked {
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
		}
		switch opcode {
		case 0x8:
			code := 0
			if len(payload) >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
			}
			return nil, fmt.Errorf("server closed the connection (code %d)", code)
		case 0x9:
			if err := writeFrame(w, 0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			continue
		case 0x0, 0x1, 0x2:
			msg = append(msg, payload...)
			if len(msg) > maxBody {
				return nil, errors.New("message is over the size a check reads")
			}
			if fin {
				return msg, nil
			}
		default:
			return nil, fmt.Errorf("unknown frame opcode %#x", opcode)
		}
	}
}
