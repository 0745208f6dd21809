package planner

import (
	"strconv"
	"strings"
)

// parseMemory turns a docker-style size ("512m", "1g", "1048576") into
// bytes; validation has already rejected anything else, so a bad value
// means no limit.
func parseMemory(s string) int64 {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'k':
		mult = 1 << 10
	case 'm':
		mult = 1 << 20
	case 'g':
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(s, "b"), 10, 64)
	if err != nil {
		return 0
	}
	return n * mult
}
