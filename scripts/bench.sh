#!/usr/bin/env bash
# `make bench`: parleyd against Kamailio on 127.0.0.1 with sipp load, four
# tests of DURATION (default 10s) each, in ROUNDS (default 3) rounds that
# alternate which server goes first (the report takes each test's median
# round), then REGISTER on one node against a
# three-node cluster (leader and follower), the Go benchmarks (failover
# time, catch-up of a new member with 100k bindings); prints a table and
# writes docs/benchmarks.md, then the presence fan-out, the echo test
# service's calls (bench/cmd/echobench) and the memory cost of TLS
# connections (bench/cmd/tlsconns). Whole run: about 15 minutes.
# Extra arguments go to bench/cmd/sipbench (e.g. -only cluster
# -keep).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh --bench
# Always rebuild (incremental): a stale bin/parleyd would be measured silently.
go build -o bin/ ./cmd/... ./plugins/examples/...
go build -o bin/sipbench ./bench/cmd/sipbench
timeout 1800 bin/sipbench -duration "${DURATION:-10s}" -rounds "${ROUNDS:-3}" -out docs/benchmarks.md "$@"
# Presence fan-out (one PUBLISH to 1,000 watchers), appended as its own section.
go build -o bin/fanout ./bench/cmd/fanout
timeout 300 bin/fanout -append docs/benchmarks.md
# The echo test service on the SIP link: concurrent calls at 50 packets/s.
go build -o bin/echobench ./bench/cmd/echobench
timeout 300 bin/echobench -calls "${ECHO_CALLS:-100,300}" -append docs/benchmarks.md
# The memory cost of TLS per connection: 5,000 connections over tcp://,
# then tls://, kept open. The tool and parleyd each hold one descriptor
# per connection; the tool raises its soft limit to the hard one.
CONNS="${CONNS:-5000}"
need=$((CONNS + 512))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ "$(ulimit -n)" != unlimited && "$(ulimit -n)" -lt "$need" ]]; then
	echo "bench: ulimit -n is $(ulimit -n), below the $need descriptors for $CONNS connections; measuring $(( $(ulimit -n) - 512 )) instead" >&2
	CONNS=$(( $(ulimit -n) - 512 ))
fi
go build -o bin/tlsconns ./bench/cmd/tlsconns
timeout 300 bin/tlsconns -conns "$CONNS" -append docs/benchmarks.md
