package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/operation"
	"github.com/slipwayhq/slipway/providers/factory"
	"github.com/urfave/cli/v2"
)

// Version is slipway's version, set at build time with
// -ldflags "-X github.com/slipwayhq/slipway/cmd/slipway/cli.Version=...".
var Version = "dev"

// exitError carries an exit code out of a command action.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// fail returns an error that exits with code after printing err and hint.
func fail(code int, err error, hint string) error {
	return &exitError{code: code, err: err, hint: hint}
}

// exit returns an error that only sets the exit code; the command already
// printed what it had to say.
func exit(code int) error { return &exitError{code: code} }

// Main runs slipway with args (args[0] is the program name) and returns the
// process exit code. A panic, in the command or in any goroutine slipway
// started, ends it as an internal error (see underway.report): exit 1, or 3
// when an operation was under way, never Go's exit 2.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return MainWorld(args, stdin, stdout, stderr, factory.World{})
}

// MainWorld is Main with the providers world builds: the test binary's
// fake world, for one.
func MainWorld(args []string, stdin io.Reader, stdout, stderr io.Writer, world operation.World) int {
	first, stop := panics.Catch()
	crash := &underway{}
	app := newApp(&streams{in: stdin, out: stdout, err: stderr, crash: crash, world: world})
	code := make(chan int, 1)
	go func() {
		defer panics.Recover()
		code <- run(app, args, stderr)
	}()
	select {
	case c := <-code:
		select {
		case p := <-first: // a goroutine the command did not wait for
			return crash.report(stderr, p)
		default:
		}
		stop()
		return c
	case p := <-first:
		// Catching stays on: another panic waits with this one for the
		// process to end.
		return crash.report(stderr, p)
	}
}

// run runs the command args name and returns its exit code: an
// operation's outcome (operation.Error), a command's own (exitError), or
// 1 for any other error.
func run(app *cli.App, args []string, stderr io.Writer) int {
	err := app.Run(args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(stderr, ee.err, ee.hint)
		}
		return ee.code
	}
	var oe *operation.Error
	if errors.As(err, &oe) {
		if oe.Err != nil {
			printError(stderr, oe.Err, oe.Hint)
		}
		return oe.Outcome.ExitCode()
	}
	printError(stderr, err, "")
	return 1
}

func printError(w io.Writer, err error, hint string) {
	msg := err.Error()
	fmt.Fprintf(w, "slipway: error: %s\n", strings.ReplaceAll(msg, "\n", "\n  "))
	if hint != "" {
		fmt.Fprintf(w, "slipway: hint: %s\n", hint)
	}
}
