package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNotRepo is returned by FindRepoRoot when no slipway checkout encloses
// the directory.
var ErrNotRepo = errors.New("not inside the slipway repository")

// modulePath is the module line FindRepoRoot looks for.
const modulePath = "github.com/slipwayhq/slipway"

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may take it before the caller binds it; callers that can should
// retry on "address already in use".
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FindRepoRoot walks up from dir to the directory whose go.mod declares the
// slipway module.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root from %q: %w", dir, err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find repository root from %q: %w", dir, ErrNotRepo)
		}
	}
}

// runOutput runs cmd with stdout and stderr sent to a temporary file rather
// than a pipe, so that daemons the command leaves behind (nginx, postgres)
// cannot keep it from returning. It returns the combined output.
func runOutput(cmd *exec.Cmd) (string, error) {
	f, err := os.CreateTemp("", "slipway-testenv-*.out")
	if err != nil {
		return "", fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	runErr := cmd.Run()
	out, _ := os.ReadFile(f.Name())
	text := strings.TrimSpace(string(out))
	if runErr != nil {
		if text != "" {
			return text, fmt.Errorf("run %s: %w: %s", filepath.Base(cmd.Path), runErr, text)
		}
		return text, fmt.Errorf("run %s: %w", filepath.Base(cmd.Path), runErr)
	}
	return text, nil
}

// command builds an exec.Cmd bound to ctx.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}
