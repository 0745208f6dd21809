package nginx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/slipwayhq/slipway/providers"
)

// parseFile reads a route file's content. ok is false when the first line
// is not a well-formed slipway header; Actual is set either way.
func parseFile(content []byte) (f providers.RouteFile, ok bool) {
	line, body, found := bytes.Cut(content, []byte("\n"))
	if !found {
		body = nil
	}
	sum := sha256.Sum256(body)
	f.Actual = "sha256:" + hex.EncodeToString(sum[:])
	rest, isOurs := strings.CutPrefix(string(line), headerPrefix)
	if !isOurs || !found {
		return f, false
	}
	seen := map[string]bool{}
	for _, field := range strings.Fields(rest) {
		k, val, _ := strings.Cut(field, "=")
		seen[k] = true
		switch k {
		case "project":
			f.Project = val
		case "env":
			f.Env = val
		case "service":
			f.Service = val
		case "release":
			n, err := strconv.Atoi(val)
			if err != nil {
				return f, false
			}
			f.Release = n
		case "checksum":
			f.Checksum = val
		}
	}
	for _, k := range []string{"project", "env", "service", "release", "checksum"} {
		if !seen[k] {
			return f, false
		}
	}
	return f, f.Project != "" && f.Service != ""
}

// liveOf recovers, from a file slipway rendered, what a probe needs (the
// listen port, server name, location and TLS) and the tag its responses
// carry. ok is false when the file no longer says.
func liveOf(content []byte) (spec providers.RouteSpec, tag string, ok bool) {
	for _, line := range strings.Split(string(content), "\n") {
		line = strings.TrimSpace(line)
		field := func(prefix string) (string, bool) {
			v, found := strings.CutPrefix(line, prefix)
			return strings.TrimSuffix(v, ";"), found
		}
		if v, found := field("listen "); found && spec.Listen == 0 {
			v, tls := strings.CutSuffix(v, " ssl")
			if i := strings.LastIndexByte(v, ':'); i >= 0 {
				v = v[i+1:]
			}
			spec.Listen, _ = strconv.Atoi(v)
			if tls {
				spec.TLSCert = "set"
			}
		} else if v, found := field("server_name "); found && spec.ServerName == "" {
			spec.ServerName = v
		} else if v, found := strings.CutPrefix(line, "location "); found && spec.Location == "" {
			spec.Location = strings.TrimSuffix(v, " {")
		} else if v, found := field("add_header " + HeaderRelease + " "); found && tag == "" {
			tag = strings.Trim(strings.TrimSuffix(v, " always"), `"`)
		}
	}
	if strings.HasPrefix(tag, "$") {
		// A dynamic file: responses carry the tag of its table.
		t, ok := fileTable(content)
		if !ok {
			return spec, "", false
		}
		tag = t.Tag
	}
	return spec, tag, spec.Listen > 0 && spec.Location != "" && tag != ""
}
