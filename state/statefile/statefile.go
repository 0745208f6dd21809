package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/slipwayhq/slipway/state"
)

// FormatVersion is the version of the state file format this package writes
// and the newest it reads.
const FormatVersion = 1

// ErrCorrupt is wrapped by every error about a state or journal file that is
// not a well-formed file of a supported version.
var ErrCorrupt = errors.New("file is corrupt")

// UnsupportedVersionError reports a file written by a newer (or unknown)
// format version.
type UnsupportedVersionError struct {
	Version   int // the version found in the file
	Supported int // FormatVersion
}

// Error says which version was found and what to do.
func (e *UnsupportedVersionError) Error() string {
	if e.Version > e.Supported {
		return fmt.Sprintf("state format version %d is newer than this slipway supports (%d); upgrade slipway", e.Version, e.Supported)
	}
	return fmt.Sprintf("state format version %d is not supported (this slipway reads version %d)", e.Version, e.Supported)
}

// Read decodes a state file. The result always has non-nil Services,
// Databases and Secrets maps; empty slices and weights are nil.
func Read(r io.Reader) (*state.State, error) {
	var f fileV1
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	return f.toState()
}

// Write encodes s as a state file of FormatVersion. It refuses a state that
// Read would not accept back, such as a nil service or a secret that is not a
// hex HMAC-SHA256, so that a mistake never reaches the disk.
func Write(w io.Writer, s *state.State) error {
	if s == nil {
		return errors.New("write state: nil state")
	}
	f, err := fromState(s)
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return encode(w, f)
}

// decode reads one JSON object into v (a pointer to a struct whose first
// field is FormatVersion), checking the version before anything else.
func decode(r io.Reader, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	switch {
	case head.FormatVersion == nil:
		return fmt.Errorf("%w: no format_version", ErrCorrupt)
	case *head.FormatVersion != FormatVersion:
		return &UnsupportedVersionError{Version: *head.FormatVersion, Supported: FormatVersion}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON object", ErrCorrupt)
	}
	return nil
}

// encode writes v as indented JSON with a trailing newline.
func encode(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// corruptf returns an error wrapping ErrCorrupt.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// utc returns t in UTC, refusing times that JSON cannot hold (years outside
// 0000-9999 once in UTC).
func utc(t time.Time, what string) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, nil
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("%s: year %d out of range", what, y)
	}
	return t, nil
}

// isHMAC reports whether s is a lower-case hex HMAC-SHA256.
func isHMAC(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
