package docker

import (
	"sort"
	"strings"
)

// masked replaces every sensitive value in errors and log lines.
const masked = "(sensitive)"

// masker replaces sensitive values in text. The zero value masks nothing.
type masker struct {
	values []string // longest first, so a value containing another is masked whole
}

// newMasker returns a masker for the non-empty values given.
func newMasker(values ...[]string) masker {
	seen := map[string]bool{}
	var m masker
	for _, vs := range values {
		for _, v := range vs {
			if v == "" || seen[v] {
				continue
			}
			seen[v] = true
			m.values = append(m.values, v)
		}
	}
	sort.SliceStable(m.values, func(i, j int) bool { return len(m.values[i]) > len(m.values[j]) })
	return m
}

// mask returns s with every sensitive value replaced.
func (m masker) mask(s string) string {
	for _, v := range m.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, masked)
		}
	}
	return s
}

// maskLines masks every line in place and returns lines.
func (m masker) maskLines(lines []string) []string {
	for i, l := range lines {
		lines[i] = m.mask(l)
	}
	return lines
}

// sensitiveValues returns the values of the named variables in a container
// environment given as NAME=value strings.
func sensitiveValues(env []string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []string
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && want[name] {
			out = append(out, value)
		}
	}
	return out
}
