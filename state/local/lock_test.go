package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holdLockEnv names the state directory a child test process locks.
const holdLockEnv = "SLIPWAY_LOCAL_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdLockEnv); dir != "" {
		os.Exit(holdLock(dir))
	}
	os.Exit(m.Run())
}

// holdLock is the child process: it takes the lock, says so, and waits to
// be killed.
func holdLock(dir string) int {
	b, err := Open(dir, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := b.Lock(context.Background(), NewLockInfo("apply"), 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	select {}
}

func TestLockHeldInSameProcess(t *testing.T) {
	b := open(t, "")
	info := NewLockInfo("apply")
	unlock, err := b.Lock(context.Background(), info, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p := perm(t, b.LockPath()); p != 0o600 {
		t.Fatalf("lock file mode %04o, want 0600", p)
	}
	_, err = b.Lock(context.Background(), NewLockInfo("plan"), 0)
	var locked *LockedError
	if !errors.As(err, &locked) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock: error %v, want *LockedError", err)
	}
	if locked.Info != info {
		t.Fatalf("LockedError info = %+v, want %+v", locked.Info, info)
	}
	for _, want := range []string{"state is locked by " + info.Who, fmt.Sprintf("pid %d", os.Getpid()), "apply", "lock id " + info.ID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("second unlock: %v", err)
	}
	if data, _ := os.ReadFile(b.LockPath()); len(data) != 0 {
		t.Fatalf("unlock left info in the lock file: %s", data)
	}
	unlock, err = b.Lock(context.Background(), NewLockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()
}

func TestLockWaitsForUnlock(t *testing.T) {
	b := open(t, "")
	unlock, err := b.Lock(context.Background(), NewLockInfo("apply"), 0)
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		close(released)
		unlock()
	}()
	unlock2, err := b.Lock(context.Background(), NewLockInfo("apply"), time.Minute)
	if err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	defer unlock2()
	select {
	case <-released:
	default:
		t.Fatal("Lock succeeded while the first holder still had it")
	}
}

func TestLockTimeoutAndCancel(t *testing.T) {
	b := open(t, "")
	unlock, err := b.Lock(context.Background(), NewLockInfo("apply"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = b.Lock(context.Background(), NewLockInfo("apply"), 250*time.Millisecond)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "not acquired within 250ms") {
		t.Fatalf("Lock past its timeout: error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	_, err = b.Lock(ctx, NewLockInfo("apply"), time.Hour)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock with a cancelled context: error %v", err)
	}
}

func TestLockFreedWhenHolderIsKilled(t *testing.T) {
	b := open(t, "")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+b.Dir())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child said %q, %v", line, err)
	}

	_, err = b.Lock(context.Background(), NewLockInfo("apply"), 0)
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("Lock while the child holds it: error %v, want *LockedError", err)
	}
	if locked.Info.PID != cmd.Process.Pid || locked.Info.Operation != "apply" {
		t.Fatalf("holder info %+v, want pid %d", locked.Info, cmd.Process.Pid)
	}
	if err := b.ForceUnlock(locked.Info.ID); err == nil || !errors.Is(err, ErrLocked) {
		t.Fatalf("ForceUnlock of a live holder: error %v, want one saying it is held", err)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	unlock, err := b.Lock(context.Background(), NewLockInfo("apply"), 0)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
}

func TestForceUnlockClearsStaleInfo(t *testing.T) {
	b := open(t, "")
	if err := b.ForceUnlock("x"); !errors.Is(err, ErrNotLocked) {
		t.Fatalf("ForceUnlock with no lock file: error %v", err)
	}
	stale := `{"id":"dead-1","operation":"apply","who":"a@b","pid":1,"created":"2025-01-01T00:00:00Z"}` + "\n"
	if err := os.MkdirAll(b.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.LockPath(), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.ForceUnlock("other"); !errors.Is(err, ErrLockIDMismatch) {
		t.Fatalf("ForceUnlock with a wrong id: error %v", err)
	}
	if data, _ := os.ReadFile(b.LockPath()); string(data) != stale {
		t.Fatal("a refused ForceUnlock changed the lock file")
	}
	if err := b.ForceUnlock("dead-1"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(b.LockPath()); len(data) != 0 {
		t.Fatalf("ForceUnlock left %q", data)
	}
	if err := b.ForceUnlock("dead-1"); !errors.Is(err, ErrNotLocked) {
		t.Fatalf("second ForceUnlock: error %v", err)
	}
}

// TestForceUnlockUnreadableInfo proves that lock info that does not parse
// (or names no id) is never cleared by an arbitrary id, only by
// ForceUnlockUnreadable, which in turn leaves readable info alone.
func TestForceUnlockUnreadableInfo(t *testing.T) {
	for _, garbage := range []string{"{\"id\":\"dead-", "not json\n", "{}\n", "null\n"} {
		b := open(t, "")
		if err := os.MkdirAll(b.Dir(), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(b.LockPath(), []byte(garbage), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"any-id", ""} {
			if err := b.ForceUnlock(id); !errors.Is(err, ErrLockInfoUnreadable) {
				t.Fatalf("ForceUnlock(%q) of %q: error %v, want ErrLockInfoUnreadable", id, garbage, err)
			}
		}
		if data, _ := os.ReadFile(b.LockPath()); string(data) != garbage {
			t.Fatalf("a refused ForceUnlock changed the lock file %q to %q", garbage, data)
		}
		if err := b.ForceUnlockUnreadable(); err != nil {
			t.Fatalf("ForceUnlockUnreadable of %q: %v", garbage, err)
		}
		if data, _ := os.ReadFile(b.LockPath()); len(data) != 0 {
			t.Fatalf("ForceUnlockUnreadable left %q", data)
		}
	}

	b := open(t, "")
	stale := `{"id":"dead-1","operation":"apply","who":"a@b","pid":1,"created":"2025-01-01T00:00:00Z"}` + "\n"
	if err := os.MkdirAll(b.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.LockPath(), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.ForceUnlockUnreadable(); !errors.Is(err, ErrLockIDMismatch) || !strings.Contains(err.Error(), "dead-1") {
		t.Fatalf("ForceUnlockUnreadable of readable info: error %v, want ErrLockIDMismatch naming dead-1", err)
	}
	if data, _ := os.ReadFile(b.LockPath()); string(data) != stale {
		t.Fatal("a refused ForceUnlockUnreadable changed the lock file")
	}
}

func TestNewLockInfo(t *testing.T) {
	a, b := NewLockInfo("apply"), NewLockInfo("apply")
	if a.ID == "" || a.ID == b.ID {
		t.Fatalf("lock ids %q and %q are not unique", a.ID, b.ID)
	}
	if a.PID != os.Getpid() || !strings.Contains(a.Who, "@") || a.Operation != "apply" || a.Created.IsZero() {
		t.Fatalf("NewLockInfo = %+v", a)
	}
}
