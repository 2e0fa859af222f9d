#!/usr/bin/env bash
# bench/run.sh: wgate against wireguard-go, measured in the same run
# (`make bench` builds Release and runs this; needs root).
#
# Two network namespaces joined by a veth pair (MTU 1500, tunnel MTU 1420).
# For each configuration A -> B
#     wgate-wgate   wgated       -> wgated
#     wgate-wggo    wgated       -> wireguard-go
#     wggo-wggo     wireguard-go -> wireguard-go   (the baseline of every ratio)
# in an interleaved order (rotated every round), ROUNDS times:
#   - TCP A->B through the tunnel, 1 stream and 4 streams (iperf3 -P 4)
#   - UDP A->B at full speed (iperf3 -u -b 0) with 1400-byte and 64-byte UDP
#     datagrams (payload 1392 / 56 bytes: a 1400-byte datagram is exactly a
#     1420-byte IP packet, the tunnel MTU, so nothing fragments): packets per
#     second received by B and the loss; then the highest offered rate that
#     loses at most UDP_MAX_LOSS % (doubling, then bisecting)
#   - ping RTT A->B (PINGS pings 10 ms apart), idle and under a TCP bulk
#     transfer: p50 and p99 of the individual RTTs
#   - CPU of both daemons (utime+stime from /proc/PID/stat, all threads, or
#     perf stat cycles where the PMU is available) per byte received, during
#     the single-stream run (full speed) and during a TCP run at a fixed
#     rate (BENCH_CPU_RATE) that every configuration reaches
# and per round, for wgated and wireguard-go as the responder B:
#   - handshakes: responder handshakes/s of the core in-process
#     (handshake_load inproc) and of the daemon pinned to one core, driven
#     over UDP by handshake_load from HS_KEYS identities (pinned to another)
#   - flood: while handshake_load blasts mac1-valid garbage initiations
#     from 256 addresses x 16 ports at FLOOD_PPS, a legitimate wireguard-go
#     peer handshakes: how many retries it needed (from its verbose log)
#   - scale: `wg setconf` of SCALE_CMP_PEERS (65,536: wireguard-go's maximum)
#     peers with one /32 each into both, and of SCALE_PEERS (100,000) into
#     wgated: time, and RSS growth per peer (VmRSS of the idle, up interface
#     before and 2 s after)
# then the Google Benchmark micro-benchmarks (build/bench/wgate_bench).
# Medians over the rounds, ratios against wireguard-go and the targets of
# the performance issue go to stdout and to bench/results/latest.{md,json}.
#
# Environment:
#   BENCH_ROUNDS=3        rounds (each configuration once per round)
#   BENCH_SECONDS=5       seconds per iperf3 measurement
#   BENCH_QUICK=1         smoke run: 1 round, 2 s, 100 pings
#   BENCH_ONLY="tunnel handshake flood scale micro"   parts to run
#   BENCH_CONFIGS="wgate-wgate wgate-wggo wggo-wggo"  tunnel pairs to run
#   BENCH_CPU_RATE=200M   rate of the fixed-rate CPU run (iperf3 -b)
#   BENCH_UDP_RATE=0      offered rate of the UDP runs (iperf3 -b; 0: as fast as
#                         iperf3 can send, which on 2 CPUs competes with the daemons)
#   BENCH_UDP_MAX_LOSS=1  loss (%) allowed at the "highest rate" of the UDP search
#   BENCH_UDP_SEARCH_TRIALS=9  iperf3 runs of that search (2 s each) at most
#   BENCH_HS_KEYS=1000    identities of the UDP handshake load
#   BENCH_HS_WINDOW=256   initiations outstanding at most in that load
#   BENCH_FLOOD_PPS=50000 invalid initiations per second of the flood
#   BENCH_SCALE_PEERS=100000      peers of the scale target (wgated only)
#   BENCH_SCALE_CMP_PEERS=65536   peers of the scale comparison (both)
#   BENCH_PIN=1           pin daemons / generators to CPUs (needs >= 2 CPUs)
#   BENCH_OUT=bench/results   where latest.md / latest.json go
#   BENCH_KEEP=1          keep the temporary directory (logs, raw results)
#   WGATED, WIREGUARD_GO, BUILD_DIR   binaries
# shellcheck source=bench/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

need ip wg iperf3 ping python3 taskset awk ss
[[ -x $HANDSHAKE_LOAD ]] || die "handshake_load not built ($HANDSHAKE_LOAD): make build"
[[ -x $WGATE_BENCH ]] || die "wgate_bench not built ($WGATE_BENCH): make build"
impl_bin wgated >/dev/null
impl_bin wireguard-go >/dev/null

BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
[[ $BUILD_TYPE == Release ]] || log "# warning: $BUILD_DIR is a '${BUILD_TYPE:-unknown}' build, not Release: numbers are not representative"

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
	ROUNDS=${BENCH_ROUNDS:-1} DUR=${BENCH_SECONDS:-2} PINGS=100
else
	ROUNDS=${BENCH_ROUNDS:-3} DUR=${BENCH_SECONDS:-5} PINGS=200
fi
UDP_SEARCH_DUR=$((DUR < 2 ? DUR : 2))
ONLY=" ${BENCH_ONLY:-tunnel handshake flood scale micro} "
CPU_RATE=${BENCH_CPU_RATE:-200M}
UDP_RATE=${BENCH_UDP_RATE:-0}
UDP_MAX_LOSS=${BENCH_UDP_MAX_LOSS:-1}
UDP_SEARCH_TRIALS=${BENCH_UDP_SEARCH_TRIALS:-9}
HS_KEYS=${BENCH_HS_KEYS:-1000}
HS_WINDOW=${BENCH_HS_WINDOW:-256}
FLOOD_PPS=${BENCH_FLOOD_PPS:-50000}
SCALE_PEERS=${BENCH_SCALE_PEERS:-100000}
SCALE_CMP_PEERS=${BENCH_SCALE_CMP_PEERS:-65536}
OUT_DIR=${BENCH_OUT:-$BENCH_SRC_DIR/bench/results}
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
# Pinning for the daemon-level tests: the daemon under test on one CPU, the
# load generator on another.
if [[ ${BENCH_PIN:-1} == 1 ]] && ((NCPU >= 2)); then
	CPU_DAEMON=1 CPU_LOAD=0 LOAD_PIN=(taskset -c 0)
else
	CPU_DAEMON="" CPU_LOAD="" LOAD_PIN=()
fi
read -r -a CONFIGS <<<"${BENCH_CONFIGS:-wgate-wgate wgate-wggo wggo-wggo}"
RAW=$WGB_DIR/raw.jsonl
: >"$RAW"
ROUND=0

wants() { [[ $ONLY == *" $1 "* ]]; }

# jfield FILE|- KEY.PATH...: values from a JSON document (the last line
# starting with "{" when it is several), space-separated, "null" if absent.
jfield() {
	python3 -c '
import json, sys
src = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
text = src.read()
try:
    doc = json.loads(text)
except ValueError:
    lines = [l for l in text.splitlines() if l.startswith("{")]
    try:
        doc = json.loads(lines[-1]) if lines else {}
    except ValueError:
        doc = {}
out = []
for path in sys.argv[2:]:
    v = doc
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    out.append("null" if v is None else str(v).replace("\n", " "))
print(" ".join(out))
' "$@" 2>/dev/null || echo null
}

# record CONFIG METRIC VALUE: one raw result (VALUE a number, or null).
record() {
	local v=$3
	[[ $v =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] || v=null
	printf '{"round":%d,"config":"%s","metric":"%s","value":%s}\n' "$ROUND" "$1" "$2" "$v" >>"$RAW"
}

impls_of() { # config -> "IMPL_A IMPL_B"
	case $1 in
	wgate-wgate) echo "wgated wgated" ;;
	wgate-wggo) echo "wgated wireguard-go" ;;
	wggo-wggo) echo "wireguard-go wireguard-go" ;;
	esac
}

# ---------------------------------------------------------------- CPU accounting

# perf stat cycles where the PMU is there (often not in VMs); /proc otherwise.
PERF=0
if command -v perf >/dev/null && perf stat -x, -e cycles true 2>&1 >/dev/null | grep -Eq '^[0-9]+,'; then PERF=1; fi
CPU_SOURCE=$([[ $PERF == 1 ]] && echo "perf stat -e cycles (+ /proc utime+stime)" || echo "/proc/PID/stat utime+stime (perf stat: cycles not supported here)")

# ---------------------------------------------------------------- topology

step "bench: rounds=$ROUNDS seconds=$DUR quick=$QUICK prefix=$WGB_PFX dir=$WGB_DIR"
step "CPU accounting: $CPU_SOURCE"
python3 "$BENCH_LIB_DIR/report.py" machine "$WGATED" "$(command -v "$WIREGUARD_GO")" >"$WGB_DIR/machine.json"
make_pair
for k in a b; do
	(umask 077 && wg genkey >"$WGB_DIR/keys/$k.key")
	wg pubkey <"$WGB_DIR/keys/$k.key" >"$WGB_DIR/keys/$k.pub"
done
pub() { cat "$WGB_DIR/keys/$1.pub"; }

# configure NS IF KEY PORT PEER PEER_ENDPOINT PEER_TUNNEL_IP MY_TUNNEL_IP
configure() {
	ip netns exec "$1" wg set "$2" private-key "$WGB_DIR/keys/$3.key" listen-port "$4" \
		peer "$(pub "$5")" endpoint "$6" allowed-ips "$7/32"
	ip -n "$1" addr add "$8/24" dev "$2"
	ip -n "$1" link set "$2" mtu 1420 up
}

# tunnel_up IMPL_A IMPL_B [LOG_LEVEL_A [CPUS_B]]: both daemons, peers of each other.
tunnel_up() {
	start_daemon "$NS_A" "$1" "$IF_A" "" "${3:-}"
	start_daemon "$NS_B" "$2" "$IF_B" "${4:-}"
	configure "$NS_A" "$IF_A" a "$PORT_A" b "$OUT4_B:$PORT_B" "$IN4_B" "$IN4_A"
	configure "$NS_B" "$IF_B" b "$PORT_B" a "$OUT4_A:$PORT_A" "$IN4_A" "$IN4_B"
}

tunnel_down() {
	[[ -n ${IPERF_SRV:-} ]] && stop_pid "$IPERF_SRV"
	IPERF_SRV=""
	stop_daemon "$IF_A"
	stop_daemon "$IF_B"
}

wait_ping() { # until one echo reply through the tunnel, at most $1 s
	local i
	for ((i = 0; i < $1 * 2; i++)); do
		ip netns exec "$NS_A" ping -n -q -c 1 -W 0.5 "$IN4_B" >/dev/null 2>&1 && return 0
	done
	return 1
}

start_iperf_server() {
	local i
	start_bg IPERF_SRV "$WGB_DIR/logs/iperf3-server.log" ip netns exec "$NS_B" iperf3 -s -p 5201
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$NS_B" ss -ltnH 'sport = :5201' | grep -q . && return 0
		sleep 0.1
	done
	die "iperf3 server did not start"
}

# iperf CLIENT-ARGS...: iperf3 A->B (JSON into $WGB_DIR/iperf.json); 1 on failure.
iperf() {
	timeout $((DUR + 20)) ip netns exec "$NS_A" iperf3 -c "$IN4_B" -p 5201 -t "$DUR" -J "$@" >"$WGB_DIR/iperf.json" 2>>"$WGB_DIR/logs/iperf3-client.log" &&
		[[ $(jfield "$WGB_DIR/iperf.json" error end.sum_received.bytes) =~ ^null\ [0-9] ]]
}

# tcp_run CONFIG NAME CLIENT-ARGS...: throughput, and CPU of both daemons per byte.
tcp_run() {
	local config=$1 metric=$2 pids c0 c1 bytes bps perf_pid="" cycles=""
	shift 2
	pids=("$(daemon_pid "$IF_A")" "$(daemon_pid "$IF_B")")
	c0=$(cpu_ticks "${pids[@]}")
	if [[ $PERF == 1 ]]; then
		start_bg perf_pid "$WGB_DIR/logs/perf.log" perf stat -x, -e cycles -o "$WGB_DIR/perf.csv" \
			-p "${pids[0]},${pids[1]}" -- sleep "$DUR"
	fi
	if ! iperf "$@"; then
		log "  $config $metric: iperf3 failed: $(jfield "$WGB_DIR/iperf.json" error | head -c 200)"
		[[ -n $perf_pid ]] && stop_pid "$perf_pid" INT
		record "$config" "${metric}_mbps" null
		return 0
	fi
	c1=$(cpu_ticks "${pids[@]}")
	read -r bytes bps <<<"$(jfield "$WGB_DIR/iperf.json" end.sum_received.bytes end.sum_received.bits_per_second)"
	record "$config" "${metric}_mbps" "$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')"
	record "$config" "${metric}_cpu_ns_per_byte" \
		"$(awk -v d=$((c1 - c0)) -v t="$CLK_TCK" -v b="$bytes" 'BEGIN { if (b > 0) printf "%.4f", d / t * 1e9 / b; else print "null" }')"
	if [[ -n $perf_pid ]]; then
		wait "$perf_pid" 2>/dev/null || true
		forget_bg "$perf_pid"
		cycles=$(awk -F, '$3 == "cycles" || $3 ~ /^cycles/ { print $1; exit }' "$WGB_DIR/perf.csv" 2>/dev/null || true)
		[[ $cycles =~ ^[0-9]+$ ]] && record "$config" "${metric}_cycles_per_byte" \
			"$(awk -v c="$cycles" -v b="$bytes" 'BEGIN { printf "%.3f", c / b }')"
	fi
	log "  $config $metric: $(awk -v b="$bps" 'BEGIN { printf "%.0f", b / 1e6 }') Mbit/s, CPU $(((c1 - c0) * 1000 / CLK_TCK)) ms for $bytes bytes"
}

# udp_run CONFIG NAME DATAGRAM_SIZE: received packets/s and loss at full speed.
udp_run() {
	local config=$1 metric=$2 payload=$(($3 - 8)) out packets lost pct secs pid_a pid_b a0 b0 a1 b1
	pid_a=$(daemon_pid "$IF_A") pid_b=$(daemon_pid "$IF_B")
	a0=$(cpu_ticks "$pid_a") b0=$(cpu_ticks "$pid_b")
	if ! iperf -u -b "$UDP_RATE" -l "$payload"; then
		log "  $config $metric: iperf3 failed: $(jfield "$WGB_DIR/iperf.json" error | head -c 200)"
		record "$config" "${metric}_kpps" null
		return 0
	fi
	# end.sum_received is the receiver's view: packets sent (sequence numbers),
	# lost, loss percentage; received = packets - lost.
	out=$(jfield "$WGB_DIR/iperf.json" end.sum_received.packets end.sum_received.lost_packets \
		end.sum_received.lost_percent end.sum_received.seconds)
	read -r packets lost pct secs <<<"$out"
	a1=$(cpu_ticks "$pid_a") b1=$(cpu_ticks "$pid_b")
	record "$config" "${metric}_kpps" "$(awk -v p="$packets" -v l="$lost" -v s="$secs" 'BEGIN { printf "%.2f", (p - l) / s / 1000 }')"
	record "$config" "${metric}_loss_pct" "$(awk -v x="$pct" 'BEGIN { printf "%.2f", x }')"
	log "  $config $metric: $(awk -v p="$packets" -v l="$lost" -v s="$secs" 'BEGIN { printf "%.0f", (p - l) / s }') pps received, loss $(printf "%.1f" "$pct") %," \
		"CPU sender $(((a1 - a0) * 1000 / CLK_TCK)) ms, receiver $(((b1 - b0) * 1000 / CLK_TCK)) ms"
}

# udp_trial PAYLOAD PPS: one iperf3 UDP run at PPS offered; prints
# "received_pps loss_pct" or nothing when iperf3 failed.
udp_trial() {
	local payload=$1 pps=$2 packets lost pct secs
	iperf -u -b "$((pps * payload * 8))" -l "$payload" -t "$UDP_SEARCH_DUR" || return 0
	read -r packets lost pct secs <<<"$(jfield "$WGB_DIR/iperf.json" end.sum_received.packets \
		end.sum_received.lost_packets end.sum_received.lost_percent end.sum_received.seconds)"
	awk -v p="$packets" -v l="$lost" -v s="$secs" -v x="$pct" 'BEGIN { if (s > 0) printf "%.0f %.3f\n", (p - l) / s, x }'
}

# udp_max_run CONFIG NAME DATAGRAM_SIZE: the highest offered rate that loses
# at most UDP_MAX_LOSS % (RFC 2544's throughput, with a loss allowance):
# doubling from a start rate, then bisecting to within 10 %. Unlike the
# flood above, iperf3 then leaves the CPUs to the tunnel and the receiver.
udp_max_run() {
	local config=$1 metric=$2 payload=$(($3 - 8)) pps ok=0 ok_rx=0 bad=0 trial rx loss i
	pps=$((($3 >= 1000) ? 20000 : 40000))
	for ((i = 0; i < UDP_SEARCH_TRIALS; i++)); do
		trial=$(udp_trial "$payload" "$pps")
		read -r rx loss <<<"$trial"
		if [[ -n $trial ]] && awk -v l="$loss" -v m="$UDP_MAX_LOSS" 'BEGIN { exit !(l <= m) }'; then
			ok=$pps ok_rx=$rx
		else
			bad=$pps
		fi
		if ((bad == 0)); then
			pps=$((pps * 2))
		else
			((bad - ok <= bad / 10)) && break
			pps=$(((ok + bad) / 2))
		fi
	done
	record "$config" "${metric}_max_kpps" "$(awk -v r="$ok_rx" 'BEGIN { printf "%.2f", r / 1000 }')"
	log "  $config $metric: highest rate with <= $UDP_MAX_LOSS % loss: $ok pps offered, $ok_rx received" \
		"(first failing rate: $bad pps)"
}

# ping_run CONFIG NAME: p50/p99 RTT (ms) of PINGS pings 10 ms apart.
ping_run() {
	local config=$1 metric=$2 stats p50 p99 loss
	ip netns exec "$NS_A" timeout $((PINGS / 50 + 15)) ping -n -i 0.01 -c "$PINGS" -W 1 "$IN4_B" >"$WGB_DIR/ping.txt" 2>&1 || true
	stats=$(sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$WGB_DIR/ping.txt" | sort -g | awk -v n="$PINGS" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "null null 100"; exit }
			i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
			if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
			printf "%.4f %.4f %.2f\n", v[i50], v[i99], (n - NR) * 100 / n
		}')
	read -r p50 p99 loss <<<"$stats"
	record "$config" "${metric}_p50_ms" "$p50"
	record "$config" "${metric}_p99_ms" "$p99"
	record "$config" "${metric}_loss_pct" "$loss"
	log "  $config $metric: p50 $p50 ms, p99 $p99 ms, loss $loss %"
}

run_tunnel_config() {
	local config=$1 impls bulk i
	read -r -a impls <<<"$(impls_of "$config")"
	step "round $ROUND: $config (A=${impls[0]} -> B=${impls[1]})"
	tunnel_up "${impls[0]}" "${impls[1]}"
	wait_ping 10 || die "$config: no ping through the tunnel after 10 s"
	start_iperf_server
	tcp_run "$config" tcp1 -P 1
	tcp_run "$config" tcp4 -P 4
	udp_run "$config" udp1400 1400
	udp_run "$config" udp64 64
	udp_max_run "$config" udp1400 1400
	udp_max_run "$config" udp64 64
	ping_run "$config" ping_idle
	# Under load: a TCP bulk transfer for the duration of the pings.
	start_bg bulk "$WGB_DIR/logs/bulk.log" timeout $((PINGS / 100 + 25)) \
		ip netns exec "$NS_A" iperf3 -c "$IN4_B" -p 5201 -t $((PINGS / 100 + 3))
	sleep 1
	ping_run "$config" ping_load
	for ((i = 0; i < 100; i++)); do proc_alive "$bulk" || break; sleep 0.1; done
	stop_pid "$bulk" INT
	tcp_run "$config" cpufixed -P 1 -b "$CPU_RATE"
	tunnel_down
}

# ---------------------------------------------------------------- handshakes

hs_inproc() {
	local out
	out=$("${LOAD_PIN[@]}" "$HANDSHAKE_LOAD" inproc --keys "$HS_KEYS" --pool $((DUR * 4000)) 2>>"$WGB_DIR/logs/handshake.log") || true
	record wgated hs_inproc_per_s "$(jfield - handshakes_per_cpu_s <<<"$out")"
	log "  in-process (core only): $(jfield - handshakes_per_cpu_s <<<"$out") handshakes per CPU-second"
}

# hs_udp IMPL: the daemon on one core answering initiations from HS_KEYS identities.
hs_udp() {
	local impl=$1 conf=$WGB_DIR/hs.conf out pid c0 c1 per_cpu rate responses cookies timeouts
	start_daemon "$NS_B" "$impl" "$IF_B" "$CPU_DAEMON"
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' "$(cat "$WGB_DIR/keys/b.key")" "$PORT_B"
		"$HANDSHAKE_LOAD" conf --keys "$HS_KEYS"
	} >"$conf"
	ip netns exec "$NS_B" wg setconf "$IF_B" "$conf"
	ip -n "$NS_B" link set "$IF_B" up
	pid=$(daemon_pid "$IF_B")
	c0=$(cpu_ticks "$pid")
	out=$(ip netns exec "$NS_A" timeout $((DUR + 60)) "${LOAD_PIN[@]}" "$HANDSHAKE_LOAD" udp --keys "$HS_KEYS" --responder-pub "$(pub b)" --target "$OUT4_B:$PORT_B" \
		--src-net 10.123.0.1 --src-count 1024 --seconds "$DUR" --window "$HS_WINDOW" --pool $((DUR * 8000)) \
		2>>"$WGB_DIR/logs/handshake.log") || true
	c1=$(cpu_ticks "$pid")
	read -r rate responses cookies timeouts <<<"$(jfield - responses_per_s responses cookie_replies timeouts <<<"$out")"
	# Per CPU-second of the daemon: its capacity on one core even when that
	# core is shared with other work (the wall-clock rate is not then).
	per_cpu=$(awk -v r="$responses" -v d=$((c1 - c0)) -v t="$CLK_TCK" 'BEGIN { if (d > 0 && r + 0 > 0) printf "%.1f", r / (d / t); else print "null" }')
	record "$impl" hs_udp_per_s "$rate"
	record "$impl" hs_udp_per_cpu_s "$per_cpu"
	record "$impl" hs_udp_cookie_replies "$cookies"
	record "$impl" hs_udp_timeouts "$timeouts"
	log "  $impl over UDP, one core: $rate handshakes/s, $per_cpu per CPU-second ($cookies cookie replies, $timeouts timeouts)"
	stop_daemon "$IF_B"
}

# ---------------------------------------------------------------- flood

# flood_run IMPL: IMPL is the responder B; A is a legitimate wireguard-go peer.
flood_run() {
	local impl=$1 flood ping_pid logf before after t0 done_at="" i retries secs out sent_pps cookies
	# The responder on one core and the flood on the other: an attacker with
	# one core against a responder with one.
	tunnel_up wireguard-go "$impl" verbose "$CPU_DAEMON"
	logf=$(daemon_log "$IF_A")
	if [[ $(ip netns exec "$NS_A" wg show "$IF_A" latest-handshakes | awk '{ print $2 }') != 0 ]]; then
		log "  warning: a handshake happened before the test started"
	fi
	start_bg flood "$WGB_DIR/logs/flood.$impl.out" ip netns exec "$NS_A" "${LOAD_PIN[@]}" "$HANDSHAKE_LOAD" flood --responder-pub "$(pub b)" --target "$OUT4_B:$PORT_B" \
		--src-net 10.123.128.1 --src-count 256 --ports 16 --pps "$FLOOD_PPS" --seconds 60
	sleep 1
	before=$(grep -c 'Sending handshake initiation' "$logf" || true)
	t0=$(date +%s%N)
	start_bg ping_pid /dev/null ip netns exec "$NS_A" ping -n -q -i 0.5 -w 45 "$IN4_B"
	for ((i = 0; i < 450; i++)); do
		if [[ $(ip netns exec "$NS_A" wg show "$IF_A" latest-handshakes | awk '{ print $2 }') =~ ^[1-9] ]]; then
			done_at=$(date +%s%N)
			break
		fi
		sleep 0.1
	done
	after=$(grep -c 'Sending handshake initiation' "$logf" || true)
	stop_pid "$ping_pid" INT
	stop_pid "$flood" INT
	out=$(grep '^{' "$WGB_DIR/logs/flood.$impl.out" || true)
	if [[ -n $done_at ]]; then
		retries=$((after - before - 1))
		((retries < 0)) && retries=0
		secs=$(awk -v d=$((done_at - t0)) 'BEGIN { printf "%.2f", d / 1e9 }')
	else
		retries=null secs=null
	fi
	record "$impl" flood_retries "$retries"
	record "$impl" flood_handshake_s "$secs"
	record "$impl" flood_completed "$([[ -n $done_at ]] && echo 1 || echo 0)"
	read -r sent_pps cookies <<<"$(jfield - sent_per_s cookie_replies <<<"$out")"
	record "$impl" flood_sent_per_s "$sent_pps"
	record "$impl" flood_cookie_replies "$cookies"
	log "  responder $impl under ${sent_pps%.*} invalid initiations/s: legit wireguard-go peer" \
		"$([[ -n $done_at ]] && echo "completed after $secs s, $((after - before)) initiation(s) = $retries retries" || echo "did NOT complete in 45 s ($((after - before)) initiations)")," \
		"$cookies cookie replies to the flood"
	tunnel_down
}

# ---------------------------------------------------------------- scale

# scale_conf N: setconf file with N peers (random keys, one /32 each).
scale_conf() {
	python3 - "$WGB_DIR/scale.$1.conf" "$WGB_DIR/keys/b.key" "$1" <<-'EOF'
		import base64, os, sys
		out, keyfile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
		with open(keyfile) as f:
		    priv = f.read().strip()
		with open(out, "w") as f:
		    f.write(f"[Interface]\nPrivateKey = {priv}\nListenPort = 0\n")
		    for i in range(n):
		        # Any 32 bytes are an X25519 public key; one /32 each from 10.0.0.0/8.
		        key = base64.b64encode(os.urandom(32)).decode()
		        f.write(f"\n[Peer]\nPublicKey = {key}\nAllowedIPs = 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32\n")
	EOF
}

# scale_run IMPL N METRIC_PREFIX: `wg setconf` of N peers into an idle, up
# interface: time, and VmRSS before and after (2 s later) -> bytes per peer.
scale_run() {
	local impl=$1 n=$2 pfx=$3 pid base after t0 t1 peers secs err
	[[ -f $WGB_DIR/scale.$n.conf ]] || scale_conf "$n"
	start_daemon "$NS_B" "$impl" "$IF_B"
	ip -n "$NS_B" link set "$IF_B" up
	pid=$(daemon_pid "$IF_B")
	sleep 1
	base=$(rss_kib "$pid")
	t0=$(date +%s%N)
	if ! ip netns exec "$NS_B" timeout 300 wg setconf "$IF_B" "$WGB_DIR/scale.$n.conf" 2>"$WGB_DIR/setconf.err"; then
		err=$(tr '\n' ' ' <"$WGB_DIR/setconf.err")
		log "  $impl: wg setconf of $n peers failed: $err"
		record "$impl" "${pfx}_setconf_s" null
		record "$impl" "${pfx}_failed" 1
		stop_daemon "$IF_B"
		return 0
	fi
	t1=$(date +%s%N)
	secs=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }')
	sleep 2
	after=$(rss_kib "$pid")
	peers=$(ip netns exec "$NS_B" wg show "$IF_B" peers | wc -l)
	record "$impl" "${pfx}_setconf_s" "$secs"
	record "$impl" "${pfx}_failed" 0
	record "$impl" "${pfx}_peers" "$peers"
	record "$impl" "${pfx}_rss_base_kib" "$base"
	record "$impl" "${pfx}_rss_after_kib" "$after"
	record "$impl" "${pfx}_bytes_per_peer" "$(awk -v a="$after" -v b="$base" -v n="$n" 'BEGIN { printf "%.1f", (a - b) * 1024 / n }')"
	log "  $impl: $peers of $n peers by wg setconf in $secs s; RSS $base KiB -> $after KiB" \
		"($(awk -v a="$after" -v b="$base" -v n="$n" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }') bytes/peer)"
	stop_daemon "$IF_B"
}

# ---------------------------------------------------------------- micro-benchmarks

micro_run() {
	local args=(--benchmark_format=json --benchmark_out="$WGB_DIR/micro.json" --benchmark_out_format=json)
	if [[ $QUICK == 1 ]]; then
		args+=(--benchmark_min_time=0.1)
	else
		args+=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
	fi
	step "micro-benchmarks ($WGATE_BENCH)"
	"${LOAD_PIN[@]}" "$WGATE_BENCH" "${args[@]}" >/dev/null 2>"$WGB_DIR/logs/micro.log" ||
		log "  wgate_bench failed: $(tail -n 3 "$WGB_DIR/logs/micro.log")"
}

# ---------------------------------------------------------------- main

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$SECONDS
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	if wants tunnel; then
		for ((c = 0; c < ${#CONFIGS[@]}; c++)); do
			run_tunnel_config "${CONFIGS[(c + ROUND - 1) % ${#CONFIGS[@]}]}"
		done
	fi
	# The daemon-level tests alternate which implementation goes first.
	if ((ROUND % 2)); then IMPLS=(wgated wireguard-go); else IMPLS=(wireguard-go wgated); fi
	if wants handshake; then
		step "round $ROUND: handshakes"
		hs_inproc
		for impl in "${IMPLS[@]}"; do hs_udp "$impl"; done
	fi
	if wants flood; then
		step "round $ROUND: invalid-initiation flood"
		for impl in "${IMPLS[@]}"; do flood_run "$impl"; done
	fi
	if wants scale; then
		# wireguard-go refuses more than 65,536 peers (MaxPeers): the comparison
		# runs at that size, the target size only on wgated.
		step "round $ROUND: $SCALE_CMP_PEERS peers through UAPI (both), $SCALE_PEERS (wgated)"
		for impl in "${IMPLS[@]}"; do scale_run "$impl" "$SCALE_CMP_PEERS" scalecmp; done
		scale_run wgated "$SCALE_PEERS" scale
	fi
done
ROUND=0
wants micro && micro_run

cat >"$WGB_DIR/settings.json" <<EOF
{"rounds": $ROUNDS, "seconds": $DUR, "udp_max_loss": $UDP_MAX_LOSS, "udp_search_dur": $UDP_SEARCH_DUR, "quick": $([[ $QUICK == 1 ]] && echo true || echo false),
 "pings": $PINGS, "cpu_rate": "$CPU_RATE", "udp_rate": "$UDP_RATE", "hs_keys": $HS_KEYS, "hs_window": $HS_WINDOW, "flood_pps": $FLOOD_PPS,
 "scale_peers": $SCALE_PEERS, "scale_cmp_peers": $SCALE_CMP_PEERS, "cpu_source": "$CPU_SOURCE", "pinned": "$([[ -n $CPU_DAEMON ]] && echo "daemon CPU $CPU_DAEMON, load generator CPU $CPU_LOAD" || echo no)",
 "parts": "$(xargs <<<"$ONLY")", "build_type": "${BUILD_TYPE:-unknown}", "loadavg_before": "$LOAD_BEFORE", "loadavg_after": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "duration_s": $((SECONDS - T_START))}
EOF
mkdir -p "$OUT_DIR"
python3 "$BENCH_LIB_DIR/report.py" report "$RAW" "$WGB_DIR/machine.json" "$WGB_DIR/settings.json" \
	"$WGB_DIR/micro.json" "$OUT_DIR"
