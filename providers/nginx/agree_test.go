package nginx

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/confgen"
)

// agreeCases is how many configurations TestValidateAgreesWithNginx
// generates; SLIPWAY_AGREE_N overrides it (make fuzz runs more).
const agreeCases = 200

// TestValidateAgreesWithNginx is the property that validate is as strict
// as the renderer and nginx: configurations generated from a fixed seed,
// their values drawn from pools of valid and invalid values, are loaded;
// every one validate accepts must plan, render each of its routes (with
// both groups populated, as mid-canary), and pass the real nginx -t
// without a warning, except the "conflicting server name" validate itself
// warned of as Route Shadowed. TLS routes use a real certificate.
func TestValidateAgreesWithNginx(t *testing.T) {
	needNginx(t)
	n := agreeCases
	if s := os.Getenv("SLIPWAY_AGREE_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("SLIPWAY_AGREE_N=%q: want a positive number", s)
		}
	}
	lua := true
	for _, m := range luaModuleFiles {
		if _, err := os.Stat(m); err != nil {
			lua = false
		}
	}
	base := t.TempDir()
	cert, key, err := confgen.WriteCert(base, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(13))
	accepted, refused := 0, 0
	for i := 0; i < n; i++ {
		dir := filepath.Join(base, strconv.Itoa(i))
		for _, d := range []string{"cfg", "conf.d", "logs", "admin"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cs := confgen.Generate(rng, confgen.Options{Dir: dir, CertFile: cert, KeyFile: key, ListenBase: 18080, Dynamic: lua})
		if err := cs.Write(filepath.Join(dir, "cfg")); err != nil {
			t.Fatal(err)
		}
		cfg, diags := config.Load(filepath.Join(dir, "cfg"), config.LoadOptions{Vars: cs.Vars, Environ: []string{}})
		if diags.HasErrors() {
			refused++
			continue
		}
		accepted++
		if msg := agreeCase(dir, cfg, diags); msg != "" {
			t.Errorf("case %d: %s\n-var %q\n%s", i, msg, cs.Vars, cs.Files["main.hcl"])
		}
	}
	t.Logf("%d configurations: validate accepted %d, refused %d", n, accepted, refused)
	if n >= 50 && (accepted < n/10 || refused < n/10) {
		t.Errorf("validate accepted %d and refused %d of %d: the generator no longer draws from both pools", accepted, refused, n)
	}
}

// agreeCase renders the routes of cfg, which validate accepted with
// diags, into dir/conf.d and runs nginx -t there; it returns what went
// wrong, or "".
func agreeCase(dir string, cfg *config.Config, diags hcl.Diagnostics) string {
	routes, pdiags := confgen.Routes(cfg)
	if pdiags.HasErrors() {
		return "validate accepted it, plan refused it: " + pdiags.Error()
	}
	n := cfg.Nginx
	r, err := New(Options{ConfigDir: filepath.Join(dir, "conf.d"), AccessLog: n.AccessLog, ListenHost: n.ListenHost, Switch: n.Switch, AdminDir: n.AdminDir})
	if err != nil {
		return "validate accepted the nginx block, the router refused it: " + err.Error()
	}
	for _, spec := range routes {
		content, err := r.Render(spec)
		if err != nil {
			return "validate accepted it, the renderer refused it: " + err.Error()
		}
		if err := os.WriteFile(filepath.Join(dir, "conf.d", FileName(spec.Project, spec.Env, spec.Service)), content, 0o644); err != nil {
			return err.Error()
		}
	}
	var modules string
	if n.Switch == SwitchDynamic {
		for _, m := range luaModuleFiles {
			modules += "load_module " + m + ";\n"
		}
	}
	conf := filepath.Join(dir, "nginx.conf")
	main := fmt.Sprintf("%spid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents {}\nhttp {\n    access_log off;\n    include %s/conf.d/*.conf;\n}\n", modules, dir, dir, dir)
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		return err.Error()
	}
	out, err := exec.Command(nginxBinary, "-p", dir, "-c", conf, "-t").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("validate accepted it, nginx -t refused the rendering: %v\n%s", err, out)
	}
	shadowed := false
	for _, d := range diags {
		shadowed = shadowed || d.Summary == "Route Shadowed"
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "[warn]") && !(shadowed && strings.Contains(line, "conflicting server name")) {
			return "validate accepted it without a warning, nginx -t warns: " + line
		}
	}
	return ""
}
