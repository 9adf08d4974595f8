#!/usr/bin/env bash
# Installs the real SIP peers the tests use, if missing, from Debian:
#   sipp (sip-tester) and baresip (baresip-core) for `make test`;
#   with --bench also kamailio (and sipp) for `make bench`.
# Runs unattended (CI=true, no stdin); needs root or sudo.
set -euo pipefail

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
if [[ "${1:-}" == "--bench" ]]; then
	command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
else
	command -v baresip >/dev/null 2>&1 || need+=(baresip-core)
fi
if ((${#need[@]} == 0)); then
	exit 0
fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then
	sudo=(sudo -n)
fi
echo "install-test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update </dev/null
"${sudo[@]}" apt-get install -y "${need[@]}" </dev/null
for tool in sipp baresip kamailio; do
	if command -v "$tool" >/dev/null 2>&1; then
		echo "install-test-deps: $tool at $(command -v "$tool")"
	fi
done
