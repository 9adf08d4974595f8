#!/usr/bin/env bash
# Server CPU per call under a fixed sipp load: the measure used to tune
# parleyd on a shared machine, where calls/s at saturation is noise.
#
#   scripts/profile-load.sh SERVER TEST [RATE] [SECONDS]
#
# SERVER is parleyd or kamailio; TEST is reg-noauth, reg-digest or message
# (the scenarios of `make bench`, bench/sipp/). One sipp UAC sends RATE new
# calls a second (default 2000) for SECONDS (default 15) with its own UDP
# socket per call (-t un), like `make bench`. Prints the server's CPU time
# (user+system, from /proc) divided by the calls that succeeded (and
# sipp's: at saturation on N cores, calls/s is about N / (server + sipp
# CPU per call)), and for
# parleyd writes a CPU profile of the middle of the run to
# $OUT/cpu.pprof (OUT defaults to a new temporary directory; inspect it
# with `go tool pprof -top bin/parleyd $OUT/cpu.pprof`) and the live heap
# right after the run to $OUT/heap.pprof. KEEP=SECONDS keeps the servers
# running that long after the run, to inspect them (parleyctl binding list).
# RULES=FILE (parleyd only) adds a rules app evaluating FILE before the
# router, as `make bench`'s test (e); PLUGIN=COMMAND adds that plugin
# (e.g. contentfilter, from $bin) there instead, as test (f).
set -euo pipefail
cd "$(dirname "$0")/.."
server=${1:?server: parleyd or kamailio}
test=${2:?test: reg-noauth, reg-digest or message}
rate=${3:-2000}
secs=${4:-15}
out=${OUT:-$(mktemp -d /tmp/parley-profile.XXXXXX)}
bin=${BIN:-bin} # where parleyd and parleyctl are (BIN=... compares builds)
mkdir -p "$out"
calls=$((rate * secs))
users=$((calls + 10))
base=$((10000 + RANDOM % 20000)) # below the ephemeral ports sipp -t un takes
sip=$base admin=$((base + 1)) raft=$((base + 2)) trusted=$((base + 3)) pprof=$((base + 4)) uas=$((base + 5))
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
[[ -n ${KEEP:-} ]] && trap "sleep $KEEP; cleanup" EXIT

case $server in
parleyd)
	[[ -x $bin/parleyd && -x $bin/parleyctl ]] || go build -o "$bin/" ./cmd/parleyd ./cmd/parleyctl
	# No intra-cluster link: "off" now, empty in builds from before it
	# was spelt so (BIN=a baseline build).
	clustersip=(--cluster-sip off)
	"$bin/parleyd" --help 2>&1 | grep -A4 -- --cluster-sip | grep -q 'off' || clustersip=(--cluster-sip "")
	"$bin/parleyd" --node-id n1 --data-dir "$out/data" --domain localhost \
		--sip-listen "udp://127.0.0.1:$sip,udp://127.0.0.1:$trusted?trust=trusted" \
		--admin-listen "127.0.0.1:$admin" --admin-token prof --raft-listen "127.0.0.1:$raft" "${clustersip[@]}" \
		--pprof-listen "127.0.0.1:$pprof" --log-format json --log-level warn \
		--flood-rate 0 --xcap-listen "" --plugin-dir "$(cd "$bin" && pwd)" >"$out/server.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 150); do
		curl -fs "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	{
		echo "username,password"
		for ((i = 0; i < users; i++)); do echo "user$i,secret"; done
	} >"$out/users.csv"
	"$bin/parleyctl" --admin "http://127.0.0.1:$admin" --token prof user import "$out/users.csv" >/dev/null
	if [[ -n ${RULES:-} ]]; then
		"$bin/parleyctl" --admin "http://127.0.0.1:$admin" --token prof app add bench-rules --kind rules \
			--position 50 --rules-file "$RULES" >/dev/null
	fi
	if [[ -n ${PLUGIN:-} ]]; then
		"$bin/parleyctl" --admin "http://127.0.0.1:$admin" --token prof app add bench-plugin --kind plugin \
			--command "$PLUGIN" --position 50 --setting words=never-in-a-bench-body >/dev/null
		sleep 1
	fi
	;;
kamailio)
	extra=()
	[[ $test == reg-noauth ]] && extra=(-A NOAUTH)
	kamailio -DD -E -f bench/kamailio/kamailio.cfg -Y "$out" -m 2048 -M 64 \
		-l "udp:127.0.0.1:$sip" "${extra[@]}" >"$out/server.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	sleep 1.5
	;;
*)
	echo "unknown server $server" >&2
	exit 2
	;;
esac

target=127.0.0.1:$sip
[[ $server == parleyd && $test == reg-noauth ]] && target=127.0.0.1:$trusted
lines() { # first count
	echo SEQUENTIAL
	for ((i = $1; i < $1 + $2; i++)); do echo "user$i;secret;localhost;"; done
}
sippargs=(-i 127.0.0.1 -bind_local -nostdin -default_behaviors all,-bye -buff_size 4194304
	-watchdog_minor_maxtriggers 1000000 -watchdog_major_maxtriggers 1000000)
svc=()
case $test in
reg-noauth) sf=reg_noauth.xml ;;
reg-digest) sf=reg_digest.xml ;;
message)
	sf=msg_uac.xml
	lines $((users - 1)) 1 >"$out/target.csv"
	sipp "127.0.0.1:$sip" -sf bench/sipp/reg_digest.xml -inf "$out/target.csv" -m 1 -p "$uas" -t u1 \
		-timeout 10s -timeout_error "${sippargs[@]}" >"$out/target-reg.log" 2>&1
	sipp "127.0.0.1:$sip" -sf bench/sipp/msg_uas.xml -inf "$out/target.csv" -p "$uas" -t u1 \
		"${sippargs[@]}" >"$out/uas.log" 2>&1 &
	pids+=("$!")
	svc=(-s "user$((users - 1))")
	sleep 0.5
	;;
*)
	echo "unknown test $test" >&2
	exit 2
	;;
esac
lines 0 "$calls" >"$out/uac.csv"

# CPU ticks of the server and its children (Kamailio forks its workers).
ticks() {
	local sum=0 p
	for p in $spid $(pgrep -P "$spid" || true); do
		sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$sum"
}
t0=$(ticks)
sipp "$target" -sf "bench/sipp/$sf" -inf "$out/uac.csv" -r "$rate" -m "$calls" -l $((rate / 2)) -t un \
	-max_socket $((rate < 3000 ? rate * 5 : 15000)) "${svc[@]}" -trace_stat -stf "$out/stats.csv" -fd 1 \
	-trace_err -error_file "$out/errors.log" "${sippargs[@]}" >"$out/sipp.log" 2>&1 &
sippid=$!
pids+=("$sippid")
sipp_ticks() { awk '{print $14 + $15}' "/proc/$sippid/stat" 2>/dev/null || echo 0; }
( while kill -0 "$sippid" 2>/dev/null; do sipp_ticks >"$out/sipp-ticks"; sleep 0.2; done ) &
if [[ $server == parleyd ]]; then
	sleep $((secs / 4))
	curl -fs -o "$out/cpu.pprof" "http://127.0.0.1:$pprof/debug/pprof/profile?seconds=$((secs / 2))" || true
fi
wait "$sippid" || true
t1=$(ticks)
if [[ $server == parleyd ]]; then # what the run left live (transactions, bindings)
	curl -fs -o "$out/heap.pprof" "http://127.0.0.1:$pprof/debug/pprof/heap?gc=1" || true
fi
hz=$(getconf CLK_TCK)
ok=$(tail -1 "$out/stats.csv" | awk -F';' -v h="$(head -1 "$out/stats.csv")" '
	BEGIN { n = split(h, names, ";"); for (i = 1; i <= n; i++) col[names[i]] = i }
	{ print $col["SuccessfulCall(C)"] + 0 }')
failed=$(tail -1 "$out/stats.csv" | awk -F';' -v h="$(head -1 "$out/stats.csv")" '
	BEGIN { n = split(h, names, ";"); for (i = 1; i <= n; i++) col[names[i]] = i }
	{ print $col["FailedCall(C)"] + 0 }')
s1=$(cat "$out/sipp-ticks" 2>/dev/null || echo 0)
awk -v d=$((t1 - t0)) -v sd="$s1" -v hz="$hz" -v ok="$ok" -v f="$failed" -v s="$server" -v t="$test" -v r="$rate" -v o="$out" 'BEGIN {
	printf "%s %s at %d/s: %d ok, %d failed, server CPU %.2f s = %.1f us per call; sipp %.1f us per call (%s)\n",
		s, t, r, ok, f, d / hz, (ok > 0 ? d / hz / ok * 1e6 : 0), (ok > 0 ? sd / hz / ok * 1e6 : 0), o }'
