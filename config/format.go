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
// FormatFile for files that may be invalid.
func Format(src []byte) []byte {
	return hclwrite.Format(src)
}

// FormatFile reads the HCL file at path and returns it formatted, and whether
// formatting changed it. A file with syntax errors is not formatted: the error
// wraps its hcl.Diagnostics. FormatFile never writes.
func FormatFile(path string) (formatted []byte, changed bool, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("read config file %q: %w", path, err)
	}
	if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
		return nil, false, fmt.Errorf("format config file %q: %w", path, diags)
	}
	out := Format(src)
	return out, !bytes.Equal(src, out), nil
}
