# Parley build, test and benchmark entry points.
#   make build   bin/parleyd, bin/parleyctl, the example plugins and the gateways
#   make run     single node with defaults (data in ./data)
#   make test    deps, gofmt, vet, unit tests (-race for core/ and cluster/),
#                then the interop tests against real SIP peers
#   make bench   parleyd against Kamailio on loopback -> docs/benchmarks.md;
#                BASE=<commit> adds that commit's parleyd and Go benchmarks
#                as a baseline (before/after in the same run)
#   make fuzz    every Fuzz* target for FUZZTIME (default 30s) each
#   make proto   regenerate plugins/proto (needs protoc and the pinned generators)
#   make clean   remove build output (keeps ./data)

GO       ?= go
FUZZTIME ?= 30s
SHELL    := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Packages whose unit tests run with the race detector.
RACE_RE := /(core|cluster)(/|$$)

.PHONY: all build run deps test fmt-check vet unit interop bench fuzz proto clean

all: build

build:
	$(GO) build -o bin/ ./cmd/... ./plugins/examples/... ./gateways/...

run: build
	./bin/parleyd

deps:
	scripts/install-test-deps.sh

test: deps build
	$(GO) mod download
	$(MAKE) --no-print-directory fmt-check vet unit interop

fmt-check:
	@files="$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*'))"; \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi; \
	echo "gofmt: ok"

vet:
	$(GO) vet ./...
	$(GO) vet -tags interop ./interop-tests/... ./gateways/...

unit:
	@race="$$($(GO) list ./... | grep -E '$(RACE_RE)' || true)"; \
	rest="$$($(GO) list ./... | grep -vE '$(RACE_RE)' || true)"; \
	if [ -n "$$race" ]; then echo "go test -race (core, cluster)"; $(GO) test -race $$race; fi; \
	if [ -n "$$rest" ]; then echo "go test (the rest)"; $(GO) test $$rest; fi

interop:
	$(GO) test -tags interop -count=1 -timeout 20m -v ./interop-tests/...

bench: build
	BASE="$(BASE)" scripts/bench.sh

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# The generated .pb.go files are committed: builds never need protoc.
proto:
	plugins/proto/gen.sh

clean:
	rm -rf bin/
	$(GO) clean -testcache
