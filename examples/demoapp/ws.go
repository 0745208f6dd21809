package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// WebSocket close codes (RFC 6455 section 7.4.1) demoapp sends.
const (
	closeNormal        = 1000
	closeGoingAway     = 1001
	closeProtocolError = 1002
	closeInvalidData   = 1007
	closeTooBig        = 1009
)

// wsGUID is appended to Sec-WebSocket-Key to form Sec-WebSocket-Accept.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsMaxMessage bounds one echoed message; larger ones close with 1009.
const wsMaxMessage = 1 << 20

var (
	errWSProtocol = errors.New("websocket protocol error")
	errWSTooBig   = errors.New("websocket message too big")
)

// wsAccept computes the Sec-WebSocket-Accept value for a client key.
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerHasToken reports whether a comma-separated header holds token,
// compared case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// wsFrame is one decoded frame, payload unmasked.
type wsFrame struct {
	fin     bool
	opcode  byte
	payload []byte
}

// readFrame reads one frame. Frames from a client must be masked
// (requireMask); control frames must be final and at most 125 bytes.
func readFrame(r io.Reader, max int64, requireMask bool) (wsFrame, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return wsFrame{}, err
	}
	f := wsFrame{fin: hdr[0]&0x80 != 0, opcode: hdr[0] & 0x0F}
	if hdr[0]&0x70 != 0 {
		return f, fmt.Errorf("%w: reserved bits set", errWSProtocol)
	}
	masked := hdr[1]&0x80 != 0
	if requireMask && !masked {
		return f, fmt.Errorf("%w: client frame not masked", errWSProtocol)
	}
	n := int64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n = int64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		u := binary.BigEndian.Uint64(ext[:])
		if u > 1<<62 {
			return f, fmt.Errorf("%w: length %d", errWSTooBig, u)
		}
		n = int64(u)
	}
	if f.opcode >= opClose {
		if !f.fin || n > 125 {
			return f, fmt.Errorf("%w: fragmented or long control frame", errWSProtocol)
		}
	}
	if n > max {
		return f, fmt.Errorf("%w: frame of %d bytes", errWSTooBig, n)
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	if masked {
		maskBytes(f.payload, key)
	}
	return f, nil
}

// writeFrame writes one frame; mask is nil for server frames and a key for
// client frames (tests use that).
func writeFrame(w io.Writer, fin bool, opcode byte, payload []byte, mask *[4]byte) error {
	buf := make([]byte, 0, 14+len(payload))
	b0 := opcode & 0x0F
	if fin {
		b0 |= 0x80
	}
	buf = append(buf, b0)
	var maskBit byte
	if mask != nil {
		maskBit = 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		buf = append(buf, maskBit|byte(n))
	case n <= 0xFFFF:
		buf = append(buf, maskBit|126)
		buf = binary.BigEndian.AppendUint16(buf, uint16(n))
	default:
		buf = append(buf, maskBit|127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	start := len(buf)
	if mask != nil {
		buf = append(buf, mask[:]...)
		start += 4
	}
	buf = append(buf, payload...)
	if mask != nil {
		maskBytes(buf[start:], *mask)
	}
	_, err := w.Write(buf)
	return err
}

func maskBytes(b []byte, key [4]byte) {
	for i := range b {
		b[i] ^= key[i%4]
	}
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// wsConn is one upgraded connection; writes are serialized so the shutdown
// path can send a close frame while the echo loop runs.
type wsConn struct {
	conn net.Conn
	br   *bufio.Reader

	mu        sync.Mutex
	closeSent bool
}

func (c *wsConn) write(opcode byte, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
	if opcode == opClose {
		c.closeSent = true
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return writeFrame(c.conn, true, opcode, payload, nil)
}

// goingAway starts the closing handshake for a server shutdown and gives the
// client a second to answer.
func (c *wsConn) goingAway() {
	if c.write(opClose, closePayload(closeGoingAway, "server shutting down")) == nil {
		_ = c.conn.SetReadDeadline(time.Now().Add(time.Second))
	}
}

// fail starts the closing handshake with code after a protocol problem,
// then discards what the client still sends until it closes the connection
// (or two seconds pass): closing with unread data would reset the
// connection and could destroy the close frame before the client reads it.
func (c *wsConn) fail(code uint16, reason string) {
	if c.write(opClose, closePayload(code, reason)) != nil {
		return
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, io.LimitReader(c.br, 4*wsMaxMessage))
}

// echo runs the read loop: data messages (possibly fragmented) are echoed
// whole, pings answered, a close frame answered and the connection ended.
func (c *wsConn) echo() {
	var (
		msg   []byte
		msgOp byte
		inMsg bool
	)
	for {
		f, err := readFrame(c.br, wsMaxMessage, true)
		switch {
		case errors.Is(err, errWSTooBig):
			c.fail(closeTooBig, "message too big")
			return
		case errors.Is(err, errWSProtocol):
			c.fail(closeProtocolError, "protocol error")
			return
		case err != nil:
			return
		}
		switch f.opcode {
		case opPing:
			_ = c.write(opPong, f.payload)
			continue
		case opPong:
			continue
		case opClose:
			// Answer with the client's code (RFC 6455 section 5.5.1).
			reply := []byte{}
			if len(f.payload) >= 2 {
				reply = f.payload[:2]
			}
			_ = c.write(opClose, reply)
			return
		case opText, opBinary:
			if inMsg {
				c.fail(closeProtocolError, "new message inside a fragmented one")
				return
			}
			inMsg, msgOp, msg = true, f.opcode, f.payload
		case opContinuation:
			if !inMsg {
				c.fail(closeProtocolError, "continuation without a message")
				return
			}
			if len(msg)+len(f.payload) > wsMaxMessage {
				c.fail(closeTooBig, "message too big")
				return
			}
			msg = append(msg, f.payload...)
		default:
			c.fail(closeProtocolError, "unknown opcode")
			return
		}
		if !f.fin {
			continue
		}
		inMsg = false
		if msgOp == opText && !utf8.Valid(msg) {
			c.fail(closeInvalidData, "text is not UTF-8")
			return
		}
		if err := c.write(msgOp, msg); err != nil {
			return
		}
	}
}

// serveWS upgrades the request (RFC 6455 section 4.2) and echoes messages
// until either side closes.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	key := r.Header.Get("Sec-WebSocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 ||
		r.Method != http.MethodGet ||
		!headerHasToken(r.Header, "Connection", "upgrade") ||
		!headerHasToken(r.Header, "Upgrade", "websocket") {
		http.Error(w, "websocket handshake expected", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "websocket version 13 expected", http.StatusUpgradeRequired)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "websocket not supported here", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, err = fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Demo-Version: %s\r\n\r\n",
		wsAccept(key), s.cfg.Version)
	if err == nil {
		err = brw.Flush()
	}
	if err != nil {
		return
	}
	s.metrics.observe(http.StatusSwitchingProtocols, time.Since(start))
	_ = conn.SetDeadline(time.Time{})

	c := &wsConn{conn: conn, br: brw.Reader}
	if !s.trackWS(c, true) {
		c.goingAway()
	}
	defer s.trackWS(c, false)
	c.echo()
}
