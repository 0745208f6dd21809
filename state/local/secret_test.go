package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretKey(t *testing.T) {
	b := open(t, "")
	key, err := b.SecretKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Fatalf("key of %d bytes", len(key))
	}
	path := filepath.Join(b.Dir(), SecretKeyFile)
	if p := perm(t, path); p != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", p)
	}
	again, err := b.SecretKey()
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second SecretKey differs: %v", err)
	}
	other, _ := open(t, "").SecretKey()
	if bytes.Equal(other, key) {
		t.Fatal("two state directories got the same key")
	}
	// The key never reaches the state file.
	s, _ := b.Read()
	s.Secrets["var.k"] = HMAC(key, "value")
	if err := b.Write(s); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(b.StatePath())
	if bytes.Contains(data, key) || strings.Contains(string(data), "value\"") {
		t.Fatal("the state file holds the key or the value")
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SecretKey(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("SecretKey of a world-readable key: error %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := b.SecretKey(); err == nil {
		t.Fatal("SecretKey accepted a 5-byte key")
	}
}

func TestHMAC(t *testing.T) {
	tests := []struct {
		key, value, want string
	}{
		// RFC 4231 test case 2.
		{"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	}
	for _, tt := range tests {
		if got := HMAC([]byte(tt.key), tt.value); got != tt.want {
			t.Errorf("HMAC(%q, %q) = %s, want %s", tt.key, tt.value, got, tt.want)
		}
	}
	if HMAC([]byte("k1"), "v") == HMAC([]byte("k2"), "v") {
		t.Error("HMAC ignores the key")
	}
}
