package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/slipwayhq/slipway/operation"
	"github.com/urfave/cli/v2"
)

// streams are the process's standard streams, and what Main needs to
// know should a command panic.
type streams struct {
	in       io.Reader
	out, err io.Writer
	crash    *underway       // nil: nobody asks
	world    operation.World // where the providers come from
}

// multi is a repeatable string flag that keeps every value whole (urfave's
// StringSlice would split values at commas).
type multi []string

func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
func (m *multi) String() string     { return strings.Join(*m, " ") }

func newApp(s *streams) *cli.App {
	app := &cli.App{
		Name:      "slipway",
		Usage:     "plan, apply and roll back releases declared in HCL",
		Version:   Version,
		Writer:    s.out,
		ErrWriter: s.err,
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
		// Without a command slipway shows its help; any other word is
		// an unknown command (urfave/cli would show help and exit 0).
		Action: func(c *cli.Context) error {
			if !c.Args().Present() {
				return cli.ShowAppHelp(c)
			}
			return helpOrUnknown(c, c.App.Commands)
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
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = func(ctx *cli.Context) error {
				if !ctx.Args().Present() {
					return cli.ShowSubcommandHelp(ctx)
				}
				return unknownCommand(c.Name+" "+ctx.Args().First(), c.Subcommands, c.Name+" ")
			}
		}
	}
	return app
}

// helpOrUnknown answers `slipway help [COMMAND]` and refuses any other
// word where a command was expected.
func helpOrUnknown(c *cli.Context, commands []*cli.Command) error {
	args := c.Args()
	if args.First() != "help" {
		return unknownCommand(args.First(), commands, "")
	}
	topic := args.Get(1)
	if topic == "" {
		return cli.ShowAppHelp(c)
	}
	for _, cmd := range commands {
		if cmd.HasName(topic) {
			return cli.ShowCommandHelp(c, topic)
		}
	}
	return unknownCommand(topic, commands, "")
}

// unknownCommand is the error for a command name that does not exist
// (exit 1), with the nearest command name as a hint when one is close.
// prefix is the parent command ("db ") for a subcommand.
func unknownCommand(name string, commands []*cli.Command, prefix string) error {
	list := "'slipway help' for the list of commands"
	if prefix != "" {
		list = fmt.Sprintf("'slipway %s-help' for its commands", prefix)
	}
	hint := "run " + list
	if near := nearest(strings.TrimPrefix(name, prefix), commands); near != "" {
		hint = fmt.Sprintf("did you mean %q? Run %s", prefix+near, list)
	}
	return fail(1, fmt.Errorf("unknown command %q", name), hint)
}

// nearest returns the command name closest to word, "" when none is
// within two edits (a swap of neighbours is one) of it.
func nearest(word string, commands []*cli.Command) string {
	best, bestD := "", 3
	for _, c := range commands {
		if c.Hidden {
			continue
		}
		if d := editDistance(word, c.Name); d < bestD && d < len(word) {
			best, bestD = c.Name, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
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
