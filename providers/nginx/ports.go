package nginx

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/slipwayhq/slipway/providers"
)

// procDir is the proc filesystem the port checks read; tests point it at
// a fake one.
var procDir = "/proc"

// CheckListen reports who holds port where nginx would listen for a route
// (Options.ListenHost, or every IPv4 address as "listen PORT" means). It
// binds that address for a moment, as nginx would: when the bind succeeds
// the port is free; when it fails with "address already in use", the
// listening socket's inode (/proc/net/tcp, tcp6) is looked up among the
// file descriptors of nginx's master and workers (by its pid file) and
// then of every process. A port whose holder cannot be seen (another
// user's process, without the right to read it) counts as nginx's when a
// slipway route file in ConfigDir listens on it. It changes nothing and
// never fails: what it cannot find out is left unknown.
func (n *Nginx) CheckListen(ctx context.Context, port int) (providers.ListenPort, error) {
	host := n.opts.ListenHost
	if host == "" || host == "*" {
		host = "0.0.0.0"
	}
	host = strings.Trim(host, "[]")
	lp := providers.ListenPort{Address: net.JoinHostPort(host, strconv.Itoa(port))}
	if !addressInUse(host, port) {
		return lp, nil
	}
	lp.Taken = true
	inodes := listeningInodes(host, port)
	// nginx's master keeps every listening socket its workers use: look
	// there first, and at every process only when it is not nginx's.
	master, known := n.masterPID(ctx)
	if master > 0 && len(socketHolders(inodes, []int{master})) > 0 {
		lp.Router = true
		return lp, nil
	}
	holders := socketHolders(inodes, nil)
	for _, pid := range holders {
		if master > 0 && parentPID(pid) == master {
			lp.Router = true
			return lp, nil
		}
	}
	if len(holders) > 0 {
		lp.PID = holders[0]
		lp.Command = command(lp.PID)
		if !known && lp.Command == "nginx" {
			// Where nginx keeps its pid is unknown: an nginx holding the
			// port is most likely this one.
			lp.Router = true
		}
		return lp, nil
	}
	lp.Router = n.routeListens(port)
	return lp, nil
}

// addressInUse reports whether binding host:port fails because another
// socket listens there. nginx sets SO_REUSEADDR, as Go's listener does,
// so connections in TIME_WAIT do not count; an IPv6 address is bound
// IPv6-only, as nginx binds it. Any other failure (such as no permission
// for a port below 1024) says nothing about the port and reports false.
func addressInUse(host string, port int) bool {
	network := "tcp4"
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		network = "tcp6"
	} else if ip == nil {
		network = "tcp"
	}
	lc := net.ListenConfig{Control: func(network, _ string, c syscall.RawConn) error {
		if network != "tcp6" {
			return nil
		}
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(context.Background(), network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return errors.Is(err, syscall.EADDRINUSE)
	}
	_ = l.Close()
	return false
}

// listeningInodes returns the inodes of the TCP sockets listening on port
// at an address that overlaps host (the same address, or either one the
// wildcard), from /proc/net/tcp and /proc/net/tcp6.
func listeningInodes(host string, port int) []string {
	want := net.ParseIP(host)
	var out []string
	for _, file := range []string{"net/tcp", "net/tcp6"} {
		f, err := os.Open(filepath.Join(procDir, file))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st ... uid timeout inode
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			ip, p, ok := parseProcAddr(fields[1])
			if !ok || p != port || !overlaps(ip, want) {
				continue
			}
			out = append(out, fields[9])
		}
		f.Close()
	}
	return out
}

// parseProcAddr decodes a /proc/net/tcp address: the IP in hex, each
// 32-bit word in host (little-endian) order, then ":" and the port in hex.
func parseProcAddr(s string) (net.IP, int, bool) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, false
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		ip[w], ip[w+1], ip[w+2], ip[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	return ip, int(port), true
}

// overlaps reports whether a socket on ip conflicts with one on want: the
// same address (an IPv4-mapped IPv6 address counts as its IPv4 one), or
// either one unspecified. A want that is not an IP (a host name) overlaps
// everything.
func overlaps(ip, want net.IP) bool {
	if want == nil || ip.IsUnspecified() || want.IsUnspecified() {
		return true
	}
	return ip.Equal(want)
}

// socketHolders returns, sorted, the pids among pids (every process when
// nil) holding one of the socket inodes: their /proc/PID/fd links read
// "socket:[INODE]". The processes it may not read are left out.
func socketHolders(inodes []string, pids []int) []int {
	if len(inodes) == 0 {
		return nil
	}
	links := map[string]bool{}
	for _, ino := range inodes {
		links["socket:["+ino+"]"] = true
	}
	if pids == nil {
		ents, err := os.ReadDir(procDir)
		if err != nil {
			return nil
		}
		for _, e := range ents {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	var out []int
	for _, pid := range pids {
		dir := filepath.Join(procDir, strconv.Itoa(pid), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && links[l] {
				out = append(out, pid)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// parentPID returns a process's parent pid from /proc/PID/stat, 0 when
// unknown.
func parentPID(pid int) int {
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// command returns a process's command name (/proc/PID/comm), "" when
// unknown.
func command(pid int) string {
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// masterPID returns the pid of the configured nginx's running master,
// from its pid file (0 when nginx is not running), and whether the pid
// file is known at all. Its path is found once (it takes "nginx -T" and
// "nginx -V").
func (n *Nginx) masterPID(ctx context.Context) (pid int, known bool) {
	n.pidOnce.Do(func() {
		n.pidFile = (&Reload{Binary: n.opts.Binary, Prefix: n.opts.Prefix, Conf: n.opts.Conf}).PIDFile(ctx)
	})
	if n.pidFile == "" {
		return 0, false
	}
	b, err := os.ReadFile(n.pidFile)
	if err != nil {
		return 0, true
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, true
	}
	if _, err := os.Stat(filepath.Join(procDir, strconv.Itoa(pid))); err != nil {
		return 0, true
	}
	return pid, true
}

// routeListens reports whether a slipway route file in ConfigDir (of any
// project) listens on port.
func (n *Nginx) routeListens(port int) bool {
	paths, _ := filepath.Glob(filepath.Join(n.opts.ConfigDir, "slipway-*.conf"))
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*listen\s+(\S*:)?%d[\s;]`, port))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && re.Match(b) {
			return true
		}
	}
	return false
}

var _ providers.ListenChecker = (*Nginx)(nil)
