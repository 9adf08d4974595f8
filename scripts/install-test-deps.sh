#!/usr/bin/env bash
# Installs the real SIP peers the tests use, if missing, from Debian:
#   sipp (sip-tester), baresip (baresip-core) and kamailio with its TLS
#   module (kamailio, kamailio-tls-modules: the federation partner of
#   interop-tests/federation_kamailio_test.go), prosody and python3-slixmpp
#   (the XMPP server and client of the XMPP gateway's interop tests),
#   python3-aiortc (the non-browser WebRTC peer of the WebRTC gateway's
#   interop tests), chromium and npm (headless Chromium running JsSIP,
#   which the tests fetch with npm ci from
#   interop-tests/testdata/webrtc-chrome/package-lock.json) for `make test`;
#   with --bench kamailio (and sipp) for `make bench`.
# Runs unattended (CI=true, no stdin); needs root or sudo.
set -euo pipefail

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
if [[ "${1:-}" != "--bench" ]]; then
	command -v baresip >/dev/null 2>&1 || need+=(baresip-core)
	dpkg-query -W -f='${Status}' kamailio-tls-modules 2>/dev/null | grep -q "install ok installed" || need+=(kamailio-tls-modules)
	command -v prosody >/dev/null 2>&1 || need+=(prosody)
	# slixmpp imports only under Debian's interpreter (deps.md).
	/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || need+=(python3-slixmpp)
	/usr/bin/python3 -c 'import aiortc' >/dev/null 2>&1 || need+=(python3-aiortc)
	command -v chromium >/dev/null 2>&1 || need+=(chromium)
	command -v npm >/dev/null 2>&1 || need+=(npm)
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
for tool in sipp baresip kamailio prosody chromium npm; do
	if command -v "$tool" >/dev/null 2>&1; then
		echo "install-test-deps: $tool at $(command -v "$tool")"
	fi
done
