package planner

import "github.com/slipwayhq/slipway/internal/valid"

// parseMemory turns a docker-style size ("512m", "1g", "1048576") into
// bytes by the rule validation applies (valid.Memory), so the two read a
// size alike; validation has already rejected anything else, so a bad
// value means no limit.
func parseMemory(s string) int64 {
	n, err := valid.Memory(s)
	if err != nil {
		return 0
	}
	return n
}
