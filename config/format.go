package config

import (
	"bytes"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout. It does not check syntax; use
// FormatSource or FormatFile for files that may be invalid.
func Format(src []byte) []byte {
	return hclwrite.Format(src)
}

// format is the formatter FormatSource uses; tests replace it.
var format = Format

// bom is the UTF-8 byte order mark some editors write first.
var bom = []byte("\xef\xbb\xbf")

// FormatSource returns src, the contents of the file named filename,
// formatted. A source that does not parse is never formatted (hclwrite
// works on tokens and would rewrite "/* open comment" as "/ * open
// comment"): the diagnostics say why, with ranges in filename. The
// formatted text is parsed again, and returned only if it parses too. A
// byte order mark is kept.
func FormatSource(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	body, hasBOM := bytes.CutPrefix(src, bom)
	out := format(body)
	if _, diags := hclsyntax.ParseConfig(out, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Formatting Would Break The File",
			Detail:   fmt.Sprintf("The formatted text of %s no longer parses (%s), so the file is left as it is. This is a bug in slipway fmt: please report it with the file.", filename, diags[0].Summary),
		}}
	}
	if hasBOM {
		out = append(append([]byte{}, bom...), out...)
	}
	return out, nil
}

// FormatFile reads the HCL file at path and returns it formatted, and whether
// formatting changed it, as FormatSource does. A file that does not parse
// is not formatted: the error wraps its hcl.Diagnostics. FormatFile never
// writes.
func FormatFile(path string) (formatted []byte, changed bool, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("read config file %q: %w", path, err)
	}
	out, diags := FormatSource(path, src)
	if diags.HasErrors() {
		return nil, false, fmt.Errorf("format config file %q: %w", path, diags)
	}
	return out, !bytes.Equal(src, out), nil
}
