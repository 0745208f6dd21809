package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/cmd/slipway/cli"
	"github.com/slipwayhq/slipway/config"
)

// errStale reports generated files that differ from the committed ones.
var errStale = errors.New("generated documentation is stale")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its arguments and streams; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("docgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "docs", "write the files into `DIR`")
	check := fs.Bool("check", false, "write nothing; exit 1 when a file is stale")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "docgen: error: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := generate(*dir, *check, stdout); err != nil {
		fmt.Fprintf(stderr, "docgen: error: %v\n", err)
		if errors.Is(err, errStale) {
			fmt.Fprintln(stderr, "docgen: hint: run 'make docs' and commit the result")
		}
		return 1
	}
	return 0
}

// files returns the generated files by name.
func files() map[string][]byte {
	return map[string][]byte{
		"configuration.md": configReference(config.Reference(), checks.Attributes),
		"cli.md":           cliReference(cli.App()),
	}
}

// generate writes each generated file into dir when it changed, naming it
// on out; with check it writes nothing and returns errStale when any
// differs.
func generate(dir string, check bool, out io.Writer) error {
	var stale []string
	for _, name := range []string{"configuration.md", "cli.md"} {
		want := files()[name]
		p := filepath.Join(dir, name)
		got, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read %q: %w", p, err)
		}
		if bytes.Equal(got, want) {
			continue
		}
		if check {
			stale = append(stale, p)
			continue
		}
		if err := os.WriteFile(p, want, 0o644); err != nil {
			return fmt.Errorf("write %q: %w", p, err)
		}
		fmt.Fprintf(out, "wrote %s\n", p)
	}
	if len(stale) > 0 {
		return fmt.Errorf("%w: %v", errStale, stale)
	}
	return nil
}
