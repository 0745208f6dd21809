package nginx

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/slipwayhq/slipway/providers"
)

// ErrBadTable is wrapped by Table.UnmarshalText when the text is not a
// table.
var ErrBadTable = errors.New("malformed live table")

// Table is the live routing of one route in dynamic mode: what nginx's Lua
// code reads on every request. The route file holds it (so a started or
// reloaded nginx begins with it), and slipway changes it without a reload
// over the route's admin endpoint.
//
// It holds every part of a RouteSpec that can change without a reload;
// the rest (listen port, server name, location, TLS files, timeouts, the
// access log) is the route's shape. Groups are normalised as the reload
// rendering does: an empty candidate group is the stable one at weight 0,
// an empty stable group is the candidate one at weight 100, and the canary
// header applies only when both groups have servers.
type Table struct {
	// Release is the release this routing belongs to.
	Release int
	// Tag is the value of the X-Slipway-Release response header:
	// "<release>/<short checksum of the route file>".
	Tag string
	// Stable and Candidate are host:port addresses (IP literals).
	Stable    []string
	Candidate []string
	// CandidateWeight is the share of requests, 0-100, sent to Candidate.
	CandidateWeight int
	// StableVersion and CandidateVersion name the groups' versions in the
	// access log; "" logs "-".
	StableVersion    string
	CandidateVersion string
	// StickyCookie, when set, keeps a client on one group (see
	// providers.RouteSpec).
	StickyCookie string
	// CanaryHeader, when set, sends a request carrying it to Candidate.
	CanaryHeader string
}

// tableOf returns the normalised table of spec, whose rendering has tag.
func tableOf(spec providers.RouteSpec, tag string) Table {
	t := Table{
		Release: spec.Release, Tag: tag,
		Stable: slices.Clone(spec.Stable), Candidate: slices.Clone(spec.Candidate),
		CandidateWeight: spec.CandidateWeight,
		StableVersion:   spec.StableVersion, CandidateVersion: spec.CandidateVersion,
		StickyCookie: spec.StickyCookie, CanaryHeader: spec.CanaryHeader,
	}
	switch {
	case len(t.Candidate) == 0:
		t.Candidate, t.CandidateWeight, t.CanaryHeader = slices.Clone(t.Stable), 0, ""
	case len(t.Stable) == 0:
		t.Stable, t.CandidateWeight, t.CanaryHeader = slices.Clone(t.Candidate), 100, ""
	}
	return t
}

// MarshalText writes the table as the admin endpoint and the route file
// carry it: one "key value" line per field ("key" alone when the value is
// empty), in a fixed order, addresses separated by spaces.
func (t Table) MarshalText() ([]byte, error) {
	var b strings.Builder
	line := func(k, v string) {
		if v == "" {
			b.WriteString(k + "\n")
		} else {
			b.WriteString(k + " " + v + "\n")
		}
	}
	line("release", strconv.Itoa(t.Release))
	line("tag", t.Tag)
	line("weight", strconv.Itoa(t.CandidateWeight))
	line("stable", strings.Join(t.Stable, " "))
	line("candidate", strings.Join(t.Candidate, " "))
	line("stable_version", t.StableVersion)
	line("candidate_version", t.CandidateVersion)
	line("cookie", t.StickyCookie)
	line("header", t.CanaryHeader)
	return []byte(b.String()), nil
}

// UnmarshalText reads what MarshalText wrote; unknown keys are an error
// wrapping ErrBadTable.
func (t *Table) UnmarshalText(text []byte) error {
	*t = Table{}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		k, v, _ := strings.Cut(line, " ")
		if seen[k] {
			return fmt.Errorf("%w: duplicate key %q", ErrBadTable, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "release":
			t.Release, err = strconv.Atoi(v)
		case "tag":
			t.Tag = v
		case "weight":
			t.CandidateWeight, err = strconv.Atoi(v)
		case "stable":
			t.Stable = strings.Fields(v)
		case "candidate":
			t.Candidate = strings.Fields(v)
		case "stable_version":
			t.StableVersion = v
		case "candidate_version":
			t.CandidateVersion = v
		case "cookie":
			t.StickyCookie = v
		case "header":
			t.CanaryHeader = v
		default:
			return fmt.Errorf("%w: unknown line %q", ErrBadTable, line)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadTable, k, err)
		}
	}
	for _, k := range []string{"release", "tag", "weight", "stable", "candidate"} {
		if !seen[k] {
			return fmt.Errorf("%w: no %s line", ErrBadTable, k)
		}
	}
	return nil
}

// Equal reports whether t and u route the same way with the same tag.
func (t Table) Equal(u Table) bool {
	return t.Release == u.Release && t.Tag == u.Tag && slices.Equal(t.Stable, u.Stable) &&
		slices.Equal(t.Candidate, u.Candidate) && t.CandidateWeight == u.CandidateWeight &&
		t.StableVersion == u.StableVersion && t.CandidateVersion == u.CandidateVersion &&
		t.StickyCookie == u.StickyCookie && t.CanaryHeader == u.CanaryHeader
}

// String is the table on one line, for messages.
func (t Table) String() string {
	s := fmt.Sprintf("release %d (%s): stable %s, candidate %s at %d%%",
		t.Release, t.Tag, strings.Join(t.Stable, ","), strings.Join(t.Candidate, ","), t.CandidateWeight)
	if t.StickyCookie != "" {
		s += ", sticky cookie " + t.StickyCookie
	}
	if t.CanaryHeader != "" {
		s += ", canary header " + t.CanaryHeader
	}
	return s
}
