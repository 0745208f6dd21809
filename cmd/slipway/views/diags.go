package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Diagnostics writes diags to w with the source lines files hold, except
// for the diagnostics hide reports: for those, only the file and line.
func Diagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File, color bool, hide func(*hcl.Diagnostic) bool) {
	tw := hcl.NewDiagnosticTextWriter(w, files, 100, color)
	for _, d := range diags {
		if !hide(d) {
			_ = tw.WriteDiagnostic(d)
			continue
		}
		// Without the file, HCL writes "(source code not available)" in
		// place of the lines; say why instead.
		var b strings.Builder
		_ = hcl.NewDiagnosticTextWriter(&b, nil, 100, color).WriteDiagnostic(d)
		fmt.Fprint(w, strings.Replace(b.String(), "(source code not available)", "(not shown: the file holds, or may hold, a sensitive value)", 1))
	}
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

// DiagnosticsJSON writes the result of validating a configuration as one
// JSON document: whether it is valid, the counts, and each diagnostic
// with its range.
func DiagnosticsJSON(w io.Writer, diags hcl.Diagnostics) error {
	out := struct {
		FormatVersion string     `json:"format_version"`
		Valid         bool       `json:"valid"`
		ErrorCount    int        `json:"error_count"`
		WarningCount  int        `json:"warning_count"`
		Diagnostics   []jsonDiag `json:"diagnostics"`
	}{FormatVersion: "1", Valid: !diags.HasErrors(), Diagnostics: []jsonDiag{}}
	for _, d := range diags {
		jd := jsonDiag{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			out.WarningCount++
		} else {
			out.ErrorCount++
		}
		if r := d.Subject; r != nil {
			jd.Range = &jsonRange{Filename: r.Filename, Start: jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte}, End: jsonPos{r.End.Line, r.End.Column, r.End.Byte}}
		}
		out.Diagnostics = append(out.Diagnostics, jd)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
