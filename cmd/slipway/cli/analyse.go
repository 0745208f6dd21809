package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/executor/analysis"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// analyzer runs a canary step's analysis from the source its analysis
// block names: nginx's access log, or slipway's own probe requests.
type analyzer struct {
	se *session
}

var _ executor.Analyzer = analyzer{}

func (a analyzer) Analyse(ctx context.Context, s *plan.Step, report func([]records.AnalysisReading, string, string)) error {
	cfg := a.se.cfg
	an := cfg.Analysis(s.Analysis)
	if an == nil {
		return fmt.Errorf("no analysis block is named %q", s.Analysis)
	}
	service := strings.TrimPrefix(s.Resource, "service.")
	svc := cfg.Service(service)
	if svc == nil || svc.Route == nil {
		return fmt.Errorf("analysis %q needs service %q with a route", s.Analysis, service)
	}
	var src analysis.Source
	switch an.Source {
	case "probe":
		host := ""
		if svc.Route.ServerName != "_" {
			host = svc.Route.ServerName
		}
		header := ""
		if svc.Canary != nil {
			header = svc.Canary.Header
		}
		p, err := analysis.NewProbe(analysis.ProbeOptions{URL: fmt.Sprintf("http://127.0.0.1:%d%s", svc.Route.Listen, svc.Route.Location), Host: host, Header: header})
		if err != nil {
			return err
		}
		p.Start(ctx)
		defer p.Stop()
		src = p
	case "nginx", "":
		if cfg.Nginx == nil || cfg.Nginx.AccessLog == "" {
			return fmt.Errorf("analysis %q reads nginx's access log, but the nginx block names none", s.Analysis)
		}
		n := analysis.NewNginx(a.se.rel(cfg.Nginx.AccessLog), analysis.Route(cfg.Project.Name, a.se.env, service))
		defer n.Close()
		src = n
	default:
		return fmt.Errorf("analysis %q: the %s source is not available in this slipway; use \"nginx\" or \"probe\"", s.Analysis, an.Source)
	}
	g := &analysis.Gate{
		Source:   src,
		Judge:    analysis.NewJudge(an, analysis.JudgeOptions{}),
		Interval: an.Interval,
		Duration: s.Pause,
		OnWindow: func(w analysis.Window, v analysis.Verdict, reason string) {
			report(w.Records(s.Index, v), v.String(), reason)
		},
	}
	v, reason, err := g.Run(ctx)
	if err != nil {
		return fmt.Errorf("analysis %q: %w", s.Analysis, err)
	}
	switch v {
	case analysis.Fail:
		return fmt.Errorf("analysis %q failed: %s", s.Analysis, reason)
	case analysis.NoData:
		return fmt.Errorf("analysis %q has no data: fewer than %d requests reached a version in every window, and no data is never a pass (for a quiet service use source = \"probe\")", s.Analysis, an.MinRequests)
	}
	return nil
}
