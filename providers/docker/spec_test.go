package docker

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/slipwayhq/slipway/providers"
)

func baseSpec() providers.ContainerSpec {
	return providers.ContainerSpec{
		Name:        "shop-web-r7-1",
		Project:     "shop",
		Env:         "staging",
		Service:     "web",
		Release:     7,
		Color:       "green",
		Index:       1,
		ConfigHash:  "abc123",
		Image:       "shop/web:1.2",
		ImageID:     "sha256:feed",
		Vars:        []providers.EnvVar{{Name: "MODE", Value: "prod"}, {Name: "SECRET_KEY", Value: "s3cr3t", Sensitive: true}},
		Port:        8000,
		StopTimeout: 1500 * time.Millisecond,
	}
}

func TestCreateConfig(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*providers.ContainerSpec)
		hostPort int
		check    func(t *testing.T, cfg *container.Config, host *container.HostConfig)
		nets     []string // expected endpoint of the create call
	}{
		{
			name: "labels name identity, image reference and sensitive names",
			check: func(t *testing.T, cfg *container.Config, _ *container.HostConfig) {
				want := map[string]string{
					providers.LabelProject:    "shop",
					providers.LabelEnv:        "staging",
					providers.LabelService:    "web",
					providers.LabelRelease:    "7",
					providers.LabelColor:      "green",
					providers.LabelIndex:      "1",
					providers.LabelConfigHash: "abc123",
					LabelImage:                "shop/web:1.2",
					LabelSensitive:            "SECRET_KEY",
				}
				if !reflect.DeepEqual(cfg.Labels, want) {
					t.Errorf("labels = %v, want %v", cfg.Labels, want)
				}
			},
		},
		{
			name: "created from the pinned id with env and stop timeout rounded up",
			check: func(t *testing.T, cfg *container.Config, _ *container.HostConfig) {
				if cfg.Image != "sha256:pinned" {
					t.Errorf("image = %q, want the pinned id", cfg.Image)
				}
				if want := []string{"MODE=prod", "SECRET_KEY=s3cr3t"}; !reflect.DeepEqual(cfg.Env, want) {
					t.Errorf("env = %v, want %v", cfg.Env, want)
				}
				if cfg.StopTimeout == nil || *cfg.StopTimeout != 2 {
					t.Errorf("stop timeout = %v, want 2", cfg.StopTimeout)
				}
				if cfg.Cmd != nil {
					t.Errorf("cmd = %v, want the image's", cfg.Cmd)
				}
			},
		},
		{
			name: "port published on loopback, ephemeral",
			check: func(t *testing.T, cfg *container.Config, host *container.HostConfig) {
				want := nat.PortMap{"8000/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}
				if !reflect.DeepEqual(host.PortBindings, want) {
					t.Errorf("bindings = %v, want %v", host.PortBindings, want)
				}
				if _, ok := cfg.ExposedPorts["8000/tcp"]; !ok {
					t.Errorf("port 8000/tcp not exposed: %v", cfg.ExposedPorts)
				}
			},
		},
		{
			name:     "port pinned to the host port given, which a label records",
			hostPort: 41234,
			check: func(t *testing.T, cfg *container.Config, host *container.HostConfig) {
				want := nat.PortMap{"8000/tcp": {{HostIP: "127.0.0.1", HostPort: "41234"}}}
				if !reflect.DeepEqual(host.PortBindings, want) {
					t.Errorf("bindings = %v, want %v", host.PortBindings, want)
				}
				if got := cfg.Labels[LabelHostPort]; got != "41234" {
					t.Errorf("label %s = %q, want 41234", LabelHostPort, got)
				}
			},
		},
		{
			name: "host address from the spec",
			edit: func(s *providers.ContainerSpec) { s.HostIP = "10.0.0.5" },
			check: func(t *testing.T, _ *container.Config, host *container.HostConfig) {
				if got := host.PortBindings["8000/tcp"][0].HostIP; got != "10.0.0.5" {
					t.Errorf("host ip = %q", got)
				}
			},
		},
		{
			name: "no port, nothing published",
			edit: func(s *providers.ContainerSpec) { s.Port = 0 },
			check: func(t *testing.T, cfg *container.Config, host *container.HostConfig) {
				if len(host.PortBindings) != 0 || len(cfg.ExposedPorts) != 0 {
					t.Errorf("bindings = %v, exposed = %v", host.PortBindings, cfg.ExposedPorts)
				}
			},
		},
		{
			name: "limits, restart, volumes, extra hosts, command",
			edit: func(s *providers.ContainerSpec) {
				s.Memory = 256 << 20
				s.CPUs = 1.5
				s.Restart = "on-failure:3"
				s.Volumes = []string{"/srv/data:/data:ro"}
				s.ExtraHosts = []string{"host.docker.internal:host-gateway"}
				s.Command = []string{"serve", "--port", "8000"}
			},
			check: func(t *testing.T, cfg *container.Config, host *container.HostConfig) {
				if host.Memory != 256<<20 || host.NanoCPUs != 1_500_000_000 {
					t.Errorf("memory = %d, nanocpus = %d", host.Memory, host.NanoCPUs)
				}
				if host.RestartPolicy.Name != "on-failure" || host.RestartPolicy.MaximumRetryCount != 3 {
					t.Errorf("restart = %+v", host.RestartPolicy)
				}
				if !reflect.DeepEqual(host.Binds, []string{"/srv/data:/data:ro"}) {
					t.Errorf("binds = %v", host.Binds)
				}
				if !reflect.DeepEqual(host.ExtraHosts, []string{"host.docker.internal:host-gateway"}) {
					t.Errorf("extra hosts = %v", host.ExtraHosts)
				}
				if !reflect.DeepEqual([]string(cfg.Cmd), []string{"serve", "--port", "8000"}) {
					t.Errorf("cmd = %v", cfg.Cmd)
				}
			},
		},
		{
			name: "first network at create, as network mode",
			edit: func(s *providers.ContainerSpec) { s.Networks = []string{"front", "back"} },
			check: func(t *testing.T, _ *container.Config, host *container.HostConfig) {
				if host.NetworkMode != "front" {
					t.Errorf("network mode = %q, want front", host.NetworkMode)
				}
			},
			nets: []string{"front"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := baseSpec()
			if tt.edit != nil {
				tt.edit(&spec)
			}
			cfg, host, netCfg, err := createConfig(spec, "sha256:pinned", tt.hostPort)
			if err != nil {
				t.Fatalf("createConfig: %v", err)
			}
			tt.check(t, cfg, host)
			var nets []string
			if netCfg != nil {
				for n, ep := range netCfg.EndpointsConfig {
					nets = append(nets, n)
					if !reflect.DeepEqual(ep.Aliases, []string{"web"}) {
						t.Errorf("aliases on %s = %v, want [web]", n, ep.Aliases)
					}
				}
			}
			if !reflect.DeepEqual(nets, tt.nets) {
				t.Errorf("create networks = %v, want %v", nets, tt.nets)
			}
		})
	}
}

func TestCreateConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(*providers.ContainerSpec)
		want string
	}{
		{"no name", func(s *providers.ContainerSpec) { s.Name = "" }, "no name"},
		{"port out of range", func(s *providers.ContainerSpec) { s.Port = 70000 }, "port 70000"},
		{"negative memory", func(s *providers.ContainerSpec) { s.Memory = -1 }, "negative"},
		{"bad restart", func(s *providers.ContainerSpec) { s.Restart = "sometimes" }, "restart policy"},
		{"bad host ip", func(s *providers.ContainerSpec) { s.HostIP = "localhost" }, "not an IP"},
		{"bad env name", func(s *providers.ContainerSpec) { s.Vars = []providers.EnvVar{{Name: "A=B"}} }, "variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := baseSpec()
			tt.edit(&spec)
			_, _, _, err := createConfig(spec, "sha256:x", 0)
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidSpec mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRestartPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    container.RestartPolicy
		wantErr bool
	}{
		{"", container.RestartPolicy{Name: "no"}, false},
		{"no", container.RestartPolicy{Name: "no"}, false},
		{"always", container.RestartPolicy{Name: "always"}, false},
		{"unless-stopped", container.RestartPolicy{Name: "unless-stopped"}, false},
		{"on-failure", container.RestartPolicy{Name: "on-failure"}, false},
		{"on-failure:5", container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, false},
		{"always:5", container.RestartPolicy{}, true},
		{"on-failure:x", container.RestartPolicy{}, true},
		{"never", container.RestartPolicy{}, true},
	}
	for _, tt := range tests {
		got, err := restartPolicy(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("restartPolicy(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("restartPolicy(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestCreateConfigHostPortOutOfRange(t *testing.T) {
	if _, _, _, err := createConfig(baseSpec(), "sha256:x", 70000); !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "host port 70000") {
		t.Fatalf("err = %v, want ErrInvalidSpec naming host port 70000", err)
	}
}

// TestPolicyString: an observed policy reads as the spec that makes it, so
// a plan compares the two.
func TestPolicyString(t *testing.T) {
	for _, in := range []string{"no", "always", "unless-stopped", "on-failure", "on-failure:5"} {
		p, err := restartPolicy(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := policyString(p); got != in {
			t.Errorf("policyString(restartPolicy(%q)) = %q", in, got)
		}
	}
	if got := policyString(container.RestartPolicy{}); got != "no" {
		t.Errorf("policyString of the zero policy = %q, want no", got)
	}
}

func TestPortTaken(t *testing.T) {
	for msg, want := range map[string]bool{
		"driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:41234 failed: port is already allocated": true,
		"Error starting userland proxy: listen tcp4 127.0.0.1:41234: bind: address already in use":                                  true,
		"OCI runtime create failed: exec: \"/app\": permission denied":                                                              false,
	} {
		if got := portTaken(errors.New(msg)); got != want {
			t.Errorf("portTaken(%q) = %v, want %v", msg, got, want)
		}
	}
	if portTaken(nil) {
		t.Error("portTaken(nil) = true")
	}
}

func TestLabelMismatch(t *testing.T) {
	want := specLabels(baseSpec())
	tests := []struct {
		name string
		edit func(map[string]string)
		bad  string
	}{
		{"same", func(map[string]string) {}, ""},
		{"image reference may differ", func(l map[string]string) { l[LabelImage] = "other" }, ""},
		{"other release", func(l map[string]string) { l[providers.LabelRelease] = "8" }, providers.LabelRelease},
		{"other config hash", func(l map[string]string) { l[providers.LabelConfigHash] = "x" }, providers.LabelConfigHash},
		{"no env label", func(l map[string]string) { delete(l, providers.LabelProject) }, providers.LabelProject},
	}
	for _, tt := range tests {
		got := map[string]string{}
		for k, v := range want {
			got[k] = v
		}
		tt.edit(got)
		why := labelMismatch(want, got)
		if (why == "") != (tt.bad == "") || !strings.Contains(why, tt.bad) {
			t.Errorf("%s: labelMismatch = %q, want mention of %q", tt.name, why, tt.bad)
		}
	}
}

func TestPublishedAddr(t *testing.T) {
	ports := nat.PortMap{
		"8000/tcp": {{HostIP: "::", HostPort: "40001"}, {HostIP: "127.0.0.1", HostPort: "40000"}},
		"9000/tcp": {{HostIP: "0.0.0.0", HostPort: "40002"}},
		"7000/tcp": nil,
	}
	tests := []struct {
		port int
		want string
	}{
		{8000, "127.0.0.1:40000"},
		{9000, "127.0.0.1:40002"},
		{7000, ""},
		{1234, ""},
		{0, "127.0.0.1:40000"},
	}
	for _, tt := range tests {
		if got := publishedAddr(ports, tt.port); got != tt.want {
			t.Errorf("publishedAddr(%d) = %q, want %q", tt.port, got, tt.want)
		}
	}
}

func TestFromInspect(t *testing.T) {
	in := container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{
			ID: "c0ffee", Name: "/shop-web-r7-1", Image: "sha256:feed", RestartCount: 2,
			State:      &container.State{Status: "running", Running: true, Health: &container.Health{Status: container.Healthy}},
			HostConfig: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"}},
		},
		Config:          &container.Config{Labels: specLabels(baseSpec())},
		NetworkSettings: &container.NetworkSettings{},
	}
	in.NetworkSettings.Ports = nat.PortMap{"8000/tcp": {{HostIP: "127.0.0.1", HostPort: "40000"}}}
	got := fromInspect(in, 0)
	want := providers.Container{
		ID: "c0ffee", Name: "shop-web-r7-1", Project: "shop", Env: "staging", Service: "web",
		Release: 7, Color: "green", Index: 1, ConfigHash: "abc123",
		Image: "shop/web:1.2", ImageID: "sha256:feed", State: "running", Health: "healthy", HostAddr: "127.0.0.1:40000",
		Restart: "unless-stopped", RestartCount: 2,
	}
	if got != want {
		t.Errorf("fromInspect =\n%+v\nwant\n%+v", got, want)
	}
	in.State = &container.State{Status: "exited", ExitCode: 137, Health: &container.Health{Status: container.Unhealthy}}
	if got := fromInspect(in, 0); got.State != "exited" || got.Health != "" || got.ExitCode != 137 {
		t.Errorf("fromInspect of an exited container = %+v, want exited, exit code 137, no health of its last run", got)
	}
}

// TestMaskerFor: a container's masker holds the values remembered from
// Start, those its label names and those given by WithSensitive, and
// leaves values shorter than redact.MinLen alone, so a one-character
// secret never garbles a log line.
func TestMaskerFor(t *testing.T) {
	d := &Docker{secrets: map[string][]string{"c": {"remembered-1", "e"}}, extra: []string{"extra-value"}}
	in := &container.InspectResponse{Config: &container.Config{
		Env:    []string{"TOKEN=labelled-1", "PLAIN=shown-value"},
		Labels: map[string]string{LabelSensitive: "TOKEN"},
	}}
	m := d.maskerFor("c", in)
	got := m.Mask("remembered-1 labelled-1 extra-value shown-value example/web")
	if want := "(sensitive) (sensitive) (sensitive) shown-value example/web"; got != want {
		t.Errorf("Mask = %q, want %q", got, want)
	}
	if got := d.maskerFor("other", nil).Mask("remembered-1 extra-value"); got != "remembered-1 (sensitive)" {
		t.Errorf("another container's masker: %q", got)
	}
}

func TestSensitiveValues(t *testing.T) {
	env := []string{"A=1", "SECRET=x=y", "B=2", "EMPTY="}
	got := sensitiveValues(env, []string{"SECRET", "EMPTY", "MISSING"})
	if want := []string{"x=y", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("sensitiveValues = %q, want %q", got, want)
	}
	if got := sensitiveValues(env, nil); got != nil {
		t.Errorf("no names: %q", got)
	}
}

func TestLastLines(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want []string
	}{
		{"", 5, nil},
		{"a\nb\nc\n", 5, []string{"a", "b", "c"}},
		{"a\r\nb\r\nc", 2, []string{"b", "c"}},
		{"a\n\nb\n", 3, []string{"a", "", "b"}},
		{"a\nb", 0, nil},
	}
	for _, tt := range tests {
		if got := lastLines(tt.in, tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestHealthDefaults(t *testing.T) {
	got := healthDefaults(providers.HealthSpec{Path: "health"})
	want := providers.HealthSpec{
		Path: "/health", Interval: DefaultHealthInterval, Timeout: DefaultHealthTimeout,
		HealthyThreshold: DefaultHealthThreshold, Deadline: DefaultHealthDeadline,
	}
	if got != want {
		t.Errorf("healthDefaults = %+v, want %+v", got, want)
	}
	set := providers.HealthSpec{Path: "/h", Interval: 3 * time.Second, Timeout: time.Second, HealthyThreshold: 4, Deadline: time.Minute}
	if got := healthDefaults(set); got != set {
		t.Errorf("healthDefaults changed a full spec: %+v", got)
	}
}

func TestTCPPorts(t *testing.T) {
	set := map[string]struct{}{"8080/tcp": {}, "53/udp": {}, "9000": {}, "443/tcp": {}, "junk/tcp": {}, "70000/tcp": {}}
	if got := tcpPorts(set); !reflect.DeepEqual(got, []int{443, 8080, 9000}) {
		t.Fatalf("tcpPorts = %v, want [443 8080 9000]", got)
	}
	if got := tcpPorts(nil); len(got) != 0 {
		t.Fatalf("tcpPorts(nil) = %v", got)
	}
}

// TestRunInfo: the policy, restart count and last exit code of an
// inspected container; a container waiting to be restarted, which the
// engine reports as running, keeps the exit code of its last run.
func TestRunInfo(t *testing.T) {
	in := func(running, restarting bool) container.InspectResponse {
		return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
			RestartCount: 4,
			State:        &container.State{Running: running, Restarting: restarting, ExitCode: 3},
			HostConfig:   &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}},
		}}
	}
	for _, tt := range []struct {
		running, restarting bool
		exit                int
	}{{false, false, 3}, {true, true, 3}, {true, false, 0}} {
		var c providers.Container
		runInfo(&c, in(tt.running, tt.restarting))
		if c.Restart != "on-failure:5" || c.RestartCount != 4 || c.ExitCode != tt.exit {
			t.Errorf("running %v restarting %v: %+v, want on-failure:5, 4 restarts, exit code %d", tt.running, tt.restarting, c, tt.exit)
		}
	}
}
