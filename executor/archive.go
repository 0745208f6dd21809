package executor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state/records"
)

// ArchiveLogLines is how many of the last log lines of each container a
// rollback archives for the incident review (the runbook's
// `docker logs ... | tail -100`).
const ArchiveLogLines = 100

// archiveTimeout bounds the reading of one release's logs, so a stuck
// runtime cannot hold up the end of a rollback for long.
const archiveTimeout = 30 * time.Second

// archiver keeps, for the incident report of a rollback (manual, or the
// undo of a failed operation), the route file a traffic step replaced and
// the last log lines of each container of the release the requests left.
// The route file is read before the switch and everything is written after
// it, in the background: archiving never delays the switch. Its results
// join the record at the next wait (before containers are removed, and at
// the end of the operation).
type archiver struct {
	wg sync.WaitGroup
	mu sync.Mutex
	// routed are the containers each service's route sends requests to,
	// as this run last made it.
	routed   map[string][]string
	paths    []string
	moments  []records.Moment
	warnings []string
}

// archiving reports whether a traffic step now moving requests should
// archive what it replaces.
func (r *run) archiving() bool {
	return r.opts.ArchiveDir != "" && (r.p.Operation == records.OpRollback || r.undoing)
}

// routedBefore returns the containers a service's route sends requests to
// before a traffic step, and the path of its route file.
func (r *run) routedBefore(service string) (names []string, path string) {
	r.arch.mu.Lock()
	names, ok := r.arch.routed[service]
	r.arch.mu.Unlock()
	ps := r.opts.Prior.Services[service]
	if !ok && ps != nil {
		for _, c := range ps.Containers {
			names = append(names, c.Name)
		}
	}
	if rf, ok := r.routes[service]; ok {
		path = rf.Path
	} else if ps != nil {
		path = ps.RouteFile
	}
	return names, path
}

// routedNow notes what a service's route sends requests to after a
// traffic step.
func (r *run) routedNow(service string, names []string) {
	r.arch.mu.Lock()
	defer r.arch.mu.Unlock()
	if r.arch.routed == nil {
		r.arch.routed = map[string][]string{}
	}
	r.arch.routed[service] = names
}

// archiveLeft archives, in the background, the route file content the
// switch of service replaced and the logs of the containers it left.
func (r *run) archiveLeft(ctx context.Context, s *plan.Step, service string, oldRoute []byte, before, after []string) {
	j := archiveJob{dir: r.opts.ArchiveDir, rt: r.provs.Runtime, mask: r.opts.Mask, step: s.ID, service: service, oldRoute: oldRoute}
	for _, n := range before {
		if !slices.Contains(after, n) {
			j.left = append(j.left, n)
		}
	}
	sort.Strings(j.left)
	if len(oldRoute) == 0 && len(j.left) == 0 {
		return
	}
	for _, n := range j.left {
		if c, ok := r.liveContainer(n); ok && c.Release > j.release {
			j.release = c.Release
		}
	}
	if j.mask == nil {
		j.mask = func(s string) string { return s }
	}
	now := r.opts.Now
	r.arch.wg.Add(1)
	go func() {
		defer r.arch.wg.Done()
		defer panics.Recover()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), archiveTimeout)
		defer cancel()
		a := j.run(ctx)
		r.arch.mu.Lock()
		defer r.arch.mu.Unlock()
		r.arch.paths = append(r.arch.paths, a.paths...)
		r.arch.warnings = append(r.arch.warnings, a.warnings...)
		if event := j.event(a); event != "" {
			r.arch.moments = append(r.arch.moments, records.Moment{Time: now().UTC(), Event: event})
		}
	}()
}

// archiveJob is what archiveLeft hands its goroutine.
type archiveJob struct {
	dir      string
	rt       providers.Runtime // nil: no logs are archived
	mask     func(string) string
	step     string // the ID of the traffic step
	service  string
	oldRoute []byte   // the route file the step replaced; empty: none
	left     []string // the containers it left, sorted
	release  int      // the newest release among them; 0: unknown
}

// archived is what an archiveJob kept: the files it wrote, what it could
// not archive, whether the route file is among them and how many logs.
type archived struct {
	paths, warnings []string
	routeKept       bool
	logs            int
}

// run writes the archive files.
func (j archiveJob) run(ctx context.Context) archived {
	var a archived
	if len(j.oldRoute) > 0 {
		p, err := records.WriteArchive(j.dir, "route-"+j.service+".conf", []byte(j.mask(string(j.oldRoute))))
		if err != nil {
			a.warnings = append(a.warnings, fmt.Sprintf("archive the route file service.%s replaced: %v", j.service, err))
		} else {
			a.paths = append(a.paths, p)
			a.routeKept = true
		}
	}
	for _, n := range j.left {
		if j.rt == nil {
			break
		}
		p, warning := j.logs(ctx, n)
		if warning != "" {
			a.warnings = append(a.warnings, warning)
			continue
		}
		a.paths = append(a.paths, p)
		a.logs++
	}
	return a
}

// logs archives the last log lines of container n and returns the path,
// or a warning saying why it could not.
func (j archiveJob) logs(ctx context.Context, n string) (path, warning string) {
	lines, err := j.rt.Logs(ctx, n, ArchiveLogLines)
	if errors.Is(err, providers.ErrNotFound) {
		return "", fmt.Sprintf("archive the logs of %s: the container is gone", n)
	}
	if err != nil {
		return "", j.mask(fmt.Sprintf("archive the logs of %s: %v", n, err))
	}
	text := j.mask(strings.Join(lines, "\n"))
	if text != "" {
		text += "\n"
	}
	p, err := records.WriteArchive(j.dir, n+".log", []byte(text))
	if err != nil {
		return "", fmt.Sprintf("archive the logs of %s: %v", n, err)
	}
	return p, ""
}

// event is the timeline entry that says what a kept, or "" when
// nothing was.
func (j archiveJob) event(a archived) string {
	var parts []string
	if a.routeKept {
		parts = append(parts, fmt.Sprintf("the route file of service.%s it replaced", j.service))
	}
	if a.logs > 0 {
		of := ""
		if j.release > 0 {
			of = fmt.Sprintf(" of release #%d", j.release)
		}
		parts = append(parts, fmt.Sprintf("the last %d log lines of %d %s%s", ArchiveLogLines, a.logs, plural(a.logs, "container"), of))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("archived for the review after step %q: ", j.step) + strings.Join(parts, " and ") + ", in " + j.dir
}

// waitArchive waits for the archiving under way and adds what it kept to
// the record. Only the executor's own goroutine calls it.
func (r *run) waitArchive() {
	r.arch.wg.Wait()
	r.arch.mu.Lock()
	paths, moments, warnings := r.arch.paths, r.arch.moments, r.arch.warnings
	r.arch.paths, r.arch.moments, r.arch.warnings = nil, nil, nil
	r.arch.mu.Unlock()
	if len(paths) == 0 && len(moments) == 0 && len(warnings) == 0 {
		return
	}
	inc := r.incident()
	inc.Logs = append(inc.Logs, paths...)
	inc.Timeline = append(inc.Timeline, moments...)
	r.rec.Warnings = append(r.rec.Warnings, warnings...)
}

// readRoute reads the route file a traffic step is about to replace; a
// missing file (a first routing) is no content.
func readRoute(path string) []byte {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return []byte(fmt.Sprintf("# slipway could not read %s before replacing it: %v\n", path, err))
	}
	return b
}

// incident returns the record's incident details, creating them.
func (r *run) incident() *records.Incident {
	if r.rec.Incident == nil {
		r.rec.Incident = &records.Incident{}
	}
	return r.rec.Incident
}

// restored says, after a rollback, what came back: each service that
// serves again with the release it came from, and each database restored.
func restored(p *plan.Plan) []string {
	var out []string
	for _, res := range p.Resources {
		if res.Unchanged {
			continue
		}
		name, ok := strings.CutPrefix(res.Address, "service.")
		if ok {
			svc := p.Services[name]
			if svc == nil {
				out = append(out, res.Address+": removed, as the release returned to did not run it")
				continue
			}
			var names []string
			for _, c := range svc.Containers {
				names = append(names, c.Name)
			}
			v := svc.Version
			if v == "" {
				v = svc.Image
			}
			out = append(out, fmt.Sprintf("%s: %s of release #%d (%s) runs again, on %s", res.Address, v, svc.Release, svc.Image, strings.Join(names, ", ")))
			continue
		}
		for _, i := range res.Steps {
			if i < len(p.Steps) && p.Steps[i].RestoreFrom != "" {
				out = append(out, fmt.Sprintf("%s from %s (after a fresh backup of it as it was)", res.Address, p.Steps[i].RestoreFrom))
			}
		}
	}
	return out
}

// changes are the resources p changes, as the record lists them.
func changes(p *plan.Plan) []records.Change {
	var out []records.Change
	for _, res := range p.Resources {
		if !res.Unchanged {
			out = append(out, records.Change{Resource: res.Address, From: res.From, To: res.To, Strategy: res.Strategy})
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return what
	}
	return what + "s"
}
