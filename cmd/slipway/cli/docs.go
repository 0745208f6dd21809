package cli

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// App returns slipway's command-line application with every command, flag
// and description as Main runs it, its output discarded. It is for
// generating the command reference (internal/docgen); to run slipway, call
// Main.
func App() *cli.App {
	return newApp(&streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
}
