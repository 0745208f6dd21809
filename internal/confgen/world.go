package confgen

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// WriteCert writes a self-signed certificate for name and its key into
// dir as cert.pem and key.pem, valid for a day.
func WriteCert(dir, name string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("write certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("write certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("write certificate: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", fmt.Errorf("write certificate: %w", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", fmt.Errorf("write certificate: %w", err)
	}
	return certFile, keyFile, nil
}

// Write writes the case's files into dir.
func (cs Case) Write(dir string) error {
	for name, content := range cs.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write case: %w", err)
		}
	}
	return nil
}

// Observations returns a world for cfg with nothing running and every
// image the configuration names present.
func Observations(cfg *config.Config) *providers.Observations {
	obs := &providers.Observations{Images: map[string]string{}, ImageIDs: map[string]bool{}}
	for i, s := range cfg.Services {
		id := fmt.Sprintf("sha256:%064x", i+1)
		obs.Images[s.Image] = id
		obs.ImageIDs[id] = true
	}
	return obs
}

// PlanOptions are deterministic planner options.
func PlanOptions() planner.Options {
	return planner.Options{
		Now:       time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Reason:    "generated",
		SecretKey: []byte("confgen-secret-key-0123456789abc"),
	}
}

// Routes plans cfg's first release against Observations and returns, for
// each service with a route, the route its last traffic step makes live
// with both groups populated and half the requests on the candidate (as
// mid-canary), so that every part of the rendering (sticky cookie, canary
// header) is there.
func Routes(cfg *config.Config) ([]providers.RouteSpec, hcl.Diagnostics) {
	p, diags := planner.Plan(context.Background(), PlanOptions(), cfg, state.New(cfg.Project.Name, ""), Observations(cfg))
	if diags.HasErrors() {
		return nil, diags
	}
	return RoutesOf(p), diags
}

// RoutesOf returns the route of the last traffic step of each service in
// p, populated as Routes says.
func RoutesOf(p *plan.Plan) []providers.RouteSpec {
	last := map[string]providers.RouteSpec{}
	var order []string
	for _, st := range p.Steps {
		if st.Traffic == nil || st.Traffic.Remove {
			continue
		}
		r := st.Traffic.Route
		if _, ok := last[r.Service]; !ok {
			order = append(order, r.Service)
		}
		r.Stable = []string{"127.0.0.1:30001", "127.0.0.1:30002"}
		r.Candidate = []string{"127.0.0.1:30003"}
		r.CandidateWeight = 50
		if r.StableVersion == "" {
			r.StableVersion = "v0"
		}
		last[r.Service] = r
	}
	out := make([]providers.RouteSpec, 0, len(order))
	for _, s := range order {
		out = append(out, last[s])
	}
	return out
}
