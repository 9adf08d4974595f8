#!/usr/bin/env bash
# `make bench`: parleyd against Kamailio on 127.0.0.1 with sipp load, four
# tests of DURATION (default 20s) each, then REGISTER on one node against a
# three-node cluster (leader and follower), the Go benchmarks (failover
# time, catch-up of a new member with 100k bindings); prints a table and
# writes docs/benchmarks.md, then the presence fan-out. Whole run: about
# 8 minutes. Extra arguments go to bench/cmd/sipbench (e.g. -only cluster
# -keep).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh --bench
if [[ ! -x bin/parleyd || ! -x bin/parleyctl ]]; then
	go build -o bin/ ./cmd/...
fi
go build -o bin/sipbench ./bench/cmd/sipbench
timeout 900 bin/sipbench -duration "${DURATION:-20s}" -out docs/benchmarks.md "$@"
# Presence fan-out (one PUBLISH to 1,000 watchers), appended as its own section.
go build -o bin/fanout ./bench/cmd/fanout
timeout 300 bin/fanout -append docs/benchmarks.md
