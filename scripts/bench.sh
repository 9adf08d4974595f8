#!/usr/bin/env bash
# `make bench`: parleyd against Kamailio on 127.0.0.1 with sipp load, four
# tests of DURATION (default 20s) each; prints a table and writes
# docs/benchmarks.md, then the presence fan-out. Whole run: about 5 minutes.
# Extra arguments go to bench/cmd/sipbench (e.g. -only kamailio -keep).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh --bench
# Always rebuild (incremental): a stale bin/parleyd would be measured silently.
go build -o bin/ ./cmd/...
go build -o bin/sipbench ./bench/cmd/sipbench
timeout 600 bin/sipbench -duration "${DURATION:-20s}" -out docs/benchmarks.md "$@"
# Presence fan-out (one PUBLISH to 1,000 watchers), appended as its own section.
go build -o bin/fanout ./bench/cmd/fanout
timeout 300 bin/fanout -append docs/benchmarks.md
