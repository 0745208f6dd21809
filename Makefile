# slipway's build. `make` lists the targets.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/slipwayhq/slipway/cmd/slipway/cli.Version=$(VERSION)
GO ?= go
FUZZTIME ?= 2m
AGREE_N ?= 5000
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.DEFAULT_GOAL := help
.PHONY: help build test lint fmt fuzz bench reliability deps demo demo-clean docs

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/slipway
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/slipway ./cmd/slipway

deps: ## install (or name) every program a test or the demo needs: scripts/deps.sh --list
	@./scripts/deps.sh

test: deps ## run every test: unit, integration and end-to-end against real docker, nginx, postgres
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 14m ./...

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: run 'make fmt'"; exit 1)
	$(GO) vet ./...
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	$(STATICCHECK) ./...

docs: ## regenerate docs/configuration.md and docs/cli.md from the schema and the commands
	$(GO) run ./internal/docgen

fmt: ## format the Go sources
	gofmt -w $$(git ls-files '*.go')

fuzz: ## run each fuzz target for FUZZTIME (default 2m), and the validate/nginx agreement over AGREE_N configurations; findings land in testdata/fuzz as seeds
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./config
	$(GO) test -run '^$$' -fuzz '^FuzzWholeConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./planner
	SLIPWAY_AGREE_N=$(AGREE_N) $(GO) test -count=1 -timeout 30m -run '^TestValidateAgreesWithNginx$$' ./providers/nginx
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./state/statefile
	$(GO) test -run '^$$' -fuzz '^FuzzReadJournal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./state/statefile
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./planner/planfile
	$(GO) test -run '^$$' -fuzz '^FuzzParseLine$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./executor/analysis
	$(GO) test -run '^$$' -fuzz '^FuzzLoadMigrations$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./providers/postgres
	$(GO) test -run '^$$' -fuzz '^FuzzSplitStatements$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./providers/postgres

bench: deps ## run the benchmarks behind docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem -count 5 -timeout 3h ./bench/... ./planner/... ./checks/... ./executor/analysis/...

reliability: deps ## long sweeps: every crash point of every strategy, the soak (docs/reliability.md); every script on Docker
	SLIPWAY_LONG=1 $(GO) test -count=1 -timeout 60m -run 'TestScript' ./cmd/slipway/
	SLIPWAY_RELIABILITY=1 $(GO) test -count=1 -timeout 120m -v ./reliability/...
	SLIPWAY_RELIABILITY=1 $(GO) test -count=1 -timeout 60m ./bench/...

demo: deps build ## v1 with a migration, v2 blue-green under load, a bad v3 canary that rolls back, rollback, history (in ./demo)
	GO="$(GO)" ./examples/demo/demo.sh run

demo-clean: ## stop the demo's nginx and PostgreSQL, remove its containers, images and ./demo
	GO="$(GO)" ./examples/demo/demo.sh clean
