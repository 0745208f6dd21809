// Command slipway turns a deployment runbook into code: it plans, applies
// and rolls back releases declared in HCL through Docker, nginx and
// PostgreSQL.
package main

import (
	"os"

	"github.com/slipwayhq/slipway/cmd/slipway/cli"
)

func main() { os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
