# authlab — see README.md. Every target installs what it needs.
GO      ?= go
BIN     := bin/authlab
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Debian packages the tests and benchmarks use: a real browser for the
# login-page and auth-code tests, hey for load baselines, golang-jwt's CLI as
# the inspect baseline.
TEST_PKGS := chromium hey jwt

.PHONY: all build demo test deps bench fuzz lint clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

demo: build
	./$(BIN) demo

# deps installs the test tools when missing; as non-root it only says what is
# missing (browser tests then skip locally; CI sets AUTHLAB_REQUIRE_BROWSER=1).
deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v hey >/dev/null 2>&1 || missing="$$missing hey"; \
	command -v jwt >/dev/null 2>&1 || missing="$$missing jwt"; \
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

# bench: the benchmarks and the side-by-side measurements the issues ask for.
bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...
	@echo "side-by-side measurements: make measure"

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
