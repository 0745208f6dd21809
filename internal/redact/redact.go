package redact

import (
	"sort"
	"strings"
)

// MinLen is the length in bytes below which a sensitive value is not masked
// in free text. Six bytes keeps common short passwords ("hunter2") masked,
// while values short enough to be ordinary words or fragments of them
// (a letter, "web", "true", "1234") would match by chance in almost any
// line of text, garbling it and revealing the value by the pattern of the
// marks.
const MinLen = 6

// Mark replaces a sensitive value wherever it would be shown.
const Mark = "(sensitive)"

// Masker replaces sensitive values in text. The zero value masks nothing.
// A Masker is safe for concurrent use.
type Masker struct {
	r *strings.Replacer
}

// New returns a Masker for the values of at least MinLen bytes among
// values; shorter ones (and duplicates) are ignored.
func New(values ...string) Masker {
	seen := map[string]bool{}
	var vals []string
	for _, v := range values {
		if Maskable(v) && !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return Masker{}
	}
	// Longest first: strings.Replacer tries the old strings in argument
	// order at each position, so a value holding another is masked whole.
	sort.Slice(vals, func(i, j int) bool {
		if len(vals[i]) != len(vals[j]) {
			return len(vals[i]) > len(vals[j])
		}
		return vals[i] < vals[j]
	})
	pairs := make([]string, 0, 2*len(vals))
	for _, v := range vals {
		pairs = append(pairs, v, Mark)
	}
	return Masker{r: strings.NewReplacer(pairs...)}
}

// Maskable reports whether v is long enough to be masked in free text.
func Maskable(v string) bool { return len(v) >= MinLen }

// Mask returns s with every whole occurrence of each value of m replaced
// by Mark.
func (m Masker) Mask(s string) string {
	if m.r == nil {
		return s
	}
	return m.r.Replace(s)
}

// Lines masks every line in place and returns lines.
func (m Masker) Lines(lines []string) []string {
	for i, l := range lines {
		lines[i] = m.Mask(l)
	}
	return lines
}
