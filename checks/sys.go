package checks

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// diskSpec is a disk check: the file system holding path (default the
// configuration directory) has at least min_free available to unprivileged
// users, in bytes ("1GB") or as a share of its size ("10%").
type diskSpec struct {
	path    string
	minFree amount
}

func parseDisk(a *attrs) runFunc {
	s := diskSpec{path: a.str("path", false)}
	s.minFree, _ = a.amount("min_free", true)
	return s.run
}

func (s diskSpec) run(_ context.Context, env *Env) (string, error) {
	path := resolve(env.Dir, s.path)
	if path == "" {
		path = env.Dir
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return "", fmt.Errorf("statfs %s: %w", path, err)
	}
	total := st.Blocks * uint64(st.Bsize)
	free := st.Bavail * uint64(st.Bsize)
	pct := 0.0
	if total > 0 {
		pct = float64(free) / float64(total) * 100
	}
	ev := fmt.Sprintf("%s: %s free of %s (%.1f%%)", path, formatBytes(free), formatBytes(total), pct)
	if want := s.minFree.of(total); free < want {
		return ev, fmt.Errorf("%s free is below min_free %s", formatBytes(free), s.minFree)
	}
	return ev, nil
}

// memorySpec is a memory check: memory in use (MemTotal - MemAvailable of
// /proc/meminfo) is at most max_used, in bytes or as a share of MemTotal.
type memorySpec struct {
	maxUsed amount
	meminfo string // test hook; "" is /proc/meminfo
}

func parseMemory(a *attrs) runFunc {
	s := memorySpec{}
	s.maxUsed, _ = a.amount("max_used", true)
	return s.run
}

func (s memorySpec) run(_ context.Context, _ *Env) (string, error) {
	path := s.meminfo
	if path == "" {
		path = "/proc/meminfo"
	}
	total, avail, err := readMeminfo(path)
	if err != nil {
		return "", err
	}
	used := total - avail
	ev := fmt.Sprintf("%s used of %s (%.1f%%)", formatBytes(used), formatBytes(total), float64(used)/float64(total)*100)
	if used > s.maxUsed.of(total) {
		return ev, fmt.Errorf("memory in use is over max_used %s", s.maxUsed)
	}
	return ev, nil
}

// readMeminfo returns MemTotal and MemAvailable in bytes.
func readMeminfo(path string) (total, avail uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read memory use: %w", err)
	}
	defer f.Close()
	var haveTotal, haveAvail bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		n, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 2 && fields[2] == "kB" {
			n *= 1024
		}
		switch fields[0] {
		case "MemTotal:":
			total, haveTotal = n, true
		case "MemAvailable:":
			avail, haveAvail = n, true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", path, err)
	}
	if !haveTotal || !haveAvail || total == 0 || avail > total {
		return 0, 0, fmt.Errorf("read %s: no MemTotal and MemAvailable", path)
	}
	return total, avail, nil
}
