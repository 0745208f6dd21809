package checks

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// checkAddress reports an address attribute that is not host:port.
func checkAddress(a *attrs, name, addr string) {
	if addr == "" || strings.Contains(addr, "{{candidate.") {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		a.errorf(name, "%q must be host:port", addr)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		a.errorf(name, "%q has no valid port", addr)
	}
}

// tcpSpec is a tcp check: a connection to address opens.
type tcpSpec struct{ address string }

func parseTCP(a *attrs) runFunc {
	s := tcpSpec{address: a.str("address", true)}
	checkAddress(a, "address", s.address)
	return s.run
}

func (s tcpSpec) run(ctx context.Context, _ *Env) (string, error) {
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.address)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", s.address, err)
	}
	conn.Close()
	return fmt.Sprintf("connected to %s in %s", s.address, round(time.Since(start))), nil
}

// tlsSpec is a tls check: the certificate served at address (or in
// cert_file) is valid for at least min_days (default 14) more days, and,
// for address, is trusted (system roots, or ca_file) for server_name
// (default the address's host).
type tlsSpec struct {
	address, certFile, serverName, caFile string
	minDays                               int
}

func parseTLS(a *attrs) runFunc {
	s := tlsSpec{
		address:    a.str("address", false),
		certFile:   a.str("cert_file", false),
		serverName: a.str("server_name", false),
		caFile:     a.str("ca_file", false),
		minDays:    a.integer("min_days", 14),
	}
	switch {
	case s.address == "" && s.certFile == "":
		a.errorf("address", "or cert_file is required")
	case s.address != "" && s.certFile != "":
		a.errorf("cert_file", "cannot be set together with address: check one or the other")
	}
	checkAddress(a, "address", s.address)
	if s.minDays < 0 {
		a.errorf("min_days", "must not be negative")
	}
	return s.run
}

func (s tlsSpec) run(ctx context.Context, env *Env) (string, error) {
	roots, err := s.roots(env)
	if err != nil {
		return "", err
	}
	chain, source, err := s.chain(ctx, env)
	if err != nil {
		return "", err
	}
	leaf := chain[0]
	left := time.Until(leaf.NotAfter)
	days := int(math.Floor(left.Hours() / 24))
	ev := fmt.Sprintf("%s: %s, issued by %s, expires %s (%d days)", source, subjectName(leaf), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"), days)
	if left <= 0 {
		return ev, fmt.Errorf("certificate expired on %s", leaf.NotAfter.UTC().Format("2006-01-02"))
	}
	if days < s.minDays {
		return ev, fmt.Errorf("certificate expires in %d days, fewer than min_days %d", days, s.minDays)
	}
	return s.trust(ev, chain, roots)
}

// roots returns the pool of ca_file, or nil (the system roots) without one.
func (s tlsSpec) roots(env *Env) (*x509.CertPool, error) {
	if s.caFile == "" {
		return nil, nil
	}
	pemBytes, err := os.ReadFile(resolve(env.Dir, s.caFile))
	if err != nil {
		return nil, fmt.Errorf("read ca_file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("read ca_file %q: no PEM certificate in it", s.caFile)
	}
	return roots, nil
}

// chain returns the certificates of cert_file, or those address serves,
// leaf first, and where they came from. It never returns an empty chain
// without an error.
func (s tlsSpec) chain(ctx context.Context, env *Env) ([]*x509.Certificate, string, error) {
	if s.certFile != "" {
		chain, err := s.readChain(env)
		return chain, s.certFile, err
	}
	host, _, _ := net.SplitHostPort(s.address)
	name := s.serverName
	if name == "" {
		name = host
	}
	d := tls.Dialer{Config: &tls.Config{ServerName: name, InsecureSkipVerify: true}} // verified by trust, so that expiry shows even on an untrusted certificate
	conn, err := d.DialContext(ctx, "tcp", s.address)
	if err != nil {
		return nil, "", fmt.Errorf("tls handshake with %s: %w", s.address, err)
	}
	chain := conn.(*tls.Conn).ConnectionState().PeerCertificates
	conn.Close()
	if len(chain) == 0 {
		return nil, "", fmt.Errorf("tls handshake with %s: no certificate", s.address)
	}
	return chain, s.address, nil
}

// readChain returns the PEM certificates of cert_file, in order.
func (s tlsSpec) readChain(env *Env) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(resolve(env.Dir, s.certFile))
	if err != nil {
		return nil, fmt.Errorf("read cert_file: %w", err)
	}
	var chain []*x509.Certificate
	for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate in %q: %w", s.certFile, err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("read cert_file %q: no PEM certificate in it", s.certFile)
	}
	return chain, nil
}

// trust checks the chain against the name (server_name, else the
// address's host) and the roots: a served chain must be trusted for the
// name; a file's leaf must be valid for the name when there is one, and
// its chain trusted when ca_file is set. It extends the evidence ev.
func (s tlsSpec) trust(ev string, chain []*x509.Certificate, roots *x509.CertPool) (string, error) {
	name := s.serverName
	if name == "" && s.address != "" {
		name, _, _ = net.SplitHostPort(s.address)
	}
	if s.address != "" {
		if err := verifyChain(chain, name, roots); err != nil {
			return ev, fmt.Errorf("certificate not trusted for %q: %w", name, err)
		}
		return ev + fmt.Sprintf("; trusted for %s", name), nil
	}
	if name != "" {
		if err := chain[0].VerifyHostname(name); err != nil {
			return ev, fmt.Errorf("certificate not valid for %q: %w", name, err)
		}
		ev += fmt.Sprintf("; valid for %s", name)
	}
	if roots != nil {
		if err := verifyChain(chain, name, roots); err != nil {
			return ev, fmt.Errorf("certificate not trusted by ca_file: %w", err)
		}
	}
	return ev, nil
}

// verifyChain verifies chain's leaf for name, with the rest of chain as
// intermediates, against roots (nil: the system's).
func verifyChain(chain []*x509.Certificate, name string, roots *x509.CertPool) error {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter})
	return err
}

func subjectName(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return "for " + strings.Join(c.DNSNames, ", ")
	}
	return "CN=" + c.Subject.CommonName
}

// resolve makes p absolute against dir.
func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// redisSpec is a redis check: PING answers PONG, after AUTH with password
// when set, within max_latency when set.
type redisSpec struct {
	address, password string
	maxLatency        time.Duration
}

func parseRedis(a *attrs) runFunc {
	s := redisSpec{address: a.str("address", true), password: a.str("password", false), maxLatency: a.duration("max_latency", 0)}
	checkAddress(a, "address", s.address)
	return s.run
}

func (s redisSpec) run(ctx context.Context, _ *Env) (string, error) {
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.address)
	if err != nil {
		return "", fmt.Errorf("connect to redis at %s: %w", s.address, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReader(conn)
	call := func(args ...string) (string, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			return "", err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "-") {
			return "", errors.New(strings.TrimPrefix(line, "-"))
		}
		return strings.TrimPrefix(line, "+"), nil
	}
	if s.password != "" {
		if _, err := call("AUTH", s.password); err != nil {
			return "", fmt.Errorf("redis AUTH at %s: %w", s.address, err)
		}
	}
	pong, err := call("PING")
	lat := time.Since(start)
	if err != nil {
		return "", fmt.Errorf("redis PING at %s: %w", s.address, err)
	}
	ev := fmt.Sprintf("PING %s -> %s in %s", s.address, pong, round(lat))
	if pong != "PONG" {
		return ev, fmt.Errorf("redis answered %q to PING, want PONG", pong)
	}
	if s.maxLatency > 0 && lat > s.maxLatency {
		return ev, fmt.Errorf("latency %s is over max_latency %s", round(lat), s.maxLatency)
	}
	return ev, nil
}
