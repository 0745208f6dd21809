// Command slipway-load sends keep-alive GET requests to a URL for a while
// and prints what came back: responses that passed, non-2xx responses and
// transport errors, separately. It is a test and benchmark tool, not part
// of the slipway binary.
//
//	slipway-load -url http://127.0.0.1:8081/ -duration 5s -rate 1000 -workers 8 -mode retrying [-json]
//
// It exits 0 when no request failed, 1 when some did (unless
// -allow-failures), 2 on a usage error. Interrupting it stops the load
// early and still prints the counts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/slipwayhq/slipway/executor/prober"
)

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit codes.
const (
	exitOK       = 0
	exitFailures = 1
	exitUsage    = 2
)

// cli runs the command until its duration ends or an interrupt.
func cli(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}

// flags are the command line, parsed.
type flags struct {
	opts          prober.Options
	duration      time.Duration
	json          bool
	allowFailures bool
}

func parse(args []string, stderr io.Writer) (flags, error) {
	var f flags
	var mode string
	fs := flag.NewFlagSet("slipway-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.opts.URL, "url", "", "http:// `URL` to GET (required)")
	fs.StringVar(&f.opts.Host, "host", "", "Host header (default: the host of -url)")
	fs.DurationVar(&f.duration, "duration", 5*time.Second, "how long to send")
	fs.IntVar(&f.opts.Rate, "rate", 0, "requests per second in total (0: as fast as the workers go)")
	fs.IntVar(&f.opts.Workers, "workers", prober.DefaultWorkers, "concurrent keep-alive connections")
	fs.StringVar(&mode, "mode", "strict", "strict (never retry) or retrying (retry a GET once after a reused connection failed before any response byte, as browsers do)")
	fs.DurationVar(&f.opts.Timeout, "timeout", prober.DefaultTimeout, "timeout of each request")
	fs.BoolVar(&f.json, "json", false, "print the counts as JSON")
	fs.BoolVar(&f.allowFailures, "allow-failures", false, "exit 0 even when requests failed")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if f.opts.URL == "" {
		return f, errors.New("-url is required")
	}
	if f.duration <= 0 {
		return f, fmt.Errorf("-duration %s must be positive", f.duration)
	}
	if f.opts.Workers == 0 {
		return f, errors.New("-workers must be at least 1")
	}
	var err error
	if f.opts.Mode, err = prober.ParseMode(mode); err != nil {
		return f, err
	}
	return f, f.opts.Validate()
}

// report is the -json output.
type report struct {
	URL      string  `json:"url"`
	Mode     string  `json:"mode"`
	Workers  int     `json:"workers"`
	Rate     int     `json:"rate"`
	Elapsed  float64 `json:"elapsed_seconds"`
	PerSec   float64 `json:"requests_per_second"`
	Failures int     `json:"failures"`
	prober.Counts
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "slipway-load: error: %v\nslipway-load: hint: run 'slipway-load -h' for the flags\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, f.duration)
	defer cancel()
	start := time.Now()
	l := prober.Start(ctx, f.opts)
	<-l.Done()
	c := l.Stop()
	elapsed := time.Since(start).Seconds()
	r := report{URL: f.opts.URL, Mode: f.opts.Mode.String(), Workers: f.opts.Workers, Rate: f.opts.Rate,
		Elapsed: elapsed, PerSec: float64(c.Requests) / elapsed, Failures: c.Failures(), Counts: c}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "slipway-load: error: write counts: %v\n", err)
			return exitFailures
		}
	} else {
		printText(stdout, r)
	}
	if c.Failures() > 0 && !f.allowFailures {
		fmt.Fprintf(stderr, "slipway-load: error: %d of %d requests failed\n", c.Failures(), c.Requests)
		return exitFailures
	}
	return exitOK
}

func printText(w io.Writer, r report) {
	var b strings.Builder
	fmt.Fprintf(&b, "requests %d  ok %d  non_2xx %d  transport_errors %d  retried %d  failures %d\n",
		r.Requests, r.OK, r.Non2xx, r.TransportErrors, r.Retried, r.Failures)
	fmt.Fprintf(&b, "%.1f requests/s over %.3fs (%s, %d workers, rate %d)\n", r.PerSec, r.Elapsed, r.Mode, r.Workers, r.Rate)
	bodies := make([]string, 0, len(r.ByBody))
	for k := range r.ByBody {
		bodies = append(bodies, k)
	}
	sort.Slice(bodies, func(i, j int) bool {
		if r.ByBody[bodies[i]] != r.ByBody[bodies[j]] {
			return r.ByBody[bodies[i]] > r.ByBody[bodies[j]]
		}
		return bodies[i] < bodies[j]
	})
	for _, k := range bodies {
		fmt.Fprintf(&b, "body %q %d\n", k, r.ByBody[k])
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error %s\n", e)
	}
	io.WriteString(w, b.String())
}
