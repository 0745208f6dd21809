package redact

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{"long value masked", []string{"hunter2"}, "password=hunter2 ok", "password=(sensitive) ok"},
		{"every occurrence", []string{"s3cr3t-token"}, "s3cr3t-token and s3cr3t-token", "(sensitive) and (sensitive)"},
		{"one character never", []string{"e"}, "image example/web", "image example/web"},
		{"below the minimum never", []string{"web12"}, "example/web12:1", "example/web12:1"},
		{"at the minimum", []string{"web123"}, "example/web123:1", "example/(sensitive):1"},
		{"longest first", []string{"abcdef", "abcdefghij"}, "x abcdefghij y abcdef", "x (sensitive) y (sensitive)"},
		{"value inside the mark is not masked again", []string{"sensitive", "topsecret-value"}, "topsecret-value", "(sensitive)"},
		{"empty ignored", []string{""}, "text", "text"},
		{"none", nil, "text", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.values...).Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskable(t *testing.T) {
	if Maskable(strings.Repeat("x", MinLen-1)) || !Maskable(strings.Repeat("x", MinLen)) {
		t.Errorf("Maskable does not switch at MinLen = %d", MinLen)
	}
	if New("e").r != nil || New("long-enough").r == nil {
		t.Error("New keeps a short value or drops a long one")
	}
}

func TestLines(t *testing.T) {
	lines := New("hunter2").Lines([]string{"a hunter2", "b"})
	if lines[0] != "a (sensitive)" || lines[1] != "b" {
		t.Errorf("Lines = %q", lines)
	}
}
