package valid

import (
	"errors"
	"math"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
)

// Limits of the container resources, as Docker takes them.
const (
	// MinMemory is the smallest memory limit Docker accepts (6 MiB).
	MinMemory = 6 << 20
	// MaxMemory is the largest memory limit slipway accepts (1 TiB).
	MaxMemory = 1 << 40
	// MinCPUs is the smallest CPU limit Docker accepts.
	MinCPUs = 0.01
	// MaxCPUs is the largest CPU limit slipway accepts; Docker also
	// refuses more CPUs than the host has.
	MaxCPUs = 1024
)

var (
	envNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	memoryRe     = regexp.MustCompile(`^([0-9]+)([bkmgBKMG]?)$`)
	volumeNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]+$`)
	hostNameRe   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`)
)

// Image checks a Docker image reference against the grammar of
// github.com/distribution/reference, as the engine parses it:
// [registry[:port]/]name[:tag][@algorithm:digest], the name in lower case.
func Image(s string) error {
	_, err := reference.ParseNormalizedNamed(s)
	if err == nil {
		return nil
	}
	const want = "use [registry[:port]/]name[:tag][@sha256:digest] with a lower-case name"
	var why string
	switch {
	case s == "" || errors.Is(err, reference.ErrNameEmpty):
		why = "the reference is empty"
	case strings.Contains(err.Error(), "lowercase") || errors.Is(err, reference.ErrNameContainsUppercase):
		why = "the name has upper-case letters"
	case errors.Is(err, reference.ErrNameTooLong):
		why = "the name is longer than 255 characters"
	case strings.Contains(err.Error(), "64-byte hexadecimal"):
		why = "a bare image id is not a name"
	case strings.HasSuffix(s, ":") || strings.HasSuffix(s, "@"):
		why = "the tag or digest is empty"
	case strings.Contains(s, "@"):
		why = "the reference or its digest is malformed"
	default:
		why = "the reference is malformed"
	}
	return errors.New(why + "; " + want)
}

// EnvName checks a container environment variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func EnvName(s string) error {
	if !envNameRe.MatchString(s) {
		return errors.New("use letters, digits and '_', not starting with a digit")
	}
	return nil
}

// HostIP checks the host address a container port is published on: an
// IPv4 or IPv6 address without a zone.
func HostIP(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return errors.New(`use an IP address such as "127.0.0.1" or "0.0.0.0"`)
	}
	return nil
}

// Memory parses a memory limit: a whole number with an optional unit b, k,
// m or g (case-insensitive), "0" for none. It returns the limit in bytes,
// between MinMemory and MaxMemory unless 0.
func Memory(s string) (int64, error) {
	m := memoryRe.FindStringSubmatch(s)
	if m == nil {
		return 0, errors.New(`use a whole number with an optional unit b, k, m or g, such as "256m"`)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[strings.ToLower(m[2])]
	if err != nil || n > MaxMemory/unit {
		return 0, errors.New("use at most 1024g")
	}
	n *= unit
	if n != 0 && n < MinMemory {
		return 0, errors.New("use at least 6m, the smallest limit Docker accepts, or 0 for none")
	}
	return n, nil
}

// CPUs checks a CPU limit: 0 for none, or MinCPUs to MaxCPUs.
func CPUs(f float64) error {
	if math.IsNaN(f) || f != 0 && (f < MinCPUs || f > MaxCPUs) {
		return errors.New("use 0 (no limit) or 0.01 to 1024")
	}
	return nil
}

// volumeModes are the options of a volume, by the group of which at most
// one may be given.
var volumeModes = map[string]string{
	"rw": "access", "ro": "access",
	"z": "label", "Z": "label",
	"nocopy": "copy",
	"shared": "propagation", "rshared": "propagation", "slave": "propagation",
	"rslave": "propagation", "private": "propagation", "rprivate": "propagation",
	"consistent": "consistency", "cached": "consistency", "delegated": "consistency",
}

// Volume checks a volume as Docker's bind syntax takes it: DST,
// SRC:DST or SRC:DST:OPTS, where DST is an absolute path other than "/",
// SRC an absolute host path or a volume name ([A-Za-z0-9][A-Za-z0-9_.-]+,
// a relative host path is not one), and OPTS a comma-separated list of rw
// or ro, z or Z, nocopy, a propagation and a consistency.
func Volume(s string) error {
	parts := strings.Split(s, ":")
	var src, dst, opts string
	switch len(parts) {
	case 1:
		dst = parts[0]
	case 2:
		src, dst = parts[0], parts[1]
	case 3:
		src, dst, opts = parts[0], parts[1], parts[2]
	default:
		return errors.New("use SRC:DST or SRC:DST:OPTS (a path holds no ':')")
	}
	if !strings.HasPrefix(dst, "/") || strings.Trim(dst, "/") == "" {
		return errors.New("use an absolute container path other than \"/\" as DST")
	}
	if src != "" && !strings.HasPrefix(src, "/") && !volumeNameRe.MatchString(src) {
		return errors.New("use an absolute host path or a volume name (letters, digits, '_', '.', '-') as SRC; a relative path is not one")
	}
	if src == "" && len(parts) > 1 {
		return errors.New("SRC is empty")
	}
	seen := map[string]bool{}
	for _, o := range strings.Split(opts, ",") {
		if opts == "" {
			break
		}
		g, ok := volumeModes[o]
		if !ok || seen[g] {
			return errors.New("use options among rw or ro, z or Z, nocopy, one propagation (shared, rshared, slave, rslave, private, rprivate) and one consistency (consistent, cached, delegated)")
		}
		seen[g] = true
	}
	if seen["copy"] && strings.HasPrefix(src, "/") {
		return errors.New("nocopy applies to volumes, not host paths")
	}
	return nil
}

// ExtraHost checks an /etc/hosts entry: NAME:IP, the IP an IPv4 or IPv6
// address or "host-gateway".
func ExtraHost(s string) error {
	name, ip, ok := strings.Cut(s, ":")
	if !ok || !hostNameRe.MatchString(name) {
		return errors.New("use NAME:IP, such as \"db.internal:10.0.0.5\" or \"host.docker.internal:host-gateway\"")
	}
	if ip == "host-gateway" {
		return nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
	if err != nil || a.Zone() != "" {
		return errors.New("use an IP address or host-gateway after the ':'")
	}
	return nil
}

// WebhookURL checks a URL slipway posts to: http or https, with a host.
func WebhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return errors.New("use an http:// or https:// URL with a host")
	}
	return nil
}
