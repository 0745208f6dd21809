package docker

import "strings"

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
