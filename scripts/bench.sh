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
#
# Before and after: BASE=<commit> (`make bench BASE=5c603c7`) builds that
# commit's parleyd, parleyctl and example plugins in a temporary git
# worktree (removed on exit) and sipbench runs them as a baseline: the
# same sipp tests in every round, in turn with parleyd and Kamailio
# (now / base per test, a loss of more than 5% marked), and the Go
# benchmarks both trees define, GOCOUNT (default 5) runs each in each
# tree, alternating (medians, base / now / delta). That adds about
# 8-10 minutes: about 25 minutes in all.
#
# Extra arguments go to bench/cmd/sipbench (e.g. -only cluster
# -keep). Environment: DURATION (10s), ROUNDS (3), BASE, GOCOUNT (5),
# ECHO_CALLS (100,300), CONNS (5000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh --bench
# Always rebuild (incremental): a stale bin/parleyd would be measured silently.
go build -o bin/ ./cmd/... ./plugins/examples/...
go build -o bin/sipbench ./bench/cmd/sipbench
base_args=()
if [[ -n "${BASE:-}" ]]; then
	base_commit="$(git rev-parse --verify --short "${BASE}^{commit}")"
	base_tmp="$(mktemp -d -t parley-base-XXXXXX)"
	cleanup_base() {
		git worktree remove --force "$base_tmp/src" 2>/dev/null || true
		rm -rf "$base_tmp"
		git worktree prune
	}
	trap cleanup_base EXIT
	git worktree add --detach "$base_tmp/src" "$base_commit" >/dev/null
	echo "bench: building the baseline $base_commit in $base_tmp/src"
	(cd "$base_tmp/src" && go build -o "$base_tmp/bin/" ./cmd/... ./plugins/examples/...)
	base_args=(-base "$base_tmp/bin" -base-src "$base_tmp/src" -base-commit "$base_commit" -gocount "${GOCOUNT:-5}")
fi
timeout 3000 bin/sipbench -duration "${DURATION:-10s}" -rounds "${ROUNDS:-3}" -out docs/benchmarks.md \
	${base_args[@]+"${base_args[@]}"} "$@"
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
