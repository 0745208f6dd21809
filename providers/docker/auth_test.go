package docker

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuthFor takes credentials as the docker command does: a registry's
// credential helper first, then its auths entry (auth or user and
// password, under any spelling of its key), then the default store.
func TestAuthFor(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte("alice:pw-1"))
	cfg := &dockerConfig{
		Auths: map[string]authEntry{
			"http://127.0.0.1:5000/v2/": {Auth: b64},
			"reg.example.com":           {Username: "bob", Password: "pw-2"},
			hubKey:                      {Auth: base64.StdEncoding.EncodeToString([]byte("carol:pw-3"))},
			"helped.example.com":        {Auth: b64},
		},
		CredHelpers: map[string]string{"helped.example.com": "fake"},
		CredsStore:  "store",
	}
	var asked []string
	helper := func(_ context.Context, name, server string) (string, string, bool, error) {
		asked = append(asked, name+" "+server)
		switch name {
		case "fake":
			return "<token>", "tok-4", true, nil
		case "store":
			if server == "stored.example.com" {
				return "dave", "pw-5", true, nil
			}
		}
		return "", "", false, nil
	}
	for _, tc := range []struct{ ref, user, secret string }{
		{"127.0.0.1:5000/i22/web:v1", "alice", "pw-1"},
		{"reg.example.com/app:1", "bob", "pw-2"},
		{"nginx:1.25", "carol", "pw-3"},
		{"helped.example.com/app:1", "", "tok-4"},
		{"stored.example.com/app:1", "dave", "pw-5"},
		{"other.example.com/app:1", "", ""},
	} {
		host, err := registryHost(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		ac, err := authFor(context.Background(), cfg, host, helper)
		if err != nil {
			t.Fatalf("%s: %v", tc.ref, err)
		}
		user, secret := "", ""
		if ac != nil {
			user, secret = ac.Username, ac.Password+ac.IdentityToken
		}
		if user != tc.user || secret != tc.secret {
			t.Errorf("%s: %q/%q, want %q/%q", tc.ref, user, secret, tc.user, tc.secret)
		}
	}
	if strings.Join(asked, ",") != "fake helped.example.com,store stored.example.com,store other.example.com" {
		t.Errorf("helpers asked: %q", asked)
	}
}

// TestAuthErrorsHoldNoSecret: a broken auth entry or configuration is
// named, its content never shown.
func TestAuthErrorsHoldNoSecret(t *testing.T) {
	cfg := &dockerConfig{Auths: map[string]authEntry{"127.0.0.1:5000": {Auth: "s3cr3t-not-base64!"}}}
	_, err := authFor(context.Background(), cfg, "127.0.0.1:5000", nil)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("err = %v", err)
	}
	t.Setenv("DOCKER_AUTH_CONFIG", `{"auths": {"x": {"auth": "s3cr3t"`)
	_, _, err = loadDockerConfig()
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "DOCKER_AUTH_CONFIG") {
		t.Errorf("err = %v", err)
	}
}

// TestDockerConfigSources: DOCKER_AUTH_CONFIG wins over the file in
// DOCKER_CONFIG; without either the file in ~/.docker is read; no file is
// no credentials.
func TestDockerConfigSources(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	c, _, err := loadDockerConfig()
	if err != nil || len(c.Auths) != 0 {
		t.Fatalf("no file: %v, %v", c, err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".docker", "config.json"), []byte(`{"auths": {"home.example.com": {}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, from, err := loadDockerConfig(); err != nil || c.Auths == nil || !strings.HasSuffix(from, ".docker/config.json") {
		t.Errorf("home: %v %s %v", c, from, err)
	}
	t.Setenv("DOCKER_AUTH_CONFIG", `{"auths": {"env.example.com": {}}}`)
	if c, _, _ := loadDockerConfig(); c.Auths["env.example.com"] != (authEntry{}) || len(c.Auths) != 1 {
		t.Errorf("DOCKER_AUTH_CONFIG not preferred: %v", c.Auths)
	}
}

// TestHelperNotFound: a helper that has no credentials for a registry
// gives none, without error; one that fails names itself.
func TestHelperNotFound(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\nread server\ncase \"$server\" in\n  known) echo '{\"ServerURL\":\"known\",\"Username\":\"u\",\"Secret\":\"s\"}' ;;\n  broken) echo 'keychain locked' >&2; exit 1 ;;\n  *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-t22"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx := context.Background()
	if u, s, found, err := runHelper(ctx, "t22", "known"); u != "u" || s != "s" || !found || err != nil {
		t.Errorf("known: %q %q %v %v", u, s, found, err)
	}
	if _, _, found, err := runHelper(ctx, "t22", "unknown"); found || err != nil {
		t.Errorf("unknown: %v %v", found, err)
	}
	_, _, _, err := runHelper(ctx, "t22", "broken")
	if err == nil || !strings.Contains(err.Error(), "docker-credential-t22") || !strings.Contains(err.Error(), "keychain locked") {
		t.Errorf("broken: %v", err)
	}
	var ee interface{ ExitCode() int }
	if !errors.As(err, &ee) {
		t.Errorf("broken: the exit error is not wrapped: %v", err)
	}
}
