package starter

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/config"
)

func TestProjectName(t *testing.T) {
	tests := []struct{ dir, want string }{
		{"/srv/shop", "shop"},
		{"/srv/My Shop.v2", "my-shop-v2"},
		{"/srv/the_bot", "the_bot"},
		{"/srv/-shop-", "shop"},
		{"/srv/___", "app"},
		{"/", "app"},
	}
	for _, tt := range tests {
		if got := ProjectName(tt.dir); got != tt.want {
			t.Errorf("projectName(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

func TestStarterIsFormatted(t *testing.T) {
	for _, f := range Files("shop") {
		if !strings.HasSuffix(f.Path, ".hcl") {
			continue
		}
		if got := string(config.Format([]byte(f.Body))); got != f.Body {
			t.Errorf("%s is not in canonical format; formatted:\n%s", f.Path, got)
		}
		if strings.Contains(f.Body, "{{") {
			t.Errorf("%s keeps a placeholder", f.Path)
		}
	}
}
