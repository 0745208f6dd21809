package operation

import (
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
)

func TestWatchPlans(t *testing.T) {
	route := &config.Route{Listen: 8080}
	std := &config.Analysis{Name: "std"}
	cfg := &config.Config{Analyses: []*config.Analysis{std}, Services: []*config.Service{
		{Name: "web", Route: route, Watch: &config.Watch{Duration: time.Hour, Analysis: "std"}},
		{Name: "api", Route: route, Canary: &config.Canary{Analysis: "std"}},
		{Name: "plain", Route: route},
	}}
	tests := []struct {
		override time.Duration
		want     string
	}{
		{0, "web=1h0m0s"},
		{time.Minute, "api=1m0s web=1m0s"},
	}
	for _, tt := range tests {
		plans, err := watchPlans(cfg, tt.override)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range plans {
			got = append(got, p.service.Name+"="+p.duration.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("watchPlans(%s) = %v, want %s", tt.override, got, tt.want)
		}
	}
	if _, err := watchPlans(&config.Config{Services: []*config.Service{{Name: "plain", Route: route}}}, 0); err == nil {
		t.Error("watchPlans without any watch: no error")
	}
}
