#!/usr/bin/env bash
# Replays the interop sipp scenarios (interop-tests/testdata/sipp) against
# the reference Kamailio (bench/kamailio/kamailio.cfg) on 127.0.0.1, to check
# the scenarios themselves independently of parleyd. Needs sipp + kamailio
# (scripts/install-test-deps.sh --bench). Prints one line per scenario and
# "N passed, N failed"; traces stay in the printed work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
S=interop-tests/testdata/sipp
work=$(mktemp -d /tmp/sipp-vs-kamailio.XXXXXX)
port=$((20000 + RANDOM % 20000))
kamailio -DD -E -f bench/kamailio/kamailio.cfg -Y "$work" -m 64 \
	-l "udp:127.0.0.1:$port" >"$work/kamailio.log" 2>&1 &
kam=$!
trap 'kill $kam 2>/dev/null; wait $kam 2>/dev/null || true' EXIT
sleep 1.5

pass=0
fail=0
# run NAME LOCALPORT SCENARIO USER PASSWORD [sipp args...]
run() {
	local name=$1 lport=$2 sf=$3 user=$4 pw=$5
	shift 5
	printf 'SEQUENTIAL\n%s;%s;localhost;\n' "$user" "$pw" >"$work/$name.csv"
	timeout 30 sipp "127.0.0.1:$port" -sf "$S/$sf" -inf "$work/$name.csv" -m 1 \
		-i 127.0.0.1 -bind_local -p "$lport" -t u1 -timeout 15s -timeout_error -nostdin \
		-trace_err -error_file "$work/$name-errors.log" \
		-trace_msg -message_file "$work/$name-messages.log" "$@" >"$work/$name-screen.log" 2>&1
}
check() {
	if [[ $2 == 0 ]]; then
		pass=$((pass + 1))
		echo "PASS $1"
	else
		fail=$((fail + 1))
		echo "FAIL $1 (sipp exit $2; see $work/$1-*.log)"
	fi
}
base=$((port + 1))
run register $base register.xml alice secret -key expires 600 && rc=0 || rc=$?
check register $rc
run unregister $base unregister.xml alice secret && rc=0 || rc=$?
check unregister $rc
run forbidden $((base + 1)) register_forbidden.xml alice wrong && rc=0 || rc=$?
check forbidden $rc
for target in nobody:404 carol:480; do
	run "to-${target%:*}" $((base + 2)) uac_message_rejected.xml alice secret -s "${target%:*}" && rc=0 || rc=$?
	grep -q "^SIP/2.0 ${target#*:} " "$work/to-${target%:*}-messages.log" || rc=100
	check "to-${target%:*}" $rc
done
for pair in message:uas_message.xml:uac_message.xml invite:uas_invite.xml:uac_invite.xml; do
	IFS=: read -r name uas uac <<<"$pair"
	cid="vs-kamailio-$name-%u-$$"
	run "$name-bob" $((base + 3)) "$uas" bob secret -cid_str "$cid" &
	bob=$!
	sleep 1
	run "$name-alice" $((base + 4)) "$uac" alice secret -s bob -cid_str "$cid" && rc=0 || rc=$?
	wait $bob && brc=0 || brc=$?
	check "$name-alice" $rc
	check "$name-bob" $brc
done
echo "sipp-vs-kamailio: $pass passed, $fail failed (work directory $work)"
[[ $fail == 0 ]]
