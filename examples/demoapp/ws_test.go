package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestWSAcceptRFCExample(t *testing.T) {
	// RFC 6455 section 1.3.
	if got, want := wsAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("wsAccept() = %q, want %q", got, want)
	}
}

// wsClient is a minimal RFC 6455 client for tests.
type wsClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// dialWS connects to addr and performs the opening handshake, failing the
// test unless the server answers 101 with the right accept key.
func dialWS(t *testing.T, addr string) *wsClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d, want 101", resp.StatusCode)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(key) {
		t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, wsAccept(key))
	}
	if !headerHasToken(resp.Header, "Upgrade", "websocket") || !headerHasToken(resp.Header, "Connection", "upgrade") {
		t.Fatalf("handshake headers %v", resp.Header)
	}
	return &wsClient{t: t, conn: conn, br: br}
}

func (c *wsClient) send(fin bool, op byte, payload []byte) {
	c.t.Helper()
	if err := writeFrame(c.conn, fin, op, payload, &testMask); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *wsClient) recv() wsFrame {
	c.t.Helper()
	f, err := readFrame(c.br, 1<<24, false)
	if err != nil {
		c.t.Fatalf("recv: %v", err)
	}
	return f
}

// recvClose reads a close frame, answers it as RFC 6455 asks and closes the
// connection; it returns the server's close code.
func (c *wsClient) recvClose() uint16 {
	c.t.Helper()
	f := c.recv()
	if f.opcode != opClose || len(f.payload) < 2 {
		c.t.Fatalf("got opcode %d payload %q, want a close frame with a code", f.opcode, f.payload)
	}
	code := binary.BigEndian.Uint16(f.payload)
	_ = writeFrame(c.conn, true, opClose, f.payload[:2], &testMask)
	c.conn.Close()
	return code
}

func TestWSEcho(t *testing.T) {
	addr, _ := startServer(t, newServer(config{Version: "v9"}, nil))
	big := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000 bytes: 64-bit length

	tests := []struct {
		name   string
		frames []wsFrame
		want   wsFrame
	}{
		{name: "text", frames: []wsFrame{{fin: true, opcode: opText, payload: []byte("hello")}}, want: wsFrame{fin: true, opcode: opText, payload: []byte("hello")}},
		{name: "binary", frames: []wsFrame{{fin: true, opcode: opBinary, payload: []byte{0, 1, 2, 255}}}, want: wsFrame{fin: true, opcode: opBinary, payload: []byte{0, 1, 2, 255}}},
		{name: "empty", frames: []wsFrame{{fin: true, opcode: opText, payload: []byte{}}}, want: wsFrame{fin: true, opcode: opText, payload: []byte{}}},
		{name: "16-bit length", frames: []wsFrame{{fin: true, opcode: opBinary, payload: big[:300]}}, want: wsFrame{fin: true, opcode: opBinary, payload: big[:300]}},
		{name: "64-bit length", frames: []wsFrame{{fin: true, opcode: opBinary, payload: big}}, want: wsFrame{fin: true, opcode: opBinary, payload: big}},
		{
			name: "fragmented with ping between",
			frames: []wsFrame{
				{opcode: opText, payload: []byte("hel")},
				{fin: true, opcode: opPing, payload: []byte("p")},
				{opcode: opContinuation, payload: []byte("lo ")},
				{fin: true, opcode: opContinuation, payload: []byte("wörld")},
			},
			want: wsFrame{fin: true, opcode: opPong, payload: []byte("p")},
		},
	}
	c := dialWS(t, addr)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			for _, f := range tt.frames {
				c.send(f.fin, f.opcode, f.payload)
			}
			got := c.recv()
			if got.fin != tt.want.fin || got.opcode != tt.want.opcode || !bytes.Equal(got.payload, tt.want.payload) {
				t.Fatalf("got fin=%v op=%d %d bytes, want fin=%v op=%d %d bytes", got.fin, got.opcode, len(got.payload), tt.want.fin, tt.want.opcode, len(tt.want.payload))
			}
			if tt.want.opcode == opPong {
				// The fragmented message follows the pong, whole.
				if m := c.recv(); m.opcode != opText || string(m.payload) != "hello wörld" {
					t.Fatalf("got op=%d %q, want the reassembled text", m.opcode, m.payload)
				}
			}
		})
	}
	c.t = t
	c.send(true, opClose, closePayload(closeNormal, "bye"))
	if code := c.recvClose(); code != closeNormal {
		t.Errorf("close answered with %d, want %d", code, closeNormal)
	}
}

func TestWSProtocolErrors(t *testing.T) {
	addr, _ := startServer(t, newServer(config{}, nil))
	tests := []struct {
		name string
		send func(c *wsClient)
		want uint16
	}{
		{name: "unmasked frame", send: func(c *wsClient) { _ = writeFrame(c.conn, true, opText, []byte("x"), nil) }, want: closeProtocolError},
		{name: "invalid utf-8", send: func(c *wsClient) { c.send(true, opText, []byte{0xff, 0xfe}) }, want: closeInvalidData},
		{name: "continuation first", send: func(c *wsClient) { c.send(true, opContinuation, []byte("x")) }, want: closeProtocolError},
		{name: "unknown opcode", send: func(c *wsClient) { c.send(true, 0x3, nil) }, want: closeProtocolError},
		{name: "fragmented ping", send: func(c *wsClient) { c.send(false, opPing, nil) }, want: closeProtocolError},
		{name: "too big", send: func(c *wsClient) { c.send(true, opBinary, make([]byte, wsMaxMessage+1)) }, want: closeTooBig},
		{
			name: "too big in fragments",
			send: func(c *wsClient) {
				c.send(false, opBinary, make([]byte, wsMaxMessage/2+1))
				c.send(true, opContinuation, make([]byte, wsMaxMessage/2+1))
			},
			want: closeTooBig,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialWS(t, addr)
			tt.send(c)
			if code := c.recvClose(); code != tt.want {
				t.Errorf("closed with %d, want %d", code, tt.want)
			}
		})
	}
}

func TestWSHandshakeRejected(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{name: "no upgrade", headers: map[string]string{"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}, want: 400},
		{name: "bad key", headers: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "short", "Sec-WebSocket-Version": "13"}, want: 400},
		{name: "old version", headers: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "8"}, want: 426},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "/ws", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := newRecorder()
			newServer(config{}, nil).ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
}

func TestWSGoingAwayOnShutdown(t *testing.T) {
	s := newServer(config{}, nil)
	addr, stop := startServer(t, s)
	c := dialWS(t, addr)
	c.send(true, opText, []byte("hi"))
	c.recv() // the echo: the connection is tracked by now
	done := make(chan error, 1)
	go func() { _, err := stop(); done <- err }()
	if code := c.recvClose(); code != closeGoingAway {
		t.Errorf("shutdown closed the socket with %d, want %d", code, closeGoingAway)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if !strings.Contains(metricsText(s), `demoapp_requests_total{code="101"} 1`) {
		t.Errorf("the upgrade was not counted:\n%s", metricsText(s))
	}
}
