package local

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/slipwayhq/slipway/internal/atomicfile"
)

// secretKeySize is the length of the HMAC key in bytes.
const secretKeySize = 32

// SecretKey returns the key that HMACs of sensitive values are made with:
// 32 random bytes in <dir>/secret.key (mode 0600), created on first use. The
// key never enters state, snapshots or records. A key file that others can
// read, of the wrong size, or that is a symbolic link, is an error.
func (b *Backend) SecretKey() ([]byte, error) {
	path := filepath.Join(b.dir, SecretKeyFile)
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, secretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	if err := b.ensureDir(b.dir); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	err = atomicfile.Create(path, key)
	if errors.Is(err, atomicfile.ErrExists) {
		return readKey(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	return key, nil
}

// readKey reads and checks a key file; a missing file wraps fs.ErrNotExist.
func readKey(path string) ([]byte, error) {
	f, err := openNoFollow(path, os.O_RDONLY, "secret key")
	if errors.Is(err, ErrUnsafeFile) {
		return nil, err // it names the file
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read secret key %q: mode %04o lets others read it; run 'chmod 600 %s'", path, fi.Mode().Perm(), path)
	}
	key, err := io.ReadAll(io.LimitReader(f, secretKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	if len(key) != secretKeySize {
		return nil, fmt.Errorf("read secret key %q: want %d bytes, the file does not hold exactly that", path, secretKeySize)
	}
	return key, nil
}

// HMAC returns the hex HMAC-SHA256 of value under key: what state stores in
// place of a sensitive value.
func HMAC(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
