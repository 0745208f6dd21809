package views

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{90 * time.Millisecond, "90ms"},
		{2500 * time.Millisecond, "2.5s"},
		{30 * time.Second, "30s"},
		{5 * time.Minute, "5m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + 30*time.Minute, "1h30m"},
		{time.Hour + 5*time.Second, "1h0m5s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestElapsed(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.0s"},
		{2149 * time.Millisecond, "2.1s"},
		{59940 * time.Millisecond, "59.9s"},
		{83*time.Second + 600*time.Millisecond, "1m24s"},
		{5 * time.Minute, "5m"},
	}
	for _, tt := range tests {
		if got := elapsed(tt.d); got != tt.want {
			t.Errorf("elapsed(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct {
		f        func(string) string
		in, want string
	}{
		{mdText, "a|b *c* <d> [e](f) `g`", `a\|b \*c\* &lt;d> \[e\](f) \` + "`g\\`"},
		{mdText, "two\nlines\r\n", "two lines "},
		{mdCode, "a|b", "`a\\|b`"},
		{mdCode, "x`y", "``x`y``"},
		{mdCode, "`x", "`` `x ``"},
		{mdCode, "", ""},
	}
	for _, tt := range tests {
		if got := tt.f(tt.in); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGroupsKeepsStepsOutsideResources(t *testing.T) {
	p := &plan.Plan{
		Resources: []*plan.Resource{{Address: "service.a", Steps: []int{1}}},
		Steps: []*plan.Step{
			{Resource: "checks", Kind: plan.KindCheck},
			{Resource: "service.a", Kind: plan.KindStart},
			{Resource: "notify.team", Kind: plan.KindNotify},
			{Provider: "slipway", Kind: plan.KindPause},
			{Resource: "notify.team", Kind: plan.KindNotify, Detail: "second"},
		},
	}
	var got []string
	for _, g := range groups(p) {
		var kinds []string
		for _, s := range g.steps {
			kinds = append(kinds, s.Kind.String()+s.Detail)
		}
		got = append(got, g.res.Address+":"+strings.Join(kinds, ","))
	}
	want := "service.a:start notify.team:notify,notifysecond slipway:pause"
	if strings.Join(got, " ") != want {
		t.Errorf("groups = %q, want %q", strings.Join(got, " "), want)
	}
}

func TestChange(t *testing.T) {
	tests := []struct {
		r    plan.Resource
		want string
	}{
		{plan.Resource{Unchanged: true, From: "a:1", To: "a:1"}, "unchanged"},
		{plan.Resource{To: "a:1", Strategy: "canary"}, "a:1 (new)   canary"},
		{plan.Resource{From: "a:1", To: "a:2", Strategy: "rolling"}, "a:1 -> a:2   rolling"},
		{plan.Resource{From: "a:1", Strategy: "canary"}, "a:1 -> (removed)"},
		{plan.Resource{From: "a:1", To: "a:1", Strategy: "repair"}, "a:1   repair"},
		{plan.Resource{}, ""},
	}
	for _, tt := range tests {
		if got := change(&tt.r); got != tt.want {
			t.Errorf("change(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// TestJSONSchemaIsDocumented fails when a field of the JSON formats is
// missing from docs/json.md.
func TestJSONSchemaIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	types := []any{PlanDocument{}, JSONPlan{}, JSONInterrupted{}, JSONDrift{}, JSONResource{}, JSONStep{},
		JSONContainer{}, JSONEnv{}, JSONHealth{}, JSONTraffic{}, JSONSummary{}, StepRef{},
		versionEvent{}, planEvent{}, stepEvent{}, stepDoneEvent{}, progressEvent{}, diagnosticEvent{}, summaryEvent{}, jsonProberCount{}}
	for _, v := range types {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).Match(doc) {
				t.Errorf("%s.%s (%q) is not documented in docs/json.md", rt.Name(), rt.Field(i).Name, name)
			}
		}
	}
	for _, typ := range []string{"version", "plan", "step_started", "step_finished", "progress", "compensation_started", "compensation_finished", "diagnostic", "summary"} {
		if !strings.Contains(string(doc), "| `"+typ+"` |") {
			t.Errorf("event type %q has no row in docs/json.md", typ)
		}
	}
}
