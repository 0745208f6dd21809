package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ratePrecision is the denominator of a parsed FAIL_RATE: rates are kept as
// integer parts per million so that the failure pattern is exact.
const ratePrecision = 1_000_000

// errBadEnv marks an environment variable demoapp cannot use.
var errBadEnv = errors.New("invalid environment")

// config is everything demoapp reads from its environment.
type config struct {
	Port       string
	Version    string
	Color      string
	FailPPM    int64 // FAIL_RATE in parts per million
	Latency    time.Duration
	FailHealth bool
	LogEnv     bool
}

// configFromEnv reads the configuration through getenv and reports every
// unusable value at once.
func configFromEnv(getenv func(string) string) (config, error) {
	cfg := config{
		Port:    valueOr(getenv("PORT"), "8080"),
		Version: valueOr(getenv("VERSION"), "dev"),
		Color:   valueOr(getenv("COLOR"), valueOr(getenv("SLIPWAY_COLOR"), "none")),
	}
	var errs []error
	if p, err := strconv.Atoi(cfg.Port); err != nil || p < 1 || p > 65535 {
		errs = append(errs, fmt.Errorf("%w: PORT %q is not a port number", errBadEnv, cfg.Port))
	}
	if s := getenv("FAIL_RATE"); s != "" {
		ppm, err := parseRate(s)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.FailPPM = ppm
	}
	if s := getenv("LATENCY_MS"); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil || ms < 0 {
			errs = append(errs, fmt.Errorf("%w: LATENCY_MS %q is not a whole number of milliseconds", errBadEnv, s))
		}
		cfg.Latency = time.Duration(ms) * time.Millisecond
	}
	var err error
	if cfg.FailHealth, err = parseFlag("FAIL_HEALTH", getenv("FAIL_HEALTH")); err != nil {
		errs = append(errs, err)
	}
	if cfg.LogEnv, err = parseFlag("DEMO_LOG_ENV", getenv("DEMO_LOG_ENV")); err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

// parseRate turns a FAIL_RATE between 0 and 1 into parts per million.
func parseRate(s string) (int64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0, fmt.Errorf("%w: FAIL_RATE %q is not a number from 0 to 1", errBadEnv, s)
	}
	return int64(math.Round(f * ratePrecision)), nil
}

// parseFlag accepts the usual spellings of a boolean; empty is false.
func parseFlag(name, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("%w: %s %q is not 1/true or 0/false", errBadEnv, name, s)
}

func valueOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
