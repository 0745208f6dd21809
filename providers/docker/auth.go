package docker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
)

// dockerConfig is the part of a Docker client configuration
// (~/.docker/config.json, or the JSON of DOCKER_AUTH_CONFIG) that says
// how to log in to registries.
type dockerConfig struct {
	Auths       map[string]authEntry `json:"auths"`
	CredHelpers map[string]string    `json:"credHelpers"`
	CredsStore  string               `json:"credsStore"`
}

// authEntry is one registry of dockerConfig.Auths.
type authEntry struct {
	Auth          string `json:"auth"` // base64 of "user:password"
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// credentialHelper runs docker-credential-NAME get for server and returns
// its user and secret; found is false when it has none for server.
type credentialHelper func(ctx context.Context, name, server string) (user, secret string, found bool, err error)

// hubKey is the key Docker's configuration files use for Docker Hub.
const hubKey = "https://index.docker.io/v1/"

// loadDockerConfig reads the Docker configuration the way the docker
// command does: DOCKER_AUTH_CONFIG (the JSON itself) when it is set, else
// config.json in DOCKER_CONFIG or ~/.docker. A missing file is an empty
// configuration.
func loadDockerConfig() (*dockerConfig, string, error) {
	var data []byte
	from := "DOCKER_AUTH_CONFIG"
	if v := os.Getenv("DOCKER_AUTH_CONFIG"); v != "" {
		data = []byte(v)
	} else {
		dir := os.Getenv("DOCKER_CONFIG")
		if dir == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return &dockerConfig{}, "", nil
			}
			dir = filepath.Join(home, ".docker")
		}
		from = filepath.Join(dir, "config.json")
		b, err := os.ReadFile(from)
		if errors.Is(err, os.ErrNotExist) {
			return &dockerConfig{}, from, nil
		}
		if err != nil {
			return nil, from, fmt.Errorf("read the Docker configuration %s: %w", from, err)
		}
		data = b
	}
	var c dockerConfig
	if err := json.Unmarshal(data, &c); err != nil {
		// The JSON error may quote the file; the file holds credentials.
		return nil, from, fmt.Errorf("the Docker configuration %s is not valid JSON", from)
	}
	return &c, from, nil
}

// registryHost is the registry part of an image reference as the
// configuration files name it: "127.0.0.1:5000", or Docker Hub's key.
func registryHost(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	host := reference.Domain(named)
	if host == "docker.io" || host == "index.docker.io" {
		return hubKey, nil
	}
	return host, nil
}

// keyHost is the registry host a key of auths names: the key without a
// scheme or a path ("https://127.0.0.1:5000/v2/" is "127.0.0.1:5000").
func keyHost(key string) string {
	if key == hubKey {
		return hubKey
	}
	k := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	k, _, _ = strings.Cut(k, "/")
	if k == "index.docker.io" || k == "docker.io" {
		return hubKey
	}
	return k
}

// authFor returns the credentials cfg gives host: its credential helper
// (credHelpers), else its auths entry, else the default store
// (credsStore); nil when none has any.
func authFor(ctx context.Context, cfg *dockerConfig, host string, helper credentialHelper) (*registry.AuthConfig, error) {
	fromHelper := func(name string) (*registry.AuthConfig, error) {
		user, secret, found, err := helper(ctx, name, host)
		if err != nil || !found {
			return nil, err
		}
		if user == "<token>" {
			return &registry.AuthConfig{IdentityToken: secret, ServerAddress: host}, nil
		}
		return &registry.AuthConfig{Username: user, Password: secret, ServerAddress: host}, nil
	}
	if name := cfg.CredHelpers[host]; name != "" {
		return fromHelper(name)
	}
	for key, e := range cfg.Auths {
		if keyHost(key) != host {
			continue
		}
		ac := &registry.AuthConfig{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken, ServerAddress: host}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			user, pass, ok := strings.Cut(string(raw), ":")
			if err != nil || !ok {
				return nil, fmt.Errorf("the Docker configuration's auth for %s is not base64 of user:password", host)
			}
			ac.Username, ac.Password = user, pass
		}
		if ac.Username != "" || ac.IdentityToken != "" || ac.RegistryToken != "" {
			return ac, nil
		}
	}
	if cfg.CredsStore != "" {
		return fromHelper(cfg.CredsStore)
	}
	return nil, nil
}

// runHelper is the credentialHelper that runs the docker-credential-NAME
// program on PATH, as the docker command does.
func runHelper(ctx context.Context, name, server string) (string, string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	prog := "docker-credential-" + name
	cmd := exec.CommandContext(ctx, prog, "get")
	cmd.Stdin = strings.NewReader(server)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String() + " " + errOut.String())
		if strings.Contains(msg, "credentials not found") {
			return "", "", false, nil
		}
		return "", "", false, fmt.Errorf("credential helper %s: %w: %s", prog, err, firstLine(msg))
	}
	var c struct {
		Username string `json:"Username"`
		Secret   string `json:"Secret"`
	}
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		return "", "", false, fmt.Errorf("credential helper %s answered something that is not its JSON", prog)
	}
	return c.Username, c.Secret, c.Username != "" || c.Secret != "", nil
}

// firstLine is s up to its first line break, at most 200 bytes.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// registryAuth returns the X-Registry-Auth value for ref's registry from
// the Docker configuration, "" when it gives none. An error names where
// the configuration came from, never a credential.
func (d *Docker) registryAuth(ctx context.Context, ref string) (string, error) {
	host, err := registryHost(ref)
	if err != nil {
		return "", err
	}
	cfg, _, err := loadDockerConfig()
	if err != nil {
		return "", err
	}
	helper := d.credHelper
	if helper == nil {
		helper = runHelper
	}
	ac, err := authFor(ctx, cfg, host, helper)
	if err != nil || ac == nil {
		return "", err
	}
	return registry.EncodeAuthConfig(*ac)
}
