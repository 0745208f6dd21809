package valid

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// MaxSocketPath is the longest unix socket path Linux accepts (sun_path
// holds 108 bytes with the terminating NUL).
const MaxSocketPath = 107

// adminSocketName is as long as the name of a route's admin socket in its
// directory: "/" + 10 hexadecimal digits + ".sock".
const adminSocketName = "/0123456789.sock"

var (
	nameRe       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	serverNameRe = regexp.MustCompile(`^(\*\.|\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?$`)
	headerRe     = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	cookieRe     = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	adminDirRe   = regexp.MustCompile(`^[A-Za-z0-9/._-]+$`)
)

// Name checks a project, env or service name: it becomes part of container
// names, nginx file names and identifiers, so it is letters, digits, '.',
// '_' and '-', starting with a letter or digit.
func Name(s string) error {
	if !nameRe.MatchString(s) {
		return errors.New("use letters, digits, '.', '_' and '-', starting with a letter or digit")
	}
	return nil
}

// MaxServerName is the longest server name, without its wildcard, that
// nginx's default server_names_hash_bucket_size (64 bytes, a cache line)
// holds once a port has more than one name: past it nginx -t fails with
// "could not build server_names_hash".
const MaxServerName = 46

// ServerName checks an nginx server_name: one name of letters, digits,
// '_' and '-' in dot-separated labels, with at most one wildcard, either a
// leading "*." or "." or a trailing ".*", and at most MaxServerName
// characters besides the wildcard. Regular expressions (~...) and several
// names are refused.
func ServerName(s string) error {
	bare := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "*"), "."), ".*")
	leading := strings.HasPrefix(s, "*.") || strings.HasPrefix(s, ".")
	if !serverNameRe.MatchString(s) || leading && strings.HasSuffix(s, ".*") {
		return errors.New(`use one name of letters, digits, '_' and '-' in labels separated by single dots, with at most one wildcard: a leading "*." or "." or a trailing ".*" (no regular expression, no space)`)
	}
	if len(bare) > MaxServerName {
		return fmt.Errorf("use a name of at most %d characters besides its wildcard: nginx's default server_names_hash_bucket_size holds no longer one", MaxServerName)
	}
	return nil
}

// Location checks an nginx location: a prefix path starting with '/', or
// "= /path" for an exact match, without whitespace, control characters,
// quotes, backslashes, ';', '{', '}', '$' or '#'. Regular-expression
// locations (~, ~*) and the ^~ modifier are refused.
func Location(s string) error {
	path, _ := strings.CutPrefix(s, "= ")
	if !strings.HasPrefix(path, "/") {
		return errors.New(`use a path starting with '/', or "= /path" for an exact match; regular expressions (~, ~*), ^~ and named locations are not supported`)
	}
	for _, r := range path {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`;{}"'\$#`, r) {
			return errors.New(`use a path without whitespace, control characters, quotes, backslashes, ';', '{', '}', '$' or '#'`)
		}
	}
	return nil
}

// HeaderName checks an HTTP request header name nginx reads as
// $http_NAME: letters, digits and '-' (nginx ignores request headers with
// '_' unless told otherwise).
func HeaderName(s string) error {
	if !headerRe.MatchString(s) {
		return errors.New("use letters, digits and '-' only (nginx ignores request headers with '_')")
	}
	return nil
}

// CookieName checks a cookie name nginx reads as $cookie_NAME: letters,
// digits and '_' ('-' cannot be part of an nginx variable name).
func CookieName(s string) error {
	if !cookieRe.MatchString(s) {
		return errors.New("use letters, digits and '_' only (nginx reads the cookie as $cookie_NAME, and '-' cannot be part of that name)")
	}
	return nil
}

// Quotable checks a value written inside a double-quoted nginx string (a
// file path, a version): no quotes, backslashes, '$' (nginx would read a
// variable) or control characters.
func Quotable(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '$' || r == '\'' {
			return errors.New("use no quotes, backslashes, '$' or control characters")
		}
	}
	return nil
}

// ListenHost checks the address nginx listens on: an IPv4 or IPv6
// address without a zone.
func ListenHost(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return errors.New(`use an IP address such as "127.0.0.1" or "::1"`)
	}
	return nil
}

// AdminDir checks the directory of dynamic switching's admin sockets: an
// absolute path of letters, digits and "/._-", short enough that a
// socket's path in it fits in MaxSocketPath bytes.
func AdminDir(dir string) error {
	switch dir = filepath.Clean(dir); {
	case !filepath.IsAbs(dir):
		return errors.New("use an absolute path")
	case !adminDirRe.MatchString(dir):
		return errors.New("use letters, digits and '/._-' only")
	case len(dir+adminSocketName) > MaxSocketPath:
		return fmt.Errorf("use a path of at most %d bytes, or a unix socket path in it is too long", MaxSocketPath-len(adminSocketName))
	}
	return nil
}
