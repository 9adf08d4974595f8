// Package interop holds Parley's black-box interoperability tests: they
// start the real bin/parleyd on free loopback ports and drive it with real
// SIP peers from Debian's packages (sipp from sip-tester, baresip from
// baresip-core), checking state through bin/parleyctl.
//
// The tests carry the build tag "interop" and run from the repository root
// with
//
//	make build && go test -tags interop -count=1 -timeout 20m ./interop-tests/...
//
// (`make test` does this last). They expect bin/parleyd and bin/parleyctl
// (or PARLEY_BIN_DIR pointing at a directory with both); when missing they
// build ./cmd/... once into a temporary directory. Every process talks only
// to 127.0.0.1, and every wait is bounded. The sipp scenarios live in
// testdata/sipp, each documented at its top (presence_*.xml for the
// presence agent). The presence tests that need free-form checks use
// sipUA (sipua_test.go), a small text-level UDP user agent with MD5
// digest, and xcapClient (presence_xcap_test.go) for XCAP over HTTP
// digest. scripts/sipp-vs-kamailio.sh replays the registration and
// messaging scenarios against the reference Kamailio (bench/kamailio) to
// check them apart from parleyd.
package interop
