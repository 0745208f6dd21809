package planner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/slipwayhq/slipway/config"
)

// hashSrc is a configuration whose services' config hashes an earlier
// slipway (which counted the restart policy, "no" by default) recorded:
// web f1efe35488c6e5c6 (default policy), api aaa35a0e527050ce ("always").
const hashSrc = `project "shop" {}

service "web" {
  image    = "demo:v1"
  port     = 8080
  replicas = 2
  env = {
    MODE = "prod"
  }
}

service "api" {
  image   = "demo:v1"
  port    = 8080
  restart = "always"
}
`

func loadHashSrc(t *testing.T, src string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir, config.LoadOptions{Environ: []string{}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

// TestHashesOfEarlierReleasesStillMatch: the hashes an earlier slipway
// recorded match the same configuration now that the restart policy is
// out of the hash and its default is "unless-stopped", whatever policy a
// service declares then or now; any other change still counts.
func TestHashesOfEarlierReleasesStillMatch(t *testing.T) {
	recorded := map[string]string{"web": "f1efe35488c6e5c6", "api": "aaa35a0e527050ce"}
	cfg := loadHashSrc(t, hashSrc)
	if got := serviceHash(cfg.Service("web"), nil); got != recorded["web"] {
		t.Errorf("serviceHash(web) = %s, want the hash recorded before, %s", got, recorded["web"])
	}
	for _, policy := range []string{"no", "always", "unless-stopped", "on-failure"} {
		for _, name := range []string{"web", "api"} {
			svc := *cfg.Service(name)
			svc.Restart = policy
			if !sameConfig(recorded[name], &svc, nil) {
				t.Errorf("%s with restart %q: recorded hash %s no longer matches: a new release for a policy change", name, policy, recorded[name])
			}
		}
	}
	svc := *cfg.Service("web")
	svc.Port = 9090
	if sameConfig(recorded["web"], &svc, nil) {
		t.Error("a port change matches the recorded hash")
	}
}
