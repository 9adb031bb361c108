# cognito-resend — see README.md.
SHELL := /bin/bash
GO ?= go
BIN := bin/cognito-resend
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The commit and its committer date (UTC), never the clock: same commit, same binary.
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE ?= $(shell TZ=UTC0 git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
DIST ?= dist
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 20m

.PHONY: all build release cross testenv browser test unit lint demo sandbox lambda-demo bench queue-bench fuzz clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/cognito-resend

# Reproducible release archives for linux, darwin, windows x amd64, arm64 with README.md,
# LICENSE and SHA256SUMS, into $(DIST)/ (build/release/main.go says how). The version is
# HEAD's tag (git tag v1.2.3), or VERSION=v1.2.3 make release; neither is an error (a
# commit hash names no release), so VERSION is passed only when it was set, not
# Makefile's git-describe default above.
release:
	$(GO) run ./build/release -dist '$(DIST)' $(if $(filter file,$(origin VERSION)),,-version '$(VERSION)')

# Every release target compiles, and go vet passes for Windows and macOS too.
cross:
	$(GO) run ./build/release -check
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

# Local emulators (cognito-local 5.3.0, fauxqs 2.4.1, dynalite 4.0.0, Node 22), pinned in
# testenv/package-lock.json; says what it installs on the first run, silent after.
testenv:
	bash testenv/install.sh

# vet, then every test with the race detector, emulators started by the tests themselves.
# -p 1: one package's tests at a time, so the rate tests (cmd/cognito-resend's serial
# TestReserveLeavesQuotaFree) don't share the 2 cores with another package's build of six
# release binaries.
# Debian's headless Chromium for the browser tests (report html); needs root or sudo. Without
# it those tests skip, unless COGNITO_RESEND_BROWSER=required (CI) makes them fail.
browser:
	@bash testenv/install-chromium.sh || echo "make: no Chromium: the browser tests will skip (COGNITO_RESEND_BROWSER=required makes them fail)" >&2

test: testenv browser
	$(GO) mod download
	$(GO) vet ./...
	$(GO) test -race -count=1 -p 1 -timeout $(TEST_TIMEOUT) ./...

# Unit tests only (no emulators).
unit:
	$(GO) test -race -count=1 -short ./...

lint:
	@files=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$files" ]; then echo "gofmt: not formatted: $$files" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The main job end to end on local emulators: pool, users, CSV, campaign, report.
demo: build testenv
	bash testenv/demo.sh

# Try it by hand: cognito-local, fauxqs, dynalite and the quota simulator on 127.0.0.1, a pool
# with users in every state, a CSV, a queue with a DLQ; prints the export lines (and writes them
# to an env file) and example commands. Ctrl-C stops everything. SANDBOX_FLAGS='--users 200'.
sandbox: build testenv
	$(GO) build -o bin/demoenv ./testenv/cmd/demoenv
	bin/demoenv --sandbox $(SANDBOX_FLAGS)

# Try Lambda mode: the emulators, a queue + DLQ + ledger table, the demo users enqueued, the
# built binary as bootstrap in N environments behind testenv/lambdaesm (a Runtime API + SQS
# event source mapping); prints each environment's log lines summarised, then ledger export
# and report summary of the campaign; stops everything (also on Ctrl-C).
# LAMBDA_DEMO_FLAGS='--users 200 --envs 5'. See docs/lambda.md "Try it locally".
lambda-demo: build testenv
	$(GO) build -o bin/lambdademo ./testenv/cmd/lambdademo
	bin/lambdademo --bin $(BIN) $(LAMBDA_DEMO_FLAGS)

# Go hot-path benchmarks, then the end-to-end table of BENCHMARKS.md (about 14 minutes),
# with the pictures of the multi-process lines in bench-out/;
# BENCH_FLAGS=-quick for a smoke run, BENCH_FLAGS='-only 6' for one line.
bench: build testenv
	$(GO) test -run '^$$' -bench . -benchmem ./worker/...
	$(GO) run ./testenv/cmd/bench -bin $(BIN) $(BENCH_FLAGS)

# Queue mode throughput: enqueue + drain N (default 2000) users through fauxqs.
queue-bench: testenv
	bash testenv/queuebench.sh

# Native Go fuzzing, bounded: FUZZTIME per target (make test runs the seed corpora).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCSVSource$$' -fuzztime $(FUZZTIME) ./worker/source/csvsource/
	$(GO) test -run '^$$' -fuzz '^FuzzMessageBodyRoundTrip$$' -fuzztime $(FUZZTIME) ./worker/source/sqssource/

clean:
	rm -rf bin $(DIST)
