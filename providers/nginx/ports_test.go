package nginx

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseProcAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ip   string
		port int
	}{
		{"0100007F:1F90", "127.0.0.1", 8080},
		{"00000000:0050", "0.0.0.0", 80},
		{"00000000000000000000000001000000:1F90", "::1", 8080},
		{"0000000000000000FFFF00000100007F:0050", "127.0.0.1", 80},
	} {
		ip, port, ok := parseProcAddr(tc.in)
		if !ok || !ip.Equal(net.ParseIP(tc.ip)) || port != tc.port {
			t.Errorf("parseProcAddr(%s) = %v %d %v, want %s %d", tc.in, ip, port, ok, tc.ip, tc.port)
		}
	}
	if _, _, ok := parseProcAddr("zz:1"); ok {
		t.Error("parseProcAddr accepted garbage")
	}
}

// TestCheckListen runs a real nginx serving a route, and a listener of
// this process on another port: the route's port is nginx's, the other
// port another program's (this one), and a free port is free.
func TestCheckListen(t *testing.T) {
	l := newLiveRoute(t)
	l.apply(t)
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherPort := other.Addr().(*net.TCPAddr).Port
	free := freePort(t)
	ctx := context.Background()

	got, err := l.router.CheckListen(ctx, l.spec.Listen)
	if err != nil || !got.Taken || !got.Router {
		t.Errorf("nginx's own port: %+v, %v; want taken by the router", got, err)
	}
	got, err = l.router.CheckListen(ctx, otherPort)
	wantCmd, _ := os.ReadFile("/proc/self/comm")
	if err != nil || !got.Taken || got.Router || got.PID != os.Getpid() || got.Command != strings.TrimSpace(string(wantCmd)) ||
		got.Address != "127.0.0.1:"+strconv.Itoa(otherPort) {
		t.Errorf("another program's port: %+v, %v; want taken by pid %d %s", got, err, os.Getpid(), wantCmd)
	}
	got, err = l.router.CheckListen(ctx, free)
	if err != nil || got.Taken {
		t.Errorf("free port: %+v, %v; want free", got, err)
	}

	// An nginx that is not the configured one holds its ports as another
	// program: here, the router of a second nginx asks about the first's.
	second := startNginx(t)
	r2, err := New(second.options())
	if err != nil {
		t.Fatal(err)
	}
	got, err = r2.CheckListen(ctx, l.spec.Listen)
	if err != nil || !got.Taken || got.Router || got.Command != "nginx" {
		t.Errorf("another nginx's port: %+v, %v; want taken by another program named nginx", got, err)
	}
}
