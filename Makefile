# authlab — see README.md. Every target installs what it needs.
GO      ?= go
BIN     := bin/authlab
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X authlab/app/cli.version=$(VERSION)
# Debian packages the tests and measurements use: a real browser for the
# login-page and auth-code tests, hey for load baselines, golang-jwt's CLI as
# the inspect baseline, hyperfine for whole-process timings; promtool (from
# prometheus), Prometheus and its Pushgateway for the metrics and SLO rule
# tests, pass (with GnuPG) for cmd: secrets. PACKAGE:COMMAND when the
# package's command has another name.
DEB_PKGS := chromium hey jwt hyperfine prometheus:promtool prometheus-pushgateway pass

.PHONY: all build demo test deps bench measure fuzz lint clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

demo: build
	./$(BIN) demo

# deps installs the test tools when missing; as non-root it only says what is
# missing (browser and tool tests then skip locally; CI sets
# AUTHLAB_REQUIRE_BROWSER=1 and AUTHLAB_REQUIRE_TOOLS=1).
deps:
	@missing=""; \
	for e in $(DEB_PKGS); do command -v $${e#*:} >/dev/null 2>&1 || missing="$$missing $${e%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "not installed:$$missing (browser tests will skip; install with: sudo apt-get install$$missing)"; \
	  fi; \
	fi

test: deps
	$(GO) test -race -count=1 -timeout 15m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# bench: the Go benchmarks behind the issues' targets, each beside its
# baseline in the same run (medians: pipe through benchstat, or read -count 5).
BENCH_COUNT ?= 5
bench:
	$(GO) test -run '^$$' -bench 'Paired|InspectWarmJWKS|GolangJWTParse' -benchmem -count $(BENCH_COUNT) ./flows/token
	$(GO) test -run '^$$' -bench 'RFC9421SignVerify|BareHMAC' -benchmem -count $(BENCH_COUNT) ./flows/hmac
	$(GO) test -run '^$$' -bench 'View|StartToFirstFrame' -benchmem -count $(BENCH_COUNT) ./app/console
	$(GO) test -run '^$$' -bench 'ListProfiles10k|Import20k' -benchmem -count $(BENCH_COUNT) ./store
	$(GO) test -run '^$$' -bench 'Sign(RS|ES)256' -cpu 1 -count $(BENCH_COUNT) ./mockidp
	$(GO) test -run '^$$' -bench 'Percentile|Record|Snapshot' -benchmem -count $(BENCH_COUNT) ./flows/bench

# measure: whole-process timings and load runs against the named baselines
# (jwt, curl, hey, oauth2c when installed), in one run; see testdata/measure.sh
# (SECTIONS="bench" to run some of them).
measure: deps build
	bash testdata/measure.sh $(SECTIONS)

# fuzz: each fuzz target briefly (FUZZTIME to change).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
