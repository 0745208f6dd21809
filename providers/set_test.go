package providers

import (
	"testing"
)

type closingRuntime struct {
	Runtime
	closed *int
}

func (r closingRuntime) Close() error { *r.closed++; return nil }

type closingDB struct {
	Database
	closed *int
}

func (d closingDB) Close() error { *d.closed++; return nil }

type plainRouter struct{ Router }

func (plainRouter) Mode() string { return "reload" }

// TestSetClose closes each provider that holds something, and a nil set
// is no error.
func TestSetClose(t *testing.T) {
	n := 0
	s := &Set{Runtime: closingRuntime{closed: &n}, Router: plainRouter{}, Databases: map[string]Database{"a": closingDB{closed: &n}, "b": closingDB{closed: &n}}}
	s.Close()
	if n != 3 {
		t.Errorf("closed %d providers, want 3", n)
	}
	var none *Set
	none.Close()
}
