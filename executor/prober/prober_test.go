package prober

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/state/records"
)

// TestProberCountsFailureItIsShown is the prober's positive control: a
// route that fails some requests shows up in the record's counts.
func TestProberCountsFailureItIsShown(t *testing.T) {
	tests := []struct {
		name      string
		failEvery int64
	}{
		{"healthy", 0},
		{"every third fails", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.failEvery > 0 && n.Add(1)%tt.failEvery == 0 {
					http.Error(w, "bad gateway", http.StatusBadGateway)
					return
				}
				fmt.Fprintln(w, "ok")
			}))
			defer srv.Close()
			p := New(Options{URL: srv.URL, Workers: 1})
			if got := p.Stop(); got != (records.ProberCounts{}) {
				t.Fatalf("Stop before Start = %+v, want zero", got)
			}
			p.Start(t.Context())
			p.Start(t.Context()) // a second Start keeps the running load
			for p.Counts().Requests < 30 {
				time.Sleep(time.Millisecond)
			}
			got := p.Stop()
			full := p.Counts()
			if got != full.Record() || got.Requests < 30 || got.TransportErrors != 0 {
				t.Fatalf("record counts %+v, full counts %+v", got, full)
			}
			if tt.failEvery > 0 {
				// One worker: the finished requests are the server's first ones.
				want := full.Requests / int(tt.failEvery)
				if got.Failures != want || got.Non2xx != want {
					t.Fatalf("record counts %+v, want %d failures", got, want)
				}
			} else if got.Failures != 0 {
				t.Fatalf("record counts %+v, want no failures", got)
			}
			if again := p.Stop(); again != got {
				t.Fatalf("second Stop = %+v, want %+v", again, got)
			}
		})
	}
}

func TestProberInvalidOptionsIsAFailure(t *testing.T) {
	p := New(Options{URL: "ftp://127.0.0.1/"})
	p.Start(t.Context())
	if got := p.Stop(); got.Failures != 1 || got.TransportErrors != 1 {
		t.Fatalf("counts %+v, want one failure", got)
	}
}
