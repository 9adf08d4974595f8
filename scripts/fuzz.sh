#!/usr/bin/env bash
# Runs every Fuzz* target of every package for FUZZTIME (default 30s) each.
# Targets are found with `go test -list`; exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-30s}"
total=0
failed=()
for pkg in $(go list ./...); do
	targets=$(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' || true)
	for target in $targets; do
		total=$((total + 1))
		echo "=== fuzz $pkg $target for $FUZZTIME"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"; then
			failed+=("$pkg.$target")
		fi
	done
done
echo "fuzz: $((total - ${#failed[@]})) passed, ${#failed[@]} failed"
if ((${#failed[@]})); then
	printf 'failed: %s\n' "${failed[@]}"
	exit 1
fi
