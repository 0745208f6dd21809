package checks

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Placeholders a preview check's string attributes may hold; they are
// replaced at run time by the candidate's address.
const (
	CandidateURL     = "{{candidate.url}}"
	CandidateAddress = "{{candidate.address}}"
)

// attrs reads one kind block's attributes, collecting every problem so a
// check reports all of them at once. Strings have the candidate
// placeholders replaced; needsCandidate records that one was found without
// a candidate.
type attrs struct {
	kind           string
	m              map[string]cty.Value
	candidate      string // "http://127.0.0.1:PORT", "" when none
	errs           []error
	needsCandidate bool
}

func newAttrs(kind string, m map[string]cty.Value, candidate string) *attrs {
	return &attrs{kind: kind, m: m, candidate: candidate}
}

func (a *attrs) errorf(name, format string, args ...any) {
	a.errs = append(a.errs, fmt.Errorf("%w: %s.%s %s", ErrInvalidAttribute, a.kind, name, fmt.Sprintf(format, args...)))
}

// value returns the attribute unmarked, and whether it is set (non-null).
func (a *attrs) value(name string) (cty.Value, bool) {
	v, ok := a.m[name]
	if !ok {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		a.errorf(name, "is not known until apply")
		return cty.NilVal, false
	}
	return v, true
}

// check reports unknown attributes; valid are the kind's attribute names.
func (a *attrs) check(valid []string) {
	var unknown []string
	for name := range a.m {
		found := false
		for _, v := range valid {
			found = found || v == name
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		if len(valid) == 1 && valid[0] == "timeout" {
			a.errs = append(a.errs, fmt.Errorf("%w: %s checks take no attribute %q (only timeout)", ErrInvalidAttribute, a.kind, name))
			continue
		}
		a.errs = append(a.errs, fmt.Errorf("%w: %s checks take no attribute %q; valid: %s", ErrInvalidAttribute, a.kind, name, strings.Join(valid, ", ")))
	}
}

func (a *attrs) err() error { return errors.Join(a.errs...) }

func (a *attrs) subst(s string) string {
	if !strings.Contains(s, "{{candidate.") {
		return s
	}
	if a.candidate == "" {
		a.needsCandidate = true
		return s
	}
	addr := strings.TrimPrefix(strings.TrimPrefix(a.candidate, "http://"), "https://")
	return strings.NewReplacer(CandidateURL, a.candidate, CandidateAddress, addr).Replace(s)
}

// str returns a string attribute; numbers and bools convert as HCL would.
func (a *attrs) str(name string, required bool) string {
	v, ok := a.value(name)
	if !ok {
		if required {
			a.errorf(name, "is required")
		}
		return ""
	}
	switch v.Type() {
	case cty.String:
		return a.subst(v.AsString())
	case cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case cty.Bool:
		return strconv.FormatBool(v.True())
	}
	a.errorf(name, "must be a string, not %s", v.Type().FriendlyName())
	return ""
}

// strs returns a list of strings; a single string is a list of one.
func (a *attrs) strs(name string, required bool) []string {
	v, ok := a.value(name)
	if !ok {
		if required {
			a.errorf(name, "is required")
		}
		return nil
	}
	if v.Type() == cty.String {
		return []string{a.subst(v.AsString())}
	}
	ty := v.Type()
	if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		a.errorf(name, "must be a list of strings, not %s", ty.FriendlyName())
		return nil
	}
	out := []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		switch {
		case ev.IsNull():
			a.errorf(name, "must not hold null")
			return nil
		case ev.Type() == cty.String:
			out = append(out, a.subst(ev.AsString()))
		case ev.Type() == cty.Number:
			out = append(out, ev.AsBigFloat().Text('f', -1))
		default:
			a.errorf(name, "must be a list of strings, not hold a %s", ev.Type().FriendlyName())
			return nil
		}
	}
	return out
}

// strMap returns a map or object of strings (numbers and bools convert).
func (a *attrs) strMap(name string) map[string]string {
	v, ok := a.value(name)
	if !ok {
		return nil
	}
	ty := v.Type()
	if !ty.IsMapType() && !ty.IsObjectType() {
		a.errorf(name, "must be a map of strings, not %s", ty.FriendlyName())
		return nil
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		key := k.AsString()
		switch {
		case ev.IsNull():
			a.errorf(name, "key %q must not be null", key)
		case ev.Type() == cty.String:
			out[key] = a.subst(ev.AsString())
		case ev.Type() == cty.Number:
			out[key] = ev.AsBigFloat().Text('f', -1)
		case ev.Type() == cty.Bool:
			out[key] = strconv.FormatBool(ev.True())
		default:
			a.errorf(name, "key %q must be a string, not %s", key, ev.Type().FriendlyName())
		}
	}
	return out
}

// boolean returns a bool attribute, def when unset.
func (a *attrs) boolean(name string, def bool) bool {
	v, ok := a.value(name)
	if !ok {
		return def
	}
	if v.Type() != cty.Bool {
		a.errorf(name, "must be true or false, not %s", v.Type().FriendlyName())
		return def
	}
	return v.True()
}

// integer returns a whole-number attribute, def when unset.
func (a *attrs) integer(name string, def int) int {
	v, ok := a.value(name)
	if !ok {
		return def
	}
	n, ok := toInt(v)
	if !ok {
		a.errorf(name, "must be a whole number")
		return def
	}
	return n
}

// ints returns a number or a list of numbers.
func (a *attrs) ints(name string) []int {
	v, ok := a.value(name)
	if !ok {
		return nil
	}
	if v.Type() == cty.Number || v.Type() == cty.String {
		n, ok := toInt(v)
		if !ok {
			a.errorf(name, "must be a whole number or a list of them")
			return nil
		}
		return []int{n}
	}
	ty := v.Type()
	if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		a.errorf(name, "must be a whole number or a list of them, not %s", ty.FriendlyName())
		return nil
	}
	var out []int
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		n, ok := toInt(ev)
		if !ok {
			a.errorf(name, "must be a whole number or a list of them")
			return nil
		}
		out = append(out, n)
	}
	return out
}

func toInt(v cty.Value) (int, bool) {
	if v.IsNull() {
		return 0, false
	}
	switch v.Type() {
	case cty.Number:
		i, acc := v.AsBigFloat().Int64()
		if acc != big.Exact {
			return 0, false
		}
		return int(i), true
	case cty.String:
		i, err := strconv.Atoi(strings.TrimSpace(v.AsString()))
		return i, err == nil
	}
	return 0, false
}

// duration returns a duration attribute ("5s", "1m30s"); a bare number is
// seconds. def when unset.
func (a *attrs) duration(name string, def time.Duration) time.Duration {
	v, ok := a.value(name)
	if !ok {
		return def
	}
	var d time.Duration
	switch v.Type() {
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		d = time.Duration(f * float64(time.Second))
	case cty.String:
		var err error
		d, err = time.ParseDuration(strings.TrimSpace(v.AsString()))
		if err != nil {
			a.errorf(name, "must be a duration such as \"5s\" or \"1m30s\", not %q", v.AsString())
			return def
		}
	default:
		a.errorf(name, "must be a duration such as \"5s\", not %s", v.Type().FriendlyName())
		return def
	}
	if d <= 0 {
		a.errorf(name, "must be positive")
		return def
	}
	return d
}

// regexp returns a compiled regular expression attribute, nil when unset.
func (a *attrs) regexp(name string) *regexp.Regexp {
	s := a.str(name, false)
	if s == "" {
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		a.errorf(name, "is not a valid regular expression: %v", err)
		return nil
	}
	return re
}

// amount is a size given in bytes or as a percentage of a total.
type amount struct {
	bytes   uint64
	percent float64
	isPct   bool
}

func (m amount) String() string {
	if m.isPct {
		return strconv.FormatFloat(m.percent, 'f', -1, 64) + "%"
	}
	return formatBytes(m.bytes)
}

// of returns the amount in bytes given the total.
func (m amount) of(total uint64) uint64 {
	if m.isPct {
		return uint64(m.percent / 100 * float64(total))
	}
	return m.bytes
}

// amount returns a size attribute: "10%", "1GB", "512MiB", "1048576".
func (a *attrs) amount(name string, required bool) (amount, bool) {
	s := a.str(name, required)
	if s == "" {
		return amount{}, false
	}
	m, err := parseAmount(s)
	if err != nil {
		a.errorf(name, "%v", err)
		return amount{}, false
	}
	return m, true
}

var amountRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z%]*)$`)

func parseAmount(s string) (amount, error) {
	m := amountRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return amount{}, fmt.Errorf("must be a size such as \"1GB\", \"512MiB\" or \"10%%\", not %q", s)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	unit := strings.ToUpper(m[2])
	if unit == "%" {
		if n > 100 {
			return amount{}, fmt.Errorf("must be a percentage from 0%% to 100%%, not %q", s)
		}
		return amount{percent: n, isPct: true}, nil
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9, "T": 1e12, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
	}[unit]
	if mult == 0 {
		return amount{}, fmt.Errorf("has an unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB or %%)", m[2])
	}
	return amount{bytes: uint64(n * mult)}, nil
}

// formatBytes renders a byte count for people ("1.5 GB").
func formatBytes(b uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	f := float64(b)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", b)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// sensitiveStrings returns every string in v that carries a mark (the
// sensitive mark is the only one config sets), and the strings inside
// marked collections.
func sensitiveStrings(v cty.Value, marked bool, out []string) []string {
	v, marks := v.Unmark()
	marked = marked || len(marks) > 0
	if v.IsNull() || !v.IsKnown() {
		return out
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		if marked && strings.TrimSpace(v.AsString()) != "" {
			out = append(out, v.AsString())
		}
	case ty.IsListType() || ty.IsSetType() || ty.IsMapType() || ty.IsTupleType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = sensitiveStrings(ev, marked, out)
		}
	}
	return out
}
