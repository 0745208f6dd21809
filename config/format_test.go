package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"aligns equals", "a = 1\nlong_name = 2\n", "a         = 1\nlong_name = 2\n"},
		{"indents blocks", "service \"x\" {\nimage = \"i\"\n}\n", "service \"x\" {\n  image = \"i\"\n}\n"},
		{"already formatted", "a = 1\n", "a = 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Format([]byte(tt.in))); got != tt.want {
				t.Errorf("Format(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	messy := write("messy.hcl", "a=1\n")
	out, changed, err := FormatFile(messy)
	if err != nil || !changed || string(out) != "a = 1\n" {
		t.Errorf("FormatFile(messy) = %q, %v, %v", out, changed, err)
	}
	if b, _ := os.ReadFile(messy); string(b) != "a=1\n" {
		t.Errorf("FormatFile wrote the file: %q", b)
	}
	tidy := write("tidy.hcl", "a = 1\n")
	if _, changed, err := FormatFile(tidy); err != nil || changed {
		t.Errorf("FormatFile(tidy) changed=%v err=%v", changed, err)
	}
	bad := write("bad.hcl", "a = {\n")
	var diags hcl.Diagnostics
	if _, _, err := FormatFile(bad); !errors.As(err, &diags) {
		t.Errorf("FormatFile(bad) err = %v, want hcl.Diagnostics", err)
	}
	if _, _, err := FormatFile(filepath.Join(dir, "absent.hcl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FormatFile(absent) err = %v", err)
	}
}

func TestFullConfigIsFormatted(t *testing.T) {
	paths, _ := filepath.Glob("testdata/full/*.hcl")
	for _, p := range paths {
		if _, changed, err := FormatFile(p); err != nil || changed {
			t.Errorf("%s: changed=%v err=%v", p, changed, err)
		}
	}
}

func TestFormatSourceKeepsBOM(t *testing.T) {
	out, diags := FormatSource("x.hcl", []byte("\xef\xbb\xbfa=1\n"))
	if diags.HasErrors() || string(out) != "\xef\xbb\xbfa = 1\n" {
		t.Errorf("FormatSource = %q, %v", out, diags)
	}
}

func TestFormatSourceRefusesBrokenOutput(t *testing.T) {
	defer func(f func([]byte) []byte) { format = f }(format)
	format = func(src []byte) []byte { return append(src, '{') }
	out, diags := FormatSource("x.hcl", []byte("a = 1\n"))
	if out != nil || len(diags) != 1 || diags[0].Summary != "Formatting Would Break The File" || !strings.Contains(diags[0].Detail, "left as it is") {
		t.Errorf("FormatSource = %q, %v", out, diags)
	}
}
