package checks

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
)

// BenchmarkHTTPChecks20 runs 20 http checks against a local server whose
// every answer takes 200 ms. They run in parallel, so the whole run takes
// about as long as one answer. Goal: under 400 ms per run.
func BenchmarkHTTPChecks20(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	var cks []*config.Check
	for i := range 20 {
		cks = append(cks, ck(fmt.Sprintf("api_%d", i), "http", "url", str(srv.URL+"/")))
	}
	b.ResetTimer()
	for b.Loop() {
		for _, r := range Run(context.Background(), cks, Env{}) {
			if r.Status != StatusPass {
				b.Fatalf("%s: %s %s", r.Name, r.Status, r.Err)
			}
		}
	}
}
