package checks

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testenv"
)

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	r := run1(t, ck("open", "tcp", "address", str(addr)), Env{})
	want(t, r, StatusPass, "")
	if !strings.Contains(r.Evidence, "connected to "+addr) {
		t.Errorf("evidence %q", r.Evidence)
	}
	ln.Close()
	r = run1(t, ck("closed", "tcp", "address", str(addr)), Env{})
	want(t, r, StatusFail, "connect to "+addr)
}

// pki is a CA and a leaf certificate for 127.0.0.1 and app.test.
type pki struct {
	caPEM, certPEM []byte
	cert           tls.Certificate
}

func newPKI(t *testing.T, leafValidFor time.Duration) pki {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slipway test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "app.test"},
		DNSNames: []string{"app.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(leafValidFor),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pki{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		cert:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}
}

func TestTLS(t *testing.T) {
	// Expires in 10 days and a half: 10 whole days left.
	p := newPKI(t, 10*24*time.Hour+12*time.Hour)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.cert}}
	srv.StartTLS()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), p.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), p.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: dir}
	tests := []struct {
		name   string
		attrs  []any
		status string
		err    string
	}{
		{"expires before min_days", []any{"address", str(addr), "ca_file", str("ca.pem"), "min_days", num(30)}, StatusFail, "expires in 10 days, fewer than min_days 30"},
		{"default min_days 14", []any{"address", str(addr), "ca_file", str("ca.pem")}, StatusFail, "fewer than min_days 14"},
		{"enough days", []any{"address", str(addr), "ca_file", str("ca.pem"), "min_days", num(5)}, StatusPass, ""},
		{"hostname verified", []any{"address", str(addr), "ca_file", str("ca.pem"), "server_name", str("app.test"), "min_days", num(5)}, StatusPass, ""},
		{"wrong hostname", []any{"address", str(addr), "ca_file", str("ca.pem"), "server_name", str("other.test"), "min_days", num(5)}, StatusFail, `not trusted for "other.test"`},
		{"untrusted without ca", []any{"address", str(addr), "min_days", num(5)}, StatusFail, "not trusted"},
		{"file expiring", []any{"cert_file", str("cert.pem"), "min_days", num(30)}, StatusFail, "fewer than min_days 30"},
		{"file ok", []any{"cert_file", str("cert.pem"), "server_name", str("app.test"), "min_days", num(10)}, StatusPass, ""},
		{"file wrong name", []any{"cert_file", str("cert.pem"), "server_name", str("nope.test"), "min_days", num(1)}, StatusFail, `not valid for "nope.test"`},
		{"file trusted by ca", []any{"cert_file", str("cert.pem"), "ca_file", str("ca.pem"), "min_days", num(1)}, StatusPass, ""},
		{"file missing", []any{"cert_file", str("none.pem")}, StatusFail, "read cert_file"},
		{"not tls", []any{"address", str("127.0.0.1:1")}, StatusFail, "tls handshake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "tls", tt.attrs...), env)
			want(t, r, tt.status, tt.err)
			if tt.name != "not tls" && tt.name != "file missing" && !strings.Contains(r.Evidence, "(10 days)") {
				t.Errorf("evidence %q lacks the days left", r.Evidence)
			}
		})
	}

	expired := newPKI(t, -time.Hour)
	if err := os.WriteFile(filepath.Join(dir, "old.pem"), expired.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	r := run1(t, ck("expired", "tls", "cert_file", str("old.pem"), "min_days", num(0)), env)
	want(t, r, StatusFail, "certificate expired on")
}

// startRedis runs a private redis-server on a free loopback port; args are
// extra server options. It skips when redis-server is missing (fails under
// CI=true).
func startRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin := testenv.RequireProgram(t, "redis-server")
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	full := append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, args...)
	cmd := exec.Command(bin, full...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			fmt.Fprint(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line != "" {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedis(t *testing.T) {
	open := startRedis(t)
	const pw = "redis-pw-9d2c41"
	locked := startRedis(t, "--requirepass", pw)
	tests := []struct {
		name   string
		attrs  []any
		status string
		err    string
	}{
		{"ping", []any{"address", str(open)}, StatusPass, ""},
		{"auth", []any{"address", str(locked), "password", secret(pw)}, StatusPass, ""},
		{"no auth", []any{"address", str(locked)}, StatusFail, "NOAUTH"},
		{"wrong password", []any{"address", str(locked), "password", secret("wrong-pw-000")}, StatusFail, "redis AUTH"},
		{"down", []any{"address", str("127.0.0.1:1")}, StatusFail, "connect to redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "redis", tt.attrs...), Env{})
			want(t, r, tt.status, tt.err)
			if tt.status == StatusPass && !strings.Contains(r.Evidence, "-> PONG") {
				t.Errorf("evidence %q", r.Evidence)
			}
			if strings.Contains(r.Evidence+r.Err, pw) {
				t.Errorf("password shown: %q %q", r.Evidence, r.Err)
			}
		})
	}
}
