package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// streams are the process's standard streams.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// multi is a repeatable string flag that keeps every value whole (urfave's
// StringSlice would split values at commas).
type multi []string

func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
func (m *multi) String() string     { return strings.Join(*m, " ") }

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	s := &streams{in: stdin, out: stdout, err: stderr}
	app := &cli.App{
		Name:      "slipway",
		Usage:     "plan, apply and roll back releases declared in HCL",
		Version:   Version,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chdir", Usage: "read the configuration from `DIR`", Value: "."},
			&cli.StringFlag{Name: "env", Usage: "select a state namespace and load `NAME`.vars.hcl", EnvVars: []string{"SLIPWAY_ENV"}},
		},
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fail(1, err, fmt.Sprintf("run 'slipway %s -help' for usage", c.Command.Name))
		},
		CommandNotFound: func(c *cli.Context, name string) {
			printError(stderr, fmt.Errorf("unknown command %q", name), "run 'slipway -help' for the list of commands")
		},
		Commands: []*cli.Command{
			initCommand(s),
			planCommand(s),
			applyCommand(s),
			rollbackCommand(s),
			watchCommand(s),
			promoteCommand(s),
			abortCommand(s),
			dbCommand(s),
			statusCommand(s),
			checkCommand(s),
			validateCommand(s),
			fmtCommand(s),
			historyCommand(s),
			showCommand(s),
			forceUnlockCommand(s),
			versionCommand(s),
		},
	}
	for _, c := range app.Commands {
		wrapArgsCheck(c)
		c.OnUsageError = app.OnUsageError
		for _, sub := range c.Subcommands {
			wrapArgsCheck(sub)
			sub.OnUsageError = app.OnUsageError
		}
	}
	return app
}

// wrapArgsCheck makes a command refuse a flag-like argument after a
// positional one. The flag package stops at the first positional argument,
// so `slipway rollback 3 -dry-run` would otherwise roll back for real.
func wrapArgsCheck(c *cli.Command) {
	action := c.Action
	if action == nil {
		return
	}
	c.Action = func(ctx *cli.Context) error {
		args := ctx.Args().Slice()
		for i, a := range args {
			if i > 0 && strings.HasPrefix(a, "-") && len(a) > 1 {
				return fail(1, fmt.Errorf("flag %s comes after the argument %q", a, args[0]),
					fmt.Sprintf("flags go before arguments: slipway %s %s %s", c.Name, a, strings.Join(withoutArg(args, i), " ")))
			}
		}
		if len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 && args[0] != "-" {
			return fail(1, fmt.Errorf("unknown flag %s", args[0]), fmt.Sprintf("run 'slipway %s -help' for usage", c.Name))
		}
		if c.ArgsUsage == "" && len(args) > 0 {
			return fail(1, fmt.Errorf("%s takes no arguments, got %q", c.Name, args[0]), fmt.Sprintf("run 'slipway %s -help' for usage", c.Name))
		}
		return action(ctx)
	}
}

func withoutArg(args []string, i int) []string {
	out := append([]string(nil), args[:i]...)
	return append(out, args[i+1:]...)
}

// varFlags are the flags that give variable values.
func varFlags() []cli.Flag {
	return []cli.Flag{
		&cli.GenericFlag{Name: "var", Usage: "set a variable: `NAME=VALUE` (repeatable)", Value: &multi{}},
		&cli.GenericFlag{Name: "var-file", Usage: "load variable values from `FILE` (repeatable)", Value: &multi{}},
	}
}

func lockFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "lock-timeout", Usage: "wait up to `DURATION` for the state lock", Value: 0},
	}
}

func multiValue(c *cli.Context, name string) []string {
	if m, ok := c.Generic(name).(*multi); ok && m != nil {
		return *m
	}
	return nil
}

func lockTimeout(c *cli.Context) time.Duration { return c.Duration("lock-timeout") }
