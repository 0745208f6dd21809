// Package registry runs the CNCF distribution registry
// (github.com/distribution/distribution/v3) inside the test process, on a
// loopback port, with htpasswd authentication and in-memory storage: the
// real registry that tests pull from and push to. The Docker engine
// accepts plain HTTP to 127.0.0.0/8 registries, so no TLS is needed.
//
// It is a package of its own so that only the tests that need a registry
// link it; nothing the shipped binary imports may import it.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/docker/docker/api/types/image"
	dockerregistry "github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	// The registry's parts register themselves by name.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Registry is a running registry.
type Registry struct {
	// Host is its address, "127.0.0.1:PORT": the registry part of an image
	// reference ("127.0.0.1:PORT/i22/web:v1").
	Host string
	// User and Password are the one account htpasswd accepts.
	User, Password string

	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs a registry on a free loopback port, with its htpasswd file in
// dir (which must exist), until Stop.
func Start(dir string) (*Registry, error) {
	r := &Registry{User: "slipway", Password: "pw-" + randomHex(8), done: make(chan struct{})}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
	if err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(r.User+":"+string(hash)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	r.Host = l.Addr().String()
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{"inmemory": configuration.Parameters{}, "delete": configuration.Parameters{"enabled": true}},
		Auth:    configuration.Auth{"htpasswd": configuration.Parameters{"realm": "slipway-test", "path": htpasswd}},
	}
	cfg.HTTP.Secret = randomHex(16)
	cfg.HTTP.Addr = r.Host
	cfg.Log.Level = "error"
	// The registry logs through logrus' standard logger; tests read
	// nothing of it.
	logrus.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	app := handlers.NewApp(ctx, cfg)
	r.srv = &http.Server{Handler: app, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(l)
	}()
	return r, nil
}

// Stop shuts the registry down; what it stored is gone.
func (r *Registry) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	r.cancel()
	<-r.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Auth is the registry's account as the Docker API's X-Registry-Auth
// value; with wrong set, a wrong password.
func (r *Registry) Auth(wrong bool) string {
	pw := r.Password
	if wrong {
		pw = "not-" + pw
	}
	s, _ := dockerregistry.EncodeAuthConfig(dockerregistry.AuthConfig{Username: r.User, Password: pw, ServerAddress: r.Host})
	return s
}

// Push tags the local image src as ref (an image reference of this
// registry) and pushes it, returning the manifest digest the registry
// gave it ("sha256:...").
func (r *Registry) Push(ctx context.Context, src, ref string) (string, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	defer cli.Close()
	if err := cli.ImageTag(ctx, src, ref); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: r.Auth(false)})
	if err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	defer rc.Close()
	digest := ""
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Aux    *struct {
				Digest string `json:"Digest"`
			} `json:"aux"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("push %s: read output: %w", ref, err)
		}
		if msg.Error != "" {
			return "", fmt.Errorf("push %s: %s", ref, msg.Error)
		}
		if msg.Aux != nil && msg.Aux.Digest != "" {
			digest = msg.Aux.Digest
		}
	}
	if digest == "" {
		return "", fmt.Errorf("push %s: the engine reported no digest", ref)
	}
	return digest, nil
}
