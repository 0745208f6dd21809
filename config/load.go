package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// LoadOptions controls where variable values come from.
type LoadOptions struct {
	// Env is -env NAME: NAME.vars.hcl in the directory is loaded when present.
	Env string
	// VarFiles are -var-file paths in command-line order, relative to the
	// working directory.
	VarFiles []string
	// Vars are -var "name=value" options, raw, in command-line order; they
	// apply after VarFiles.
	Vars []string
	// Environ is the environment in os.Environ() form, read for
	// SLIPWAY_VAR_<name> and by env(); nil means os.Environ().
	Environ []string
}

// loader holds the state of one Load.
type loader struct {
	dir     string
	opts    LoadOptions
	environ []string
	parser  *hclparse.Parser
	funcs   map[string]function.Function
	table   []*BlockSchema
	diags   hcl.Diagnostics
	// hideSource names the variable-value files whose source lines hold
	// (or may hold) a sensitive value.
	hideSource map[string]bool
}

// errorf appends an error diagnostic.
func (l *loader) errorf(subject *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject,
	})
}

// Load reads every *.hcl file of dir except *.vars.hcl, resolves variables
// and locals, decodes and validates the configuration. It returns every
// problem found. The *Config is never nil: its Files hold every parsed file
// even when the diagnostics have errors, so callers can render snippets; its
// other fields are meaningful only when there are no errors.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	l := &loader{
		dir:     dir,
		opts:    opts,
		environ: opts.Environ,
		parser:  hclparse.NewParser(),
		table:   Reference(),
		// Filled while the value files are read.
		hideSource: map[string]bool{},
	}
	if l.environ == nil {
		l.environ = os.Environ()
	}
	l.funcs = functions(dir, l.environ)
	cfg := &Config{
		Dir:    dir,
		Values: map[string]cty.Value{},
		Locals: map[string]cty.Value{},
		Docker: &Docker{},
	}
	l.load(cfg)
	cfg.Files = l.parser.Files()
	suggestRefs(l.diags, cfg)
	redactDiags(l.diags)
	redactQuoted(l.diags, cfg.Files, &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(cfg.Values), "local": cty.ObjectVal(cfg.Locals)}})
	hideSources(l.diags, l.hideSource)
	return cfg, l.diags
}

// configFiles lists the configuration files of the directory, sorted.
func (l *loader) configFiles() []string {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		l.errorf(nil, "Cannot Read Configuration Directory", "The configuration directory %q cannot be read: %s.", l.dir, err)
		return nil
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".hcl") || strings.HasSuffix(name, ".vars.hcl") {
			continue
		}
		files = append(files, filepath.Join(l.dir, name))
	}
	sort.Strings(files)
	if len(files) == 0 {
		l.errorf(nil, "No Configuration Files", "The directory %q holds no configuration files (*.hcl other than *.vars.hcl).", l.dir)
	}
	return files
}

// load fills cfg.
func (l *loader) load(cfg *Config) {
	files := l.configFiles()
	if len(files) == 0 {
		return
	}
	var parsed []*hcl.File
	for _, p := range files {
		f, diags := l.parser.ParseHCLFile(p)
		l.diags = append(l.diags, diags...)
		if f != nil {
			parsed = append(parsed, f)
		}
	}
	if l.diags.HasErrors() {
		return // syntax errors: the structure cannot be trusted
	}

	// Top-level structure.
	schema := topSchema(l.table)
	byType := map[string][]*hcl.Block{}
	for _, f := range parsed {
		content, diags := f.Body.Content(schema)
		l.diags = append(l.diags, diags...)
		for _, blk := range content.Blocks {
			byType[blk.Type] = append(byType[blk.Type], blk)
		}
	}
	l.checkTopLevel(byType)

	// Variables, with functions only.
	fd := &decoder{ctx: &hcl.EvalContext{Functions: l.funcs}}
	var decls []*varDecl
	for _, blk := range byType["variable"] {
		vd := fd.decodeVariable(blk, l.schema("variable"))
		decls = append(decls, vd)
		cfg.Variables = append(cfg.Variables, vd.v)
	}
	l.diags = append(l.diags, fd.diags...)
	cfg.Values = l.resolveValues(decls)
	for _, vd := range decls {
		l.validateVariable(vd, cfg.Values[vd.v.Name])
	}

	// Locals, then everything else.
	vars := cty.ObjectVal(cfg.Values)
	cfg.Locals = l.evalLocals(byType["locals"], vars)
	d := &decoder{ctx: &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": vars, "local": cty.ObjectVal(cfg.Locals)},
		Functions: l.funcs,
	}}
	for _, blk := range byType["project"][:min(1, len(byType["project"]))] {
		cfg.Project = d.decodeProject(blk, l.schema("project"))
	}
	for _, blk := range byType["docker"][:min(1, len(byType["docker"]))] {
		cfg.Docker = d.decodeDocker(blk, l.schema("docker"))
	}
	for _, blk := range byType["nginx"][:min(1, len(byType["nginx"]))] {
		cfg.Nginx = d.decodeNginx(blk, l.schema("nginx"))
	}
	for _, blk := range byType["postgres"] {
		cfg.Postgres = append(cfg.Postgres, d.decodePostgres(blk, l.schema("postgres")))
	}
	for _, blk := range byType["service"] {
		cfg.Services = append(cfg.Services, d.decodeService(blk, l.schema("service")))
	}
	for _, blk := range byType["analysis"] {
		cfg.Analyses = append(cfg.Analyses, d.decodeAnalysis(blk, l.schema("analysis")))
	}
	for _, blk := range byType["check"] {
		cfg.Checks = append(cfg.Checks, d.decodeCheck(blk, l.schema("check")))
	}
	for _, blk := range byType["notify"] {
		cfg.Notifies = append(cfg.Notifies, d.decodeNotify(blk, l.schema("notify")))
	}
	l.diags = append(l.diags, d.diags...)
	l.diags = append(l.diags, validate(cfg, d.refs)...)
}

// schema returns the top-level block schema of type typ.
func (l *loader) schema(typ string) *BlockSchema {
	for _, s := range l.table {
		if s.Type == typ {
			return s
		}
	}
	panic("config: no top-level schema for " + typ)
}

// namePattern is what block labels that become names (containers, files,
// routes) must match.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// checkTopLevel reports missing or duplicated singletons, duplicate and
// invalid labels.
func (l *loader) checkTopLevel(byType map[string][]*hcl.Block) {
	if len(byType["project"]) == 0 {
		l.errorf(nil, "Missing Project Block", "The configuration in %q has no project block; add one such as project \"myapp\" {}.", l.dir)
	}
	for _, s := range l.table {
		blocks := byType[s.Type]
		if !s.Repeatable {
			for _, blk := range blocks[min(1, len(blocks)):] {
				l.errorf(blk.DefRange.Ptr(), "Duplicate "+title(s.Type)+" Block",
					"A configuration holds at most one %s block; first declared at %s.", s.Type, at(blocks[0].DefRange))
			}
		}
		if len(s.Labels) == 0 {
			continue
		}
		seen := map[string]*hcl.Block{}
		for _, blk := range blocks {
			name := blk.Labels[0]
			valid := namePattern.MatchString(name)
			if s.Type == "variable" {
				valid = hclsyntax.ValidIdentifier(name)
			}
			if !valid {
				l.errorf(blk.LabelRanges[0].Ptr(), "Invalid Name",
					"The name %q of this %s block must start with a letter or digit and hold only letters, digits, underscores and dashes.", name, s.Type)
			}
			if prev, ok := seen[name]; ok && s.Repeatable {
				l.errorf(blk.LabelRanges[0].Ptr(), "Duplicate "+title(s.Type)+" Name",
					"A %s named %q is already declared; first declared at %s.", s.Type, name, at(prev.DefRange))
				continue
			}
			seen[name] = blk
		}
	}
}
