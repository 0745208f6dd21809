package views

import (
	"encoding/json"
	"io"
	"sort"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
)

// FormatVersion is the version of the JSON formats this package writes
// (plans and apply events). It changes only when a field is removed or
// changes meaning; new fields may appear within a version.
const FormatVersion = "1"

// PlanDocument is the top level of PlanJSON's output.
type PlanDocument struct {
	FormatVersion string    `json:"format_version"`
	Plan          *JSONPlan `json:"plan"`
}

// JSONPlan is a plan in the stable JSON schema of docs/json.md. Lists are
// never null.
type JSONPlan struct {
	Operation    string            `json:"operation"`
	Project      string            `json:"project"`
	Env          string            `json:"env"`
	Lineage      string            `json:"lineage"`
	Serial       uint64            `json:"serial"`
	PriorRelease int               `json:"prior_release"`
	Release      int               `json:"release"`
	ConfigHash   string            `json:"config_hash"`
	Created      string            `json:"created,omitempty"`
	Reason       string            `json:"reason,omitempty"`
	Changed      bool              `json:"changed"`
	Interrupted  *JSONInterrupted  `json:"interrupted"`
	Drift        []JSONDrift       `json:"drift"`
	PreChecks    []string          `json:"pre_checks"`
	PostChecks   []string          `json:"post_checks"`
	Resources    []JSONResource    `json:"resources"`
	Steps        []JSONStep        `json:"steps"`
	OnFailure    []string          `json:"on_failure"`
	Warnings     []string          `json:"warnings"`
	Images       map[string]string `json:"images"`
	Summary      JSONSummary       `json:"summary"`
}

// JSONInterrupted is an apply that did not finish.
type JSONInterrupted struct {
	OperationID string   `json:"operation_id"`
	Operation   string   `json:"operation"`
	Release     int      `json:"release"`
	Started     string   `json:"started,omitempty"`
	Finished    []string `json:"finished"`
	Pending     []string `json:"pending"`
}

// JSONDrift is one difference between state and the live world.
type JSONDrift struct {
	Address string `json:"address"`
	Detail  string `json:"detail"`
}

// JSONResource is a service or database and the indexes of its steps.
type JSONResource struct {
	Address   string `json:"address"`
	From      string `json:"from"`
	To        string `json:"to"`
	Strategy  string `json:"strategy"`
	Unchanged bool   `json:"unchanged"`
	Steps     []int  `json:"steps"`
}

// JSONStep is one step. Kind-specific fields are present only for the
// kinds that use them.
type JSONStep struct {
	Index        int             `json:"index"`
	ID           string          `json:"id"`
	Resource     string          `json:"resource"`
	Kind         string          `json:"kind"`
	Action       string          `json:"action"`
	Provider     string          `json:"provider"`
	Target       string          `json:"target"`
	Detail       string          `json:"detail"`
	Containers   []JSONContainer `json:"containers,omitempty"`
	Names        []string        `json:"names,omitempty"`
	Health       *JSONHealth     `json:"health,omitempty"`
	Traffic      *JSONTraffic    `json:"traffic,omitempty"`
	PauseMS      int64           `json:"pause_ms,omitempty"`
	Approve      bool            `json:"approve,omitempty"`
	Analysis     string          `json:"analysis,omitempty"`
	Checks       []string        `json:"checks,omitempty"`
	Phase        string          `json:"phase,omitempty"`
	StopAfterMS  int64           `json:"stop_after_ms,omitempty"`
	Image        *JSONImage      `json:"image,omitempty"`
	Compensation *JSONStep       `json:"compensation,omitempty"`
}

// JSONImage is what a build, pull or tag step does to an image.
type JSONImage struct {
	Ref           string `json:"ref"`
	Context       string `json:"context,omitempty"`
	ContextDigest string `json:"context_digest,omitempty"`
	Digest        string `json:"digest,omitempty"`
	Want          string `json:"want_id,omitempty"`
	ID            string `json:"id,omitempty"`
}

// JSONContainer is a container a start step creates. Environment values
// are never included, only the names.
type JSONContainer struct {
	Name     string    `json:"name"`
	Service  string    `json:"service"`
	Release  int       `json:"release"`
	Color    string    `json:"color"`
	Index    int       `json:"index"`
	Image    string    `json:"image"`
	ImageID  string    `json:"image_id"`
	Port     int       `json:"port"`
	HostIP   string    `json:"host_ip"`
	Env      []JSONEnv `json:"env"`
	Command  []string  `json:"command"`
	Volumes  []string  `json:"volumes"`
	Networks []string  `json:"networks"`
}

// JSONEnv names an environment variable; its value is never written.
type JSONEnv struct {
	Name      string `json:"name"`
	Sensitive bool   `json:"sensitive"`
}

// JSONHealth is a health gate.
type JSONHealth struct {
	Path             string `json:"path"`
	IntervalMS       int64  `json:"interval_ms"`
	TimeoutMS        int64  `json:"timeout_ms"`
	HealthyThreshold int    `json:"healthy_threshold"`
	DeadlineMS       int64  `json:"deadline_ms"`
}

// JSONTraffic is the routing a traffic step makes live.
type JSONTraffic struct {
	Listen          int      `json:"listen"`
	ServerName      string   `json:"server_name"`
	Location        string   `json:"location"`
	Stable          []string `json:"stable"`
	Candidate       []string `json:"candidate"`
	CandidateWeight int      `json:"candidate_weight"`
	Remove          bool     `json:"remove"`
}

// JSONSummary counts what the plan does, as its summary line does.
type JSONSummary struct {
	ServicesToRelease  int    `json:"services_to_release"`
	ServicesToRollBack int    `json:"services_to_roll_back"`
	ServicesToRepair   int    `json:"services_to_repair"`
	ServicesToRemove   int    `json:"services_to_remove"`
	Steps              int    `json:"steps"`
	Checks             int    `json:"checks"`
	Pauses             int    `json:"pauses"`
	MinDurationMS      int64  `json:"min_duration_ms"`
	Approvals          int    `json:"approvals"`
	Text               string `json:"text"`
}

// PlanJSON writes p as one indented JSON document,
// {"format_version": "1", "plan": {...}}, in the schema of docs/json.md.
// Container environment values are left out; nothing else of a plan is
// sensitive. The only error is the writer's.
func PlanJSON(w io.Writer, p *plan.Plan) error {
	b, err := json.MarshalIndent(PlanDocument{FormatVersion: FormatVersion, Plan: NewJSONPlan(p)}, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// NewJSONPlan converts p to the JSON schema, container environment values
// left out.
func NewJSONPlan(p *plan.Plan) *JSONPlan {
	s := summarize(p)
	j := &JSONPlan{
		Operation: p.Operation, Project: p.Project, Env: p.Env, Lineage: p.Lineage, Serial: p.Serial,
		PriorRelease: p.PriorRelease, Release: p.Release, ConfigHash: p.ConfigHash, Created: jsonTime(p.Created),
		Reason: p.Reason, Changed: p.Changed(),
		Drift: []JSONDrift{}, PreChecks: strs(p.PreChecks), PostChecks: strs(p.PostChecks),
		Resources: []JSONResource{}, Steps: []JSONStep{}, OnFailure: strs(p.OnFailure), Warnings: strs(p.Warnings),
		Images: map[string]string{},
		Summary: JSONSummary{
			ServicesToRelease: s.Release, ServicesToRollBack: s.RollBack, ServicesToRepair: s.Repair, ServicesToRemove: s.Remove,
			Steps: s.Steps, Checks: s.Checks, Pauses: len(s.Pauses), MinDurationMS: ms(s.minDuration()),
			Approvals: s.Approvals, Text: s.line(p),
		},
	}
	if in := p.Interrupted; in != nil {
		j.Interrupted = &JSONInterrupted{OperationID: in.OperationID, Operation: in.Operation, Release: in.Release,
			Started: jsonTime(in.Started), Finished: strs(in.Finished), Pending: strs(in.Pending)}
	}
	for _, d := range p.Drift {
		j.Drift = append(j.Drift, JSONDrift(d))
	}
	for _, r := range p.Resources {
		j.Resources = append(j.Resources, JSONResource{Address: r.Address, From: r.From, To: r.To, Strategy: r.Strategy,
			Unchanged: r.Unchanged, Steps: append([]int{}, r.Steps...)})
	}
	for _, st := range p.Steps {
		j.Steps = append(j.Steps, *jsonStep(st))
	}
	for k, v := range p.Images {
		j.Images[k] = v
	}
	return j
}

func jsonStep(s *plan.Step) *JSONStep {
	j := &JSONStep{
		Index: s.Index, ID: s.ID, Resource: s.Resource, Kind: s.Kind.String(), Action: s.Action.String(),
		Provider: s.Provider, Target: s.Target, Detail: s.Detail, Names: s.Names, PauseMS: ms(s.Pause),
		Approve: s.Approve, Analysis: s.Analysis, Checks: s.Checks, Phase: s.Phase, StopAfterMS: ms(s.StopAfter),
	}
	for _, c := range s.Containers {
		jc := JSONContainer{Name: c.Name, Service: c.Service, Release: c.Release, Color: c.Color, Index: c.Index,
			Image: c.Image, ImageID: c.ImageID, Port: c.Port, HostIP: c.HostIP, Env: []JSONEnv{},
			Command: strs(c.Command), Volumes: strs(c.Volumes), Networks: strs(c.Networks)}
		for _, v := range c.Vars {
			jc.Env = append(jc.Env, JSONEnv{Name: v.Name, Sensitive: v.Sensitive})
		}
		sort.Slice(jc.Env, func(a, b int) bool { return jc.Env[a].Name < jc.Env[b].Name })
		j.Containers = append(j.Containers, jc)
	}
	if h := s.Health; h != nil {
		j.Health = &JSONHealth{Path: h.Path, IntervalMS: ms(h.Interval), TimeoutMS: ms(h.Timeout),
			HealthyThreshold: h.HealthyThreshold, DeadlineMS: ms(h.Deadline)}
	}
	if t := s.Traffic; t != nil {
		j.Traffic = &JSONTraffic{Listen: t.Route.Listen, ServerName: t.Route.ServerName, Location: t.Route.Location,
			Stable: strs(t.Stable), Candidate: strs(t.Candidate), CandidateWeight: t.CandidateWeight, Remove: t.Remove}
	}
	if im := s.Image; im != nil {
		j.Image = &JSONImage{Ref: im.Ref, Digest: im.Digest, Want: im.Want, ID: im.ID}
		if b := im.Build; b != nil {
			j.Image.Context, j.Image.ContextDigest = b.Context, b.Digest
		}
	}
	if s.Compensation != nil {
		j.Compensation = jsonStep(s.Compensation)
		// The executor names a compensation after its step.
		if j.Compensation.ID == "" {
			j.Compensation.ID = s.ID + ".undo"
		}
		j.Compensation.Index = s.Index
		if j.Compensation.Resource == "" {
			j.Compensation.Resource = s.Resource
		}
	}
	return j
}

// StepRef is how apply events name a step.
type StepRef struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Resource string `json:"resource"`
	Kind     string `json:"kind"`
	Action   string `json:"action"`
	Target   string `json:"target"`
	Detail   string `json:"detail"`
}

func stepRef(s *plan.Step) StepRef {
	return StepRef{Index: s.Index, ID: s.ID, Resource: s.Resource, Kind: s.Kind.String(), Action: s.Action.String(),
		Target: s.Target, Detail: s.Detail}
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return append([]string{}, s...)
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
