package docker

import (
	"errors"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/slipwayhq/slipway/providers"
)

// Labels this package sets besides the providers.Label* ones.
const (
	// LabelImage holds the image reference a container was created for.
	LabelImage = "io.slipway.image"
	// LabelSensitive holds the comma-separated names of the container's
	// sensitive environment variables.
	LabelSensitive = "io.slipway.sensitive"
	// LabelHostPort holds the host port the container's port is pinned
	// to (decimal), so that it keeps its address when it restarts.
	LabelHostPort = "io.slipway.host-port"
)

// DefaultHostIP is the host address ports are published on when a spec
// names none.
const DefaultHostIP = "127.0.0.1"

// ErrInvalidSpec is returned by Start for a spec that cannot become a
// container.
var ErrInvalidSpec = errors.New("invalid container spec")

// ErrConflict is returned by Start when a container with the spec's name
// exists but belongs to something else (other labels or another image).
var ErrConflict = errors.New("container name taken by a different container")

// identityLabels are the labels that must match for an existing container
// to count as the one a spec describes.
var identityLabels = []string{
	providers.LabelProject,
	providers.LabelEnv,
	providers.LabelService,
	providers.LabelRelease,
	providers.LabelColor,
	providers.LabelIndex,
	providers.LabelConfigHash,
}

// specLabels returns the labels of a container created for spec.
func specLabels(spec providers.ContainerSpec) map[string]string {
	l := map[string]string{
		providers.LabelProject:    spec.Project,
		providers.LabelEnv:        spec.Env,
		providers.LabelService:    spec.Service,
		providers.LabelRelease:    strconv.Itoa(spec.Release),
		providers.LabelColor:      spec.Color,
		providers.LabelIndex:      strconv.Itoa(spec.Index),
		providers.LabelConfigHash: spec.ConfigHash,
		LabelImage:                spec.Image,
	}
	if names := sensitiveNames(spec.Vars); len(names) > 0 {
		l[LabelSensitive] = strings.Join(names, ",")
	}
	return l
}

// labelMismatch names the first identity label whose value differs between
// want and got, or returns "" when they agree.
func labelMismatch(want, got map[string]string) string {
	for _, k := range identityLabels {
		if want[k] != got[k] {
			return fmt.Sprintf("label %s is %q, want %q", k, got[k], want[k])
		}
	}
	return ""
}

// sensitiveNames returns the sorted names of the sensitive variables.
func sensitiveNames(vars []providers.EnvVar) []string {
	var names []string
	for _, v := range vars {
		if v.Sensitive {
			names = append(names, v.Name)
		}
	}
	sort.Strings(names)
	return names
}

// sensitiveSpecValues returns the values of the sensitive variables.
func sensitiveSpecValues(vars []providers.EnvVar) []string {
	var values []string
	for _, v := range vars {
		if v.Sensitive && v.Value != "" {
			values = append(values, v.Value)
		}
	}
	return values
}

// splitLabelList splits a comma-separated label value.
func splitLabelList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// restartPolicy parses a docker restart policy: "", "no", "always",
// "unless-stopped", "on-failure" or "on-failure:N".
func restartPolicy(s string) (container.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	if name == "" {
		p.Name = container.RestartPolicyDisabled
	}
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 || name != string(container.RestartPolicyOnFailure) {
			return p, fmt.Errorf("restart policy %q: want on-failure:N with N >= 0", s)
		}
		p.MaximumRetryCount = n
	}
	if err := container.ValidateRestartPolicy(p); err != nil {
		return p, fmt.Errorf("restart policy %q: %w", s, err)
	}
	return p, nil
}

// stopSeconds converts a stop timeout to whole seconds, rounding up so a
// container is never given less time than asked; nil for zero.
func stopSeconds(d time.Duration) *int {
	if d <= 0 {
		return nil
	}
	s := int(math.Ceil(d.Seconds()))
	return &s
}

// policyString is a restart policy as ContainerSpec.Restart spells it:
// "no" for none, "on-failure:N" with a retry limit.
func policyString(p container.RestartPolicy) string {
	switch {
	case p.Name == "" || p.Name == container.RestartPolicyDisabled:
		return string(container.RestartPolicyDisabled)
	case p.MaximumRetryCount > 0:
		return string(p.Name) + ":" + strconv.Itoa(p.MaximumRetryCount)
	}
	return string(p.Name)
}

// hostIPOf returns the host address a spec publishes on.
func hostIPOf(spec providers.ContainerSpec) string {
	if spec.HostIP == "" {
		return DefaultHostIP
	}
	return spec.HostIP
}

// portTaken reports whether the engine could not start a container
// because its pinned host port is taken: by another container ("port is
// already allocated") or by another program ("address already in use").
func portTaken(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "port is already allocated") || strings.Contains(s, "address already in use")
}

// createConfig turns a spec into the engine's create arguments. imageID is
// the resolved, pinned image id the container is created from; hostPort,
// when not 0, is the host port its port is published on (0 lets the
// engine choose one, anew at every start).
func createConfig(spec providers.ContainerSpec, imageID string, hostPort int) (*container.Config, *container.HostConfig, *network.NetworkingConfig, error) {
	if spec.Name == "" {
		return nil, nil, nil, fmt.Errorf("%w: no name", ErrInvalidSpec)
	}
	if spec.Port < 0 || spec.Port > 65535 {
		return nil, nil, nil, fmt.Errorf("%w: port %d out of range", ErrInvalidSpec, spec.Port)
	}
	if spec.Memory < 0 || spec.CPUs < 0 {
		return nil, nil, nil, fmt.Errorf("%w: negative memory or cpu limit", ErrInvalidSpec)
	}
	restart, err := restartPolicy(spec.Restart)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	env := make([]string, 0, len(spec.Vars))
	for _, v := range spec.Vars {
		if v.Name == "" || strings.Contains(v.Name, "=") {
			return nil, nil, nil, fmt.Errorf("%w: environment variable name %q", ErrInvalidSpec, v.Name)
		}
		env = append(env, v.Name+"="+v.Value)
	}
	cfg := &container.Config{
		Image:       imageID,
		Env:         env,
		Labels:      specLabels(spec),
		StopTimeout: stopSeconds(spec.StopTimeout),
	}
	if len(spec.Command) > 0 {
		cfg.Cmd = append([]string(nil), spec.Command...)
	}
	host := &container.HostConfig{
		Binds:         append([]string(nil), spec.Volumes...),
		ExtraHosts:    append([]string(nil), spec.ExtraHosts...),
		RestartPolicy: restart,
		Resources: container.Resources{
			Memory:   spec.Memory,
			NanoCPUs: int64(math.Round(spec.CPUs * 1e9)),
		},
	}
	if hostPort < 0 || hostPort > 65535 {
		return nil, nil, nil, fmt.Errorf("%w: host port %d out of range", ErrInvalidSpec, hostPort)
	}
	if spec.Port > 0 {
		hostIP := hostIPOf(spec)
		if net.ParseIP(hostIP) == nil {
			return nil, nil, nil, fmt.Errorf("%w: host address %q is not an IP address", ErrInvalidSpec, hostIP)
		}
		port := nat.Port(strconv.Itoa(spec.Port) + "/tcp")
		cfg.ExposedPorts = nat.PortSet{port: struct{}{}}
		binding := ""
		if hostPort > 0 {
			binding = strconv.Itoa(hostPort)
			cfg.Labels[LabelHostPort] = binding
		}
		host.PortBindings = nat.PortMap{port: {{HostIP: hostIP, HostPort: binding}}}
	}
	var netCfg *network.NetworkingConfig
	if len(spec.Networks) > 0 {
		// API 1.41 takes one network at create; the others are connected
		// before the container starts.
		first := spec.Networks[0]
		host.NetworkMode = container.NetworkMode(first)
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			first: endpoint(spec),
		}}
	}
	return cfg, host, netCfg, nil
}

// endpoint returns the settings a container joins a user network with: the
// service name as an alias, so other containers reach it by that name.
func endpoint(spec providers.ContainerSpec) *network.EndpointSettings {
	if spec.Service == "" {
		return &network.EndpointSettings{}
	}
	return &network.EndpointSettings{Aliases: []string{spec.Service}}
}

// hostAddr returns the address a published binding is reached at from the
// host: an unspecified host IP (0.0.0.0, ::) means loopback.
func hostAddr(ip, port string) string {
	if port == "" || port == "0" {
		return ""
	}
	if p := net.ParseIP(ip); ip == "" || (p != nil && p.IsUnspecified()) {
		ip = DefaultHostIP
	}
	return net.JoinHostPort(ip, port)
}

// publishedAddr picks the host address of a container port from an
// inspected port map, preferring IPv4 bindings; port 0 means the first
// published tcp port.
func publishedAddr(ports nat.PortMap, port int) string {
	var keys []nat.Port
	if port > 0 {
		keys = []nat.Port{nat.Port(strconv.Itoa(port) + "/tcp")}
	} else {
		for k := range ports {
			if k.Proto() == "tcp" {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].Int() < keys[j].Int() })
	}
	for _, k := range keys {
		var fallback string
		for _, b := range ports[k] {
			addr := hostAddr(b.HostIP, b.HostPort)
			if addr == "" {
				continue
			}
			if isIPv4(b.HostIP) {
				return addr
			}
			if fallback == "" {
				fallback = addr
			}
		}
		if fallback != "" {
			return fallback
		}
	}
	return ""
}

// isIPv4 reports whether a binding's host IP is IPv4 ("" counts).
func isIPv4(s string) bool {
	ip := net.ParseIP(s)
	return s == "" || (ip != nil && ip.To4() != nil)
}

// fromLabels fills the labelled fields of a container.
func fromLabels(c *providers.Container, labels map[string]string) {
	c.Project = labels[providers.LabelProject]
	c.Env = labels[providers.LabelEnv]
	c.Service = labels[providers.LabelService]
	c.Release, _ = strconv.Atoi(labels[providers.LabelRelease])
	c.Color = labels[providers.LabelColor]
	c.Index, _ = strconv.Atoi(labels[providers.LabelIndex])
	c.ConfigHash = labels[providers.LabelConfigHash]
	c.Image = labels[LabelImage]
}

// runInfo fills what only an inspection tells of a container: its
// restart policy, how often it was restarted, and its last exit code.
func runInfo(c *providers.Container, in container.InspectResponse) {
	c.RestartCount = in.RestartCount
	if in.HostConfig != nil {
		c.Restart = policyString(in.HostConfig.RestartPolicy)
	}
	// A container waiting to be restarted counts as running (and
	// restarting) for the engine; its exit code is its last run's.
	if in.State != nil && (!in.State.Running || in.State.Restarting) {
		c.ExitCode = in.State.ExitCode
	}
}

// fromInspect converts an inspected container; port is the container port
// whose published address is wanted (0: the first published tcp port).
func fromInspect(in container.InspectResponse, port int) providers.Container {
	c := providers.Container{
		ID:      in.ID,
		Name:    strings.TrimPrefix(in.Name, "/"),
		ImageID: in.Image,
	}
	runInfo(&c, in)
	if in.State != nil {
		c.State = string(in.State.Status)
		// The engine keeps the health of a container's last run after it
		// stops: it says nothing of one that does not run.
		if in.State.Running && !in.State.Restarting && in.State.Health != nil && in.State.Health.Status != container.NoHealthcheck {
			c.Health = string(in.State.Health.Status)
		}
	}
	if in.Config != nil {
		fromLabels(&c, in.Config.Labels)
		if c.Image == "" {
			c.Image = in.Config.Image
		}
	}
	if in.NetworkSettings != nil {
		c.HostAddr = publishedAddr(in.NetworkSettings.Ports, port)
	}
	return c
}
