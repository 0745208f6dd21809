package nginx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testenv"
)

const nginxBinary = "/usr/sbin/nginx"

// testNginx is a private nginx: its own prefix, conf and config dir.
type testNginx struct {
	Prefix    string
	Conf      string
	ConfigDir string
	AccessLog string
	ErrorLog  string

	cmd  *exec.Cmd
	done chan struct{}
}

// needNginx skips the test when nginx is missing, or fails it under CI.
func needNginx(t *testing.T) {
	t.Helper()
	_, err := os.Stat(nginxBinary)
	testenv.Require(t, "nginx", err)
}

// startNginx runs a private nginx in the foreground that includes
// ConfigDir/*.conf (and extra http-context lines), and stops it at cleanup.
func startNginx(t *testing.T, extra ...string) *testNginx {
	t.Helper()
	return startNginxModules(t, nil, 1, extra...)
}

// startNginxModules is startNginx with load_module lines for modules and
// the given number of worker processes.
func startNginxModules(t *testing.T, modules []string, workers int, extra ...string) *testNginx {
	t.Helper()
	needNginx(t)
	dir := t.TempDir()
	n := &testNginx{
		Prefix:    dir,
		Conf:      filepath.Join(dir, "nginx.conf"),
		ConfigDir: filepath.Join(dir, "conf.d"),
		AccessLog: filepath.Join(dir, "slipway.log"),
		ErrorLog:  filepath.Join(dir, "error.log"),
	}
	if err := os.Mkdir(n.ConfigDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var temps, loads strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "    %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	for _, m := range modules {
		fmt.Fprintf(&loads, "load_module %s;\n", m)
	}
	conf := fmt.Sprintf(`%[6]sdaemon off;
master_process on;
worker_processes %[7]d;
user root;
pid %[1]s/nginx.pid;
error_log %[2]s info;
events { worker_connections 256; }
http {
    access_log off;
%[3]s    %[5]s
    include %[4]s/*.conf;
}
`, dir, n.ErrorLog, temps.String(), n.ConfigDir, strings.Join(extra, "\n    "), loads.String(), workers)
	if err := os.WriteFile(n.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n.start(t)
	t.Cleanup(n.stop)
	return n
}

// start runs the master and returns once it has written its pid file.
func (n *testNginx) start(t *testing.T) {
	t.Helper()
	pidFile := filepath.Join(n.Prefix, "nginx.pid")
	_ = os.Remove(pidFile)
	cmd := exec.Command(nginxBinary, "-p", n.Prefix, "-c", n.Conf)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	// Ready once the pid file exists (the master wrote it after binding).
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(pidFile); err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("nginx exited at start; see output above")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not write its pid file")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop asks the master to quit gracefully and waits; it kills the
// process group after 5 seconds. Stopping a stopped nginx does nothing.
func (n *testNginx) stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-n.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	}
	n.cmd = nil
}

// options returns router options driving n.
func (n *testNginx) options() Options {
	return Options{
		ConfigDir:      n.ConfigDir,
		AccessLog:      n.AccessLog,
		Binary:         nginxBinary,
		Prefix:         n.Prefix,
		Conf:           n.Conf,
		ListenHost:     "127.0.0.1",
		ConfirmTimeout: 5 * time.Second,
	}
}

// backend is a loopback HTTP server answering its name.
func backend(t *testing.T, name string) string {
	t.Helper()
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, name)
	}))
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newServer serves h on loopback and returns its host:port.
func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// writeSelfSigned writes a self-signed certificate for name and its key.
func writeSelfSigned(t *testing.T, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// luaModuleFiles are Debian's NDK and Lua modules, in load order.
var luaModuleFiles = []string{"/usr/lib/nginx/modules/ndk_http_module.so", "/usr/lib/nginx/modules/ngx_http_lua_module.so"}

// needLua skips the test when nginx or its Lua module is missing, or
// fails it under CI.
func needLua(t *testing.T) {
	t.Helper()
	needNginx(t)
	for _, m := range luaModuleFiles {
		_, err := os.Stat(m)
		testenv.Require(t, "nginx-lua", err)
	}
}

// forModes runs test once per switch mode, as subtests.
func forModes(t *testing.T, test func(t *testing.T, mode string)) {
	for _, mode := range []string{SwitchReload, SwitchDynamic} {
		t.Run(mode, func(t *testing.T) { test(t, mode) })
	}
}
