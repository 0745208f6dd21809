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
	var left []string
	for _, n := range before {
		if !slices.Contains(after, n) {
			left = append(left, n)
		}
	}
	sort.Strings(left)
	if len(oldRoute) == 0 && len(left) == 0 {
		return
	}
	release := 0
	for _, n := range left {
		if c, ok := r.liveContainer(n); ok && c.Release > release {
			release = c.Release
		}
	}
	mask := r.opts.Mask
	if mask == nil {
		mask = func(s string) string { return s }
	}
	dir := r.opts.ArchiveDir
	rt := r.provs.Runtime
	now := r.opts.Now
	r.arch.wg.Add(1)
	go func() {
		defer r.arch.wg.Done()
		defer panics.Recover()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), archiveTimeout)
		defer cancel()
		var paths, warnings []string
		routeKept := false
		if len(oldRoute) > 0 {
			p, err := records.WriteArchive(dir, "route-"+service+".conf", []byte(mask(string(oldRoute))))
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("archive the route file service.%s replaced: %v", service, err))
			} else {
				paths = append(paths, p)
				routeKept = true
			}
		}
		logs := 0
		for _, n := range left {
			if rt == nil {
				break
			}
			lines, err := rt.Logs(ctx, n, ArchiveLogLines)
			if errors.Is(err, providers.ErrNotFound) {
				warnings = append(warnings, fmt.Sprintf("archive the logs of %s: the container is gone", n))
				continue
			}
			if err != nil {
				warnings = append(warnings, mask(fmt.Sprintf("archive the logs of %s: %v", n, err)))
				continue
			}
			text := mask(strings.Join(lines, "\n"))
			if text != "" {
				text += "\n"
			}
			p, err := records.WriteArchive(dir, n+".log", []byte(text))
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("archive the logs of %s: %v", n, err))
				continue
			}
			paths = append(paths, p)
			logs++
		}
		what := fmt.Sprintf("archived for the review after step %q: ", s.ID)
		var parts []string
		if routeKept {
			parts = append(parts, fmt.Sprintf("the route file of service.%s it replaced", service))
		}
		if logs > 0 {
			of := ""
			if release > 0 {
				of = fmt.Sprintf(" of release #%d", release)
			}
			parts = append(parts, fmt.Sprintf("the last %d log lines of %d %s%s", ArchiveLogLines, logs, plural(logs, "container"), of))
		}
		r.arch.mu.Lock()
		defer r.arch.mu.Unlock()
		r.arch.paths = append(r.arch.paths, paths...)
		r.arch.warnings = append(r.arch.warnings, warnings...)
		if len(parts) > 0 {
			r.arch.moments = append(r.arch.moments, records.Moment{Time: now().UTC(), Event: what + strings.Join(parts, " and ") + ", in " + dir})
		}
	}()
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
