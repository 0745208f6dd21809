package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/cmd/slipway/cli"
	"github.com/slipwayhq/slipway/config"
	ucli "github.com/urfave/cli/v2"
)

// TestDocsUpToDate fails when a committed generated file differs from what
// docgen writes: a schema or command changed without 'make docs'.
func TestDocsUpToDate(t *testing.T) {
	for name, want := range files() {
		p := filepath.Join("..", "..", "docs", name)
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("docs/%s: %v; run 'make docs'", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/%s is stale: run 'make docs' and commit it.\n%s", name, diff.Diff("docs/"+name, got, "generated", want))
		}
	}
}

// TestConfigReferenceCoversSchema proves every block, attribute (with its
// type, required flag, default and bounds) and check kind of
// config.Reference() is in the reference.
func TestConfigReferenceCoversSchema(t *testing.T) {
	doc := string(configReference(config.Reference(), checks.Attributes))
	walkBlocks(config.Reference(), nil, func(path []string, s *config.BlockSchema) {
		name := strings.Join(path, ".")
		heading := strings.Repeat("#", len(path)+1) + " " + name + "\n"
		if !strings.Contains(doc, heading) {
			t.Errorf("no heading %q", heading)
		}
		if !strings.Contains(doc, "](#"+anchor(name)+")") {
			t.Errorf("no link to %s", name)
		}
		for _, a := range s.Attrs {
			req, def := "no", "-"
			if a.Required {
				req = "yes"
			}
			if a.Default != "" {
				def = "`" + a.Default + "`"
			}
			row := "| `" + a.Name + "` | " + cell(a.Type) + " | " + req + " | " + cell(def) + " | "
			if !strings.Contains(doc, row) {
				t.Errorf("%s: no row starting %q", name, row)
			}
			if bounds := a.Bounds(); bounds != "" && !strings.Contains(doc, row+cell(prose(a.Doc))+" "+bounds+" |\n") {
				t.Errorf("%s.%s: the row does not end with its bounds %q", name, a.Name, bounds)
			}
		}
	})
	for _, k := range config.CheckKinds() {
		row := "| `" + k + "` | "
		for i, a := range checks.Attributes(k) {
			if i > 0 {
				row += ", "
			}
			row += "`" + a + "`"
		}
		if !strings.Contains(doc, row+" |\n") {
			t.Errorf("no kind row %q", row)
		}
	}
}

func TestConfigReferenceShapes(t *testing.T) {
	table := []*config.BlockSchema{
		{Type: "project", Labels: []string{"name"}, Required: true, Doc: "The project."},
		{Type: "service", Labels: []string{"name"}, Repeatable: true, Doc: "A service, var.<name>.",
			Attrs: []*config.AttrSchema{
				{Name: "image", Type: "string", Required: true, Doc: "Image | tag."},
				{Name: "replicas", Type: "number", Default: "1", Doc: "Count."},
			},
			Blocks: []*config.BlockSchema{
				{Type: "blue_green", OneOf: "strategy", Doc: "Switch."},
				{Type: "canary", OneOf: "strategy", Doc: "Steps."},
			},
		},
		{Type: "check", Labels: []string{"name"}, Repeatable: true,
			Blocks: []*config.BlockSchema{{Type: "http", OneOf: "kind", FreeForm: true}, {Type: "nginx", OneOf: "kind", FreeForm: true}}},
		{Type: "locals", Repeatable: true, FreeForm: true},
	}
	kindAttrs := func(k string) []string {
		if k == "http" {
			return []string{"timeout", "url"}
		}
		return nil
	}
	tests := []struct {
		name      string
		kindAttrs func(string) []string
		want      []string
		not       []string
	}{
		{"blocks", kindAttrs, []string{
			"- [service](#service)\n  - [service.blue_green](#serviceblue_green)\n",
			"## project\n\nThe project.\n\n```hcl\nproject \"name\" {\n  ...\n}\n```\n\n- Required: exactly one per configuration.\n- Labels: `name`; unique among the project blocks.\n",
			"A service, var.&lt;name&gt;.",
			"- Optional; may appear more than once per configuration.\n",
			"- Nested blocks: [blue_green](#serviceblue_green), [canary](#servicecanary).\n",
			"| `image` | string | yes | - | Image \\| tag. |\n",
			"| `replicas` | number | no | `1` | Count. |\n",
			"### service.canary\n\nSteps.\n\n```hcl\nservice \"name\" {\n  canary {\n    ...\n  }\n}\n```\n\n- Optional; at most one per `service` block.\n- One of the strategy blocks `blue_green` and `canary`: at most one of them per `service` block.\n",
			"| `http` | `timeout`, `url` |\n| `nginx` | none |\n",
			"## locals\n\n```hcl\nlocals {\n  ...\n}\n```\n\n- Optional; may appear more than once per configuration.\n- Takes any attributes.\n",
		}, []string{"### check.http", "var.<name>."}},
		{"kinds without attributes", nil, []string{"| `http` | any |\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := string(configReference(table, tt.kindAttrs))
			for _, w := range tt.want {
				if !strings.Contains(doc, w) {
					t.Errorf("missing:\n%s\nin:\n%s", w, doc)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(doc, n) {
					t.Errorf("has %q", n)
				}
			}
		})
	}
}

// TestCLIReferenceCoversApp proves every visible command and subcommand of
// slipway has a section with its usage line, and every flag a row.
func TestCLIReferenceCoversApp(t *testing.T) {
	app := cli.App()
	doc := string(cliReference(app))
	n := 0
	walkCommands(app.Commands, []string{app.Name}, func(path []string, c *ucli.Command) {
		n++
		name := strings.Join(path, " ")
		if !strings.Contains(doc, "\n## "+name+"\n") {
			t.Errorf("no section for %s", name)
		}
		if !strings.Contains(doc, "```\nslipway [global flags] "+strings.Join(path[1:], " ")) {
			t.Errorf("no usage line for %s", name)
		}
		for _, f := range visibleFlags(c.Flags) {
			if !strings.Contains(doc, "| "+cell(flagName(f))+" | ") {
				t.Errorf("%s: no row for flag %s", name, f.Names()[0])
			}
		}
		if _, ex := splitDescription(c.Description); ex != "" && !strings.Contains(doc, "```sh\n"+ex+"```\n") {
			t.Errorf("%s: example missing", name)
		}
	})
	if n < 10 {
		t.Errorf("only %d commands documented", n)
	}
	for _, f := range app.Flags {
		if !strings.Contains(doc, "| `-"+f.Names()[0]) {
			t.Errorf("no row for global flag %s", f.Names()[0])
		}
	}
}

func TestCLIReferenceShapes(t *testing.T) {
	app := &ucli.App{
		Name:  "tool",
		Usage: "do things",
		Flags: []ucli.Flag{&ucli.StringFlag{Name: "env", Usage: "use `NAME`", EnvVars: []string{"TOOL_ENV"}}},
		Commands: []*ucli.Command{
			{Name: "run", Usage: "run <it>", ArgsUsage: "[TARGET]", Action: func(*ucli.Context) error { return nil },
				Description: "Runs it.\n\nExample:\n   tool run        # now\n   tool run -n 3 x\n",
				Flags: []ucli.Flag{
					&ucli.IntFlag{Name: "n", Usage: "at most `N`", Value: 3},
					&ucli.BoolFlag{Name: "dry-run", Usage: "change nothing"},
					&ucli.StringFlag{Name: "secret", Hidden: true},
					&ucli.DurationFlag{Name: "wait", Usage: "wait"},
				}},
			{Name: "db", Usage: "database", Subcommands: []*ucli.Command{
				{Name: "fix", Usage: "fix it", Action: func(*ucli.Context) error { return nil }},
			}},
			{Name: "hidden", Hidden: true},
		},
	}
	doc := string(cliReference(app))
	for _, w := range []string{
		"tool: do things.\n",
		"| `-env NAME` |  | use NAME (environment: `TOOL_ENV`) |\n",
		"- [tool run](#tool-run): run &lt;it&gt;\n- [tool db](#tool-db): database\n  - [tool db fix](#tool-db-fix): fix it\n",
		"## tool run\n\nRun &lt;it&gt;.\n\n```\ntool [global flags] run [flags] [TARGET]\n```\n",
		"| `-n N` | `3` | at most N |\n| `-dry-run` |  | change nothing |\n| `-wait VALUE` |  | wait |\n",
		"\nRuns it.\n\nExample:\n\n```sh\ntool run        # now\ntool run -n 3 x\n```\n",
		"## tool db\n\nDatabase.\n\n```\ntool [global flags] db COMMAND\n```\n\nSubcommands: [fix](#tool-db-fix).\n",
		"```\ntool [global flags] db fix\n```\n",
	} {
		if !strings.Contains(doc, w) {
			t.Errorf("missing:\n%s\nin:\n%s", w, doc)
		}
	}
	for _, n := range []string{"secret", "hidden", "| `-help"} {
		if strings.Contains(doc, n) {
			t.Errorf("documents %q", n)
		}
	}
}

func TestUnquoteUsage(t *testing.T) {
	tests := []struct{ in, name, text string }{
		{"read from `DIR`", "DIR", "read from DIR"},
		{"no placeholder", "", "no placeholder"},
		{"one `quote", "", "one `quote"},
		{"`FILE` and `MORE`", "FILE", "FILE and `MORE`"},
	}
	for _, tt := range tests {
		name, text := unquoteUsage(tt.in)
		if name != tt.name || text != tt.text {
			t.Errorf("unquoteUsage(%q) = %q, %q; want %q, %q", tt.in, name, text, tt.name, tt.text)
		}
	}
}

func TestSplitDescription(t *testing.T) {
	tests := []struct{ in, text, example string }{
		{"", "", ""},
		{"Just prose.\n", "Just prose.", ""},
		{"Example:\n   a\n     b # c\n", "", "a\n  b # c\n"},
		{"Prose.\n\nExample:\n\ta\n\n\tb\n", "Prose.", "a\n\nb\n"},
	}
	for _, tt := range tests {
		text, example := splitDescription(tt.in)
		if text != tt.text || example != tt.example {
			t.Errorf("splitDescription(%q) = %q, %q; want %q, %q", tt.in, text, example, tt.text, tt.example)
		}
	}
}

func TestAnchor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"service.health", "servicehealth"},
		{"slipway db resolve", "slipway-db-resolve"},
		{"service.blue_green", "serviceblue_green"},
		{"slipway force-unlock", "slipway-force-unlock"},
	}
	for _, tt := range tests {
		if got := anchor(tt.in); got != tt.want {
			t.Errorf("anchor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRun drives the command: it writes stale files, -check writes nothing
// and exits 1 with a hint, a second run writes nothing.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "cli.md")
	if err := os.WriteFile(stale, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-check", "-dir", dir}, &out, &errOut); code != 1 {
		t.Fatalf("-check on stale files exited %d", code)
	}
	if !strings.Contains(errOut.String(), "docgen: error: generated documentation is stale") || !strings.Contains(errOut.String(), "make docs") {
		t.Errorf("stderr: %q", errOut.String())
	}
	if b, _ := os.ReadFile(stale); string(b) != "old\n" {
		t.Errorf("-check wrote cli.md")
	}
	out.Reset()
	if code := run([]string{"-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("run exited %d: %s", code, errOut.String())
	}
	if got := out.String(); !strings.Contains(got, "wrote "+filepath.Join(dir, "configuration.md")) || !strings.Contains(got, "wrote "+stale) {
		t.Errorf("stdout: %q", got)
	}
	for name, want := range files() {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, want) {
			t.Errorf("%s not written as generated", name)
		}
	}
	out.Reset()
	if code := run([]string{"-check", "-dir", dir}, &out, &errOut); code != 0 || out.Len() != 0 {
		t.Errorf("-check on fresh files: exit %d, stdout %q", code, out.String())
	}
	if code := run([]string{"extra"}, &out, &errOut); code != 2 {
		t.Errorf("an argument: exit %d, want 2", code)
	}
}

// TestCompletionAsDocumented proves what the reference's shell completion
// paragraph says: the application prints its commands, a command's
// subcommands, and after a command and "-" its flags.
func TestCompletionAsDocumented(t *testing.T) {
	doc := string(cliReference(cli.App()))
	if !strings.Contains(doc, "--generate-bash-completion") || !strings.Contains(doc, "complete -o default -F _slipway slipway") {
		t.Fatal("docs/cli.md does not document shell completion")
	}
	app := cli.App()
	visible := func(cs []*ucli.Command) []string {
		var names []string
		for _, c := range cs {
			if !c.Hidden {
				names = append(names, c.Name)
			}
		}
		return names
	}
	var db *ucli.Command
	for _, c := range app.Commands {
		if c.Name == "db" {
			db = c
		}
	}
	if db == nil {
		t.Fatal("no db command")
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--generate-bash-completion"}, visible(app.Commands)},
		{[]string{"db", "--generate-bash-completion"}, visible(db.Subcommands)},
		{[]string{"apply", "-", "--generate-bash-completion"}, []string{"--auto-approve", "--var", "--json"}},
		{[]string{"-", "--generate-bash-completion"}, []string{"--chdir", "--env"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// urfave/cli reads the word before the completion flag from
			// os.Args, not from Run's arguments.
			args := append([]string{"slipway"}, tt.args...)
			saved := os.Args
			os.Args = args
			t.Cleanup(func() { os.Args = saved })
			app := cli.App()
			var out bytes.Buffer
			app.Writer = &out
			app.ErrWriter = &out
			if err := app.Run(args); err != nil {
				t.Fatal(err)
			}
			words := map[string]bool{}
			for _, w := range strings.Fields(out.String()) {
				words[w] = true
			}
			for _, w := range tt.want {
				if !words[w] {
					t.Errorf("%q not offered; got %q", w, out.String())
				}
			}
		})
	}
}
