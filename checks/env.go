package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// envSpec is an env check: every variable in names is set and non-empty
// in Env.Environ, at least min_length characters long when set, and none
// holds a forbidden value (compared without case and surrounding space).
// Values never appear in evidence or errors.
type envSpec struct {
	names     []string
	minLength int
	forbidden []string
}

func parseEnv(a *attrs) runFunc {
	s := envSpec{names: a.strs("names", true), minLength: a.integer("min_length", 0), forbidden: a.strs("forbidden", false)}
	if s.names != nil && len(s.names) == 0 {
		a.errorf("names", "must name at least one variable")
	}
	for _, n := range s.names {
		if n == "" || strings.ContainsAny(n, "= \t\n") {
			a.errorf("names", "holds %q, which is not a variable name", n)
		}
	}
	if s.minLength < 0 {
		a.errorf("min_length", "must not be negative")
	}
	return s.run
}

func (s envSpec) run(_ context.Context, env *Env) (string, error) {
	vals := map[string]string{}
	for _, kv := range env.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vals[k] = v
		}
	}
	var ok []string
	var errs []error
	for _, n := range s.names {
		v, set := vals[n]
		switch {
		case !set:
			errs = append(errs, fmt.Errorf("%s is not set", n))
		case strings.TrimSpace(v) == "":
			errs = append(errs, fmt.Errorf("%s is empty", n))
		case len(v) < s.minLength:
			errs = append(errs, fmt.Errorf("%s has %d characters, fewer than min_length %d", n, len(v), s.minLength))
		case s.isForbidden(v):
			errs = append(errs, fmt.Errorf("%s holds a forbidden placeholder value", n))
		default:
			ok = append(ok, n)
		}
	}
	ev := fmt.Sprintf("%d of %d set", len(ok), len(s.names))
	if len(ok) > 0 {
		ev += ": " + strings.Join(ok, ", ")
	}
	return ev, errors.Join(errs...)
}

func (s envSpec) isForbidden(v string) bool {
	v = strings.TrimSpace(v)
	for _, f := range s.forbidden {
		if strings.EqualFold(v, strings.TrimSpace(f)) {
			return true
		}
	}
	return false
}
