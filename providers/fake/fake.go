package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/factory"
)

// FirstPort is the port of the address the first container started gets;
// each next one gets the next port.
const FirstPort = 40001

// World is a fake runtime and router. Its methods are safe for concurrent
// use.
type World struct {
	mu    sync.Mutex
	path  string // "" keeps the world in memory only
	state state
	log   []string

	// Fail makes a call fail with its error: keys are "build REF",
	// "registry REF", "pull REF", "tag REF", "start NAME",
	// "health NAME", "stop NAME", "remove NAME", "restart-policy NAME
	// POLICY", "route SERVICE", "unroute SERVICE" and "observe".
	Fail map[string]error
	// Before, when set, is called with the log line of each call that
	// changes the world, before the call does; its error fails the call.
	Before func(call string) error
	// NewPorts gives a stopped container another address when it starts
	// again, as Docker publishes it on a new ephemeral port.
	NewPorts bool
}

// state is what a World keeps, and writes to its file.
type state struct {
	Containers map[string]Container           `json:"containers"`
	Images     map[string]Image               `json:"images"`
	Routes     map[string]providers.RouteFile `json:"routes"`
	NextPort   int                            `json:"next_port"`
	Rendered   int                            `json:"rendered"` // route files written, which names their checksums
	// Registry holds the images a fake registry serves, by reference.
	Registry map[string]remoteImage `json:"registry,omitempty"`
}

// Container is a container of the fake runtime, with the environment it
// was started with.
type Container struct {
	providers.Container
	Vars []providers.EnvVar `json:",omitempty"`
}

// Image is an image of the fake runtime.
type Image struct {
	ID    string
	Ports []int `json:",omitempty"`
	// Context is the context digest of an image Build made; Digest the
	// manifest digest of one Pull made.
	Context string `json:",omitempty"`
	Digest  string `json:",omitempty"`
}

// New returns an empty world kept in memory.
func New() *World {
	return &World{state: state{Containers: map[string]Container{}, Images: map[string]Image{}, Routes: map[string]providers.RouteFile{},
		NextPort: FirstPort}, Fail: map[string]error{}}
}

// Open returns the world kept in the file at path, empty when there is
// none yet; every change is written back to it.
func Open(path string) (*World, error) {
	w := New()
	w.path = path
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open fake world: %w", err)
	}
	if err := json.Unmarshal(b, &w.state); err != nil {
		return nil, fmt.Errorf("open fake world %s: %w", path, err)
	}
	return w, nil
}

// save writes the world to its file, if it has one; w.mu is held.
func (w *World) save() error {
	if w.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(w.state, "", "  ")
	if err != nil {
		return err
	}
	tmp := w.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save fake world: %w", err)
	}
	return os.Rename(tmp, w.path)
}

// AddImage registers an image under ref, with an id that ref and extra
// make, exposing port 8080 as the demo app does, and returns its id.
func (w *World) AddImage(ref string, extra ...string) (string, error) {
	sum := sha256.Sum256([]byte(strings.Join(append([]string{ref}, extra...), "\n")))
	id := "sha256:" + hex.EncodeToString(sum[:])
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.Images[ref] = Image{ID: id, Ports: []int{8080}}
	return id, w.save()
}

// RemoveImage forgets the image ref.
func (w *World) RemoveImage(ref string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.state.Images, ref)
	return w.save()
}

// Add puts a container in the world as it is.
func (w *World) Add(c providers.Container) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.Containers[c.Name] = Container{Container: c}
}

// Containers returns the containers of project, sorted by name.
func (w *World) Containers(project string) []Container {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Container
	for _, c := range w.state.Containers {
		if project == "" || c.Project == project {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Record adds a line to the world's log of calls.
func (w *World) Record(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, line)
}

// Events returns the log of calls without the lines that start with one
// of skip.
func (w *World) Events(skip ...string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range w.log {
		if !slices.ContainsFunc(skip, func(p string) bool { return strings.HasPrefix(l, p) }) {
			out = append(out, l)
		}
	}
	return out
}

// change logs a call that changes the world, after Before allowed it,
// and returns the error Fail holds for key; w.mu is held.
func (w *World) change(line, key string) error {
	if w.Before != nil {
		if err := w.Before(line); err != nil {
			return err
		}
	}
	w.log = append(w.log, line)
	return w.Fail[key]
}

// Runtime returns the world's container runtime.
func (w *World) Runtime() *Runtime { return &Runtime{w} }

// Router returns the world's router.
func (w *World) Router() *Router { return &Router{w} }

// Builder returns the world as an operation's world: its runtime, its
// router when the configuration declares an nginx block, real databases.
func (w *World) Builder() Builder { return Builder{w} }

// Builder builds an operation's providers from a fake World (it is an
// operation.World).
type Builder struct{ w *World }

// Runtime returns the fake runtime.
func (b Builder) Runtime(*config.Config) (providers.Runtime, error) { return b.w.Runtime(), nil }

// Router returns the fake router, or nil without an nginx block.
func (b Builder) Router(cfg *config.Config) (providers.Router, error) {
	if cfg.Nginx == nil {
		return nil, nil
	}
	return b.w.Router(), nil
}

// Database returns the real database of the postgres block named name.
func (b Builder) Database(cfg *config.Config, name string) (providers.Database, error) {
	return factory.World{}.Database(cfg, name)
}

// Prober returns none: no request goes anywhere in a fake world.
func (Builder) Prober(*plan.Plan) executor.Prober { return nil }

// Runtime is the fake container runtime.
type Runtime struct{ w *World }

// ResolveImage returns the id of a registered image.
func (r *Runtime) ResolveImage(_ context.Context, ref string) (string, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	img, ok := r.w.state.Images[ref]
	if !ok {
		return "", fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
	}
	return img.ID, nil
}

// ExposedPorts returns the ports a registered image exposes.
func (r *Runtime) ExposedPorts(_ context.Context, ref string) ([]int, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	img, ok := r.w.state.Images[ref]
	if !ok {
		return nil, fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
	}
	return img.Ports, nil
}

// ImageExists reports whether an image has the id; with no image
// registered at all (a test that starts containers of made-up images),
// every id exists.
func (r *Runtime) ImageExists(_ context.Context, id string) (bool, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if len(r.w.state.Images) == 0 {
		return true, nil
	}
	for _, img := range r.w.state.Images {
		if img.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// Observe lists the containers of project and env.
func (r *Runtime) Observe(_ context.Context, project, env string) ([]providers.Container, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, "observe")
	if err := w.Fail["observe"]; err != nil {
		return nil, err
	}
	var out []providers.Container
	for _, c := range w.state.Containers {
		if c.Project == project && c.Env == env {
			out = append(out, c.Container)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Start records a running container of spec, or starts the one of its
// name again.
func (r *Runtime) Start(_ context.Context, spec providers.ContainerSpec) (providers.Container, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.change("start "+spec.Name, "start "+spec.Name); err != nil {
		return providers.Container{}, err
	}
	c, ok := w.state.Containers[spec.Name]
	if ok && w.NewPorts && !c.Running() {
		c.HostAddr = fmt.Sprintf("127.0.0.1:%d", w.state.NextPort)
		w.state.NextPort++
	}
	if !ok {
		c = Container{Container: providers.Container{ID: "id-" + spec.Name, Name: spec.Name, Project: spec.Project, Env: spec.Env,
			Service: spec.Service, Release: spec.Release, Color: spec.Color, Index: spec.Index, ConfigHash: spec.ConfigHash,
			Image: spec.Image, ImageID: spec.ImageID, Restart: spec.Restart, HostAddr: fmt.Sprintf("127.0.0.1:%d", w.state.NextPort)},
			Vars: spec.Vars}
		w.state.NextPort++
	}
	c.State = "running"
	w.state.Containers[spec.Name] = c
	return c.Container, w.save()
}

// WaitHealthy passes unless Fail says otherwise.
func (r *Runtime) WaitHealthy(_ context.Context, c providers.Container, _ providers.HealthSpec) error {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.w.log = append(r.w.log, "health "+c.Name)
	return r.w.Fail["health "+c.Name]
}

// Stop marks a container exited.
func (r *Runtime) Stop(_ context.Context, name string, _ time.Duration) error {
	return r.w.update("stop "+name, "stop "+name, name, func(c *Container) { c.State = "exited" })
}

// Remove forgets a container.
func (r *Runtime) Remove(_ context.Context, name string) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.change("remove "+name, "remove "+name); err != nil {
		return err
	}
	delete(w.state.Containers, name)
	return w.save()
}

// Logs returns none.
func (r *Runtime) Logs(context.Context, string, int) ([]string, error) { return nil, nil }

// UpdateRestart sets a container's restart policy.
func (r *Runtime) UpdateRestart(_ context.Context, name, policy string) error {
	line := "restart-policy " + name + " " + policy
	return r.w.update(line, line, name, func(c *Container) { c.Restart = policy })
}

// update changes the container name, if it exists, after the call is
// logged and allowed.
func (w *World) update(line, key, name string, f func(c *Container)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.change(line, key); err != nil {
		return err
	}
	if c, ok := w.state.Containers[name]; ok {
		f(&c)
		w.state.Containers[name] = c
	}
	return w.save()
}

// Router is the fake router: reload mode, every route file a record.
type Router struct{ w *World }

// Render returns nothing: there is no file.
func (r *Router) Render(providers.RouteSpec) ([]byte, error) { return nil, nil }

func routeKey(project, env, service string) string { return project + "/" + env + "/" + service }

// Observe lists the routes of project and env.
func (r *Router) Observe(_ context.Context, project, env string) ([]providers.RouteFile, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	var out []providers.RouteFile
	for _, rf := range r.w.state.Routes {
		if rf.Project == project && rf.Env == env {
			out = append(out, rf)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Apply records the route: its file is named conf.d/PROJECT-SERVICE.conf,
// its checksum "sum-N" for the N-th route written, and the router serves
// exactly it.
func (r *Router) Apply(_ context.Context, spec providers.RouteSpec) (providers.RouteFile, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	line := fmt.Sprintf("route %s [%s]", spec.Service, strings.Join(spec.Stable, " "))
	if len(spec.Candidate) > 0 {
		line += fmt.Sprintf(" %d%%[%s]", spec.CandidateWeight, strings.Join(spec.Candidate, " "))
	}
	if err := w.change(line, "route "+spec.Service); err != nil {
		return providers.RouteFile{}, err
	}
	w.state.Rendered++
	sum := fmt.Sprintf("sum-%d", w.state.Rendered)
	peers := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(spec.Stable), spec.Candidate...))))
	rf := providers.RouteFile{Project: spec.Project, Env: spec.Env, Service: spec.Service, Path: "conf.d/" + spec.Project + "-" + spec.Service + ".conf",
		Release: spec.Release, Checksum: sum, Actual: sum, Peers: peers,
		Serving: &providers.Serving{Known: true, Tag: fmt.Sprintf("%d/%s", spec.Release, sum), Peers: peers}}
	w.state.Routes[routeKey(spec.Project, spec.Env, spec.Service)] = rf
	return rf, w.save()
}

// Remove forgets the service's route.
func (r *Router) Remove(_ context.Context, project, env, service string) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.change("unroute "+service, "unroute "+service); err != nil {
		return err
	}
	delete(w.state.Routes, routeKey(project, env, service))
	return w.save()
}

// Mode is "reload".
func (r *Router) Mode() string { return "reload" }

// PlanSwitch says every change goes live by a reload.
func (r *Router) PlanSwitch(context.Context, providers.RouteSpec) (providers.SwitchPlan, error) {
	return providers.SwitchPlan{Mode: "reload"}, nil
}

var (
	_ providers.Runtime        = (*Runtime)(nil)
	_ providers.ImagePorts     = (*Runtime)(nil)
	_ providers.RestartUpdater = (*Runtime)(nil)
	_ providers.Router         = (*Router)(nil)
	_ providers.SwitchPlanner  = (*Router)(nil)
)

// Container returns the container name as the runtime has it.
func (w *World) Container(name string) (providers.Container, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.state.Containers[name]
	return c.Container, ok
}
