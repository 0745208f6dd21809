package statefile

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/slipwayhq/slipway/state"
)

// FuzzRead checks that Read never panics, and that whatever it accepts
// Write writes back and Read reads back equal, byte-stable from then on.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	for _, s := range []*state.State{state.New("p", ""), full()} {
		buf.Reset()
		if err := Write(&buf, s); err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte(nil), buf.Bytes()...))
	}
	f.Add([]byte(`{"format_version": 1, "updated_at": "0000-01-01T00:30:00+01:00"}`))
	f.Add([]byte(`{"format_version": 1, "services": {"a": {"weights": {}, "containers": []}}}`))
	f.Add([]byte(`{"format_version": 9}`))
	f.Add([]byte(`{"format_version": 1, "secrets": {"\xff": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := Write(&first, s); err != nil {
			t.Fatalf("Write of a state Read accepted: %v", err)
		}
		s2, err := Read(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("Read of Write's output: %v\n%s", err, first.Bytes())
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("decodes differ:\n%+v\n%+v", s, s2)
		}
		var second bytes.Buffer
		if err := Write(&second, s2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("encodings differ:\n%s\n%s", first.Bytes(), second.Bytes())
		}
	})
}

// FuzzReadJournal checks the same properties for the journal codec.
func FuzzReadJournal(f *testing.F) {
	f.Add([]byte(`{"format_version": 1, "operation": "apply", "entries": [{"step": 1, "phase": "done", "time": "2025-01-01T00:00:00+02:00"}]}`))
	f.Add([]byte(`{"format_version": 1, "entries": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := ReadJournal(bytes.NewReader(data))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := WriteJournal(&first, j); err != nil {
			t.Fatalf("WriteJournal of a journal ReadJournal accepted: %v", err)
		}
		j2, err := ReadJournal(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("ReadJournal of WriteJournal's output: %v\n%s", err, first.Bytes())
		}
		if !reflect.DeepEqual(j, j2) {
			t.Fatalf("decodes differ:\n%+v\n%+v", j, j2)
		}
	})
}
