package confgen

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestGenerateIsDeterministic(t *testing.T) {
	o := Options{Dir: "/tmp/x", CertFile: "/tmp/x/c.pem", KeyFile: "/tmp/x/k.pem", ListenBase: 18080}
	a := Generate(rand.New(rand.NewSource(7)), o)
	b := Generate(rand.New(rand.NewSource(7)), o)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("the same seed gave two configurations:\n%s\n%s", a.Files["main.hcl"], b.Files["main.hcl"])
	}
	if c := Generate(rand.New(rand.NewSource(8)), o); reflect.DeepEqual(a, c) {
		t.Fatal("two seeds gave the same configuration")
	}
}

func TestBytes(t *testing.T) {
	c := NewBytes([]byte{7, 255})
	if got := []int{c.Intn(4), c.Intn(1), c.Intn(10), c.Intn(10)}; !reflect.DeepEqual(got, []int{3, 0, 5, 0}) {
		t.Fatalf("choices %v, want [3 0 5 0]", got)
	}
	// No bytes: every value is the first of its valid pool.
	cs := Generate(NewBytes(nil), Options{Dir: "/d", ListenBase: 18080})
	for _, want := range []string{`project "gen" {}`, `image    = "demo:`, "listen        = 18080", `server_name   = "_"`, "blue_green"} {
		if !strings.Contains(cs.Files["main.hcl"], want) {
			t.Errorf("no %q in:\n%s", want, cs.Files["main.hcl"])
		}
	}
}
