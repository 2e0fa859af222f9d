# shellcheck shell=bash
# Helpers for bench/run.sh: namespaces, daemons, cleanup. They mirror
# tests/integration/lib.sh (unique names, namespaces only, an EXIT trap that
# removes everything, stale leftovers swept by the next run), without its
# pass/fail bookkeeping, and with quiet daemons (LOG_LEVEL=error: logging
# must not cost throughput) that can be pinned to CPUs.
#
# Everything is named "wgb" + 5 random characters + a suffix, lives in
# namespaces this run created and is removed on exit (also on failure and
# Ctrl-C). Temporary files: /tmp/wgate-bench.ID.XXXXXX (kept with BENCH_KEEP=1).

set -Eeuo pipefail
shopt -s nullglob

BENCH_LIB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
BENCH_SRC_DIR=$(cd -- "$BENCH_LIB_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$BENCH_SRC_DIR/build}
WGATED=${WGATED:-$BUILD_DIR/bin/wgated}
WIREGUARD_GO=${WIREGUARD_GO:-wireguard-go}
HANDSHAKE_LOAD=${HANDSHAKE_LOAD:-$BUILD_DIR/bench/handshake_load}
WGATE_BENCH=${WGATE_BENCH:-$BUILD_DIR/bench/wgate_bench}
WGB_SOCK_DIR=/var/run/wireguard
WGB_TMP_ROOT=/tmp

declare -A WGB_DAEMON_PID=() WGB_DAEMON_NS=() WGB_DAEMON_IMPL=()
WGB_BG_PIDS=()
WGB_EXITING=0

log()  { printf '%s\n' "$*" >&2; }
step() { printf '# %s\n' "$*" >&2; }
die()  { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

wgb_rand() {
	local chars=abcdefghijklmnopqrstuvwxyz0123456789 s="" i
	for ((i = 0; i < $1; i++)); do s+=${chars:RANDOM % 36:1}; done
	printf '%s' "$s"
}

name() {
	local n="$WGB_PFX$1"
	((${#n} <= 15)) || die "name too long for an interface: $n"
	printf '%s' "$n"
}

proc_alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}
proc_starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

forget_bg() {
	local i
	for i in "${!WGB_BG_PIDS[@]}"; do [[ ${WGB_BG_PIDS[$i]} == "$1" ]] && unset "WGB_BG_PIDS[$i]"; done
	return 0
}

# stop_pid PID [SIGNAL]: signal, wait up to 3 s, then SIGKILL; reaps it.
stop_pid() {
	local pid=$1 sig=${2:-TERM} i
	if proc_alive "$pid"; then
		kill "-$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < 30; i++)); do proc_alive "$pid" || break; sleep 0.1; done
		proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
	forget_bg "$pid"
}

# start_bg VAR LOG CMD...: CMD in the background, registered for cleanup.
start_bg() {
	local var=$1 logf=$2
	shift 2
	"$@" </dev/null >"$logf" 2>&1 &
	WGB_BG_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

need() {
	local t
	for t in "$@"; do command -v "$t" >/dev/null || die "missing tool: $t (sudo make deps)"; done
}

# ---------------------------------------------------------------- namespaces

make_ns() {
	local ns="$WGB_PFX-$2"
	printf '%s\n' "$ns" >>"$WGB_DIR/netns"
	ip netns add "$ns" || die "ip netns add $ns failed"
	ip -n "$ns" link set lo up
	# IPv4 only: no IPv6 chatter (router solicitations, MLD) starting handshakes.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	printf -v "$1" '%s' "$ns"
}

ns_destroy() {
	local ns=$1 pid i
	[[ -e /run/netns/$ns ]] || return 0
	for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -TERM "$pid" 2>/dev/null || true; done
	for ((i = 0; i < 30; i++)); do
		[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
		sleep 0.1
	done
	for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
}

in_ns() { ip netns exec "$1" "${@:2}"; }

# shellcheck disable=SC2034 # the names are used by run.sh
# make_pair: namespaces NS_A and NS_B joined by a veth pair (MTU 1500):
#   outer 192.0.2.1 (A) / 192.0.2.2 (B), tunnel 203.0.113.1 / 203.0.113.2,
#   listen ports 51820 (A) / 51821 (B), tunnel interfaces IF_A / IF_B.
# Also LOADNET (10.123.0.0/16) for the handshake load generator in A: any
# address of it is local to A (AnyIP route) and B routes it back to A.
make_pair() {
	make_ns NS_A a
	make_ns NS_B b
	VETH_A=$(name va)
	VETH_B=$(name vb)
	IF_A=$(name a)
	IF_B=$(name b)
	OUT4_A=192.0.2.1 OUT4_B=192.0.2.2
	IN4_A=203.0.113.1 IN4_B=203.0.113.2
	PORT_A=51820 PORT_B=51821
	LOADNET=10.123.0.0
	ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B"
	ip -n "$NS_A" link set "$VETH_A" mtu 1500 up
	ip -n "$NS_B" link set "$VETH_B" mtu 1500 up
	ip -n "$NS_A" addr add "$OUT4_A/24" dev "$VETH_A"
	ip -n "$NS_B" addr add "$OUT4_B/24" dev "$VETH_B"
	ip -n "$NS_A" route add local "$LOADNET/16" dev lo
	ip -n "$NS_B" route add "$LOADNET/16" via "$OUT4_A"
}

# ---------------------------------------------------------------- daemons

impl_bin() {
	case $1 in
	wgated) [[ -x $WGATED ]] || die "wgated not found at '$WGATED' (make build)"; printf '%s' "$WGATED" ;;
	wireguard-go) command -v "$WIREGUARD_GO" || die "wireguard-go not found ('$WIREGUARD_GO')" ;;
	*) die "unknown implementation '$1'" ;;
	esac
}

sock_path() { printf '%s/%s.sock' "$WGB_SOCK_DIR" "$1"; }

# start_daemon NS IMPL IFNAME [CPULIST [LOG_LEVEL]]: foreground daemon in the
# background of this shell, optionally pinned (taskset), waits for its socket.
# Its pid is then DAEMON_PID[IFNAME] (ip netns exec, env and taskset all exec).
start_daemon() {
	local ns=$1 impl=$2 ifname=$3 cpus=${4:-} level=${5:-${BENCH_LOG_LEVEL:-error}} bin pid logf start pin=()
	bin=$(impl_bin "$impl")
	logf="$WGB_DIR/logs/$ifname.$impl.log"
	[[ ! -e $(sock_path "$ifname") ]] || die "stale socket $(sock_path "$ifname")"
	[[ -n $cpus ]] && pin=(taskset -c "$cpus")
	ip netns exec "$ns" env --default-signal WG_PROCESS_FOREGROUND=1 LOG_LEVEL="$level" \
		"${pin[@]}" "$bin" "$ifname" </dev/null >>"$logf" 2>&1 &
	pid=$!
	WGB_DAEMON_PID[$ifname]=$pid
	WGB_DAEMON_NS[$ifname]=$ns
	WGB_DAEMON_IMPL[$ifname]=$impl
	start=$(date +%s%N)
	until proc_alive "$pid" && [[ -S $(sock_path "$ifname") ]] && ip netns exec "$ns" wg show "$ifname" >/dev/null 2>&1; do
		proc_alive "$pid" || die "$impl $ifname exited during start-up (log: $logf): $(tail -n 5 "$logf")"
		(($(date +%s%N) - start < 10000000000)) || die "$impl $ifname: no UAPI socket after 10 s"
		sleep 0.05
	done
}

daemon_pid() { printf '%s' "${WGB_DAEMON_PID[$1]}"; }
daemon_log() { printf '%s' "$WGB_DIR/logs/$1.${WGB_DAEMON_IMPL[$1]}.log"; }

# stop_daemon IFNAME: SIGTERM (both remove their TUN and socket), then make sure.
stop_daemon() {
	local ifname=$1 pid=${WGB_DAEMON_PID[$1]:-} ns=${WGB_DAEMON_NS[$1]:-}
	[[ -n $pid ]] && stop_pid "$pid"
	WGB_DAEMON_PID[$ifname]=""
	if [[ -n $ns ]]; then ip -n "$ns" link del "$ifname" 2>/dev/null || true; fi
	rm -f "$(sock_path "$ifname")"
}

# cpu_ticks PID...: utime+stime (all threads) summed over the processes, in clock ticks.
cpu_ticks() {
	local pid total=0 f
	for pid in "$@"; do
		f=$(sed 's/.*) //' "/proc/$pid/stat") || die "no /proc/$pid/stat"
		# after "comm) ": field 1 is state (stat field 3); utime, stime are stat fields 14, 15
		total=$((total + $(cut -d' ' -f12 <<<"$f") + $(cut -d' ' -f13 <<<"$f")))
	done
	printf '%s' "$total"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- cleanup

wgb_cleanup() {
	local pid i ns
	for pid in "${WGB_BG_PIDS[@]}"; do stop_pid "$pid"; done
	WGB_BG_PIDS=()
	for i in "${!WGB_DAEMON_PID[@]}"; do [[ -n ${WGB_DAEMON_PID[$i]} ]] && stop_pid "${WGB_DAEMON_PID[$i]}"; done
	if [[ -f ${WGB_DIR:-}/netns ]]; then
		while read -r ns; do ns_destroy "$ns"; done < <(tac "$WGB_DIR/netns")
	fi
	[[ -n ${WGB_PFX:-} ]] && rm -f "$WGB_SOCK_DIR/$WGB_PFX"*.sock
	return 0
}

wgb_on_exit() {
	local rc=$?
	WGB_EXITING=1
	set +eE
	trap - ERR
	trap '' INT TERM HUP
	wgb_cleanup
	if [[ -n ${WGB_DIR:-} && -d $WGB_DIR ]]; then
		if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then log "# kept $WGB_DIR"; else rm -rf "$WGB_DIR"; fi
	fi
	exit "$rc"
}

wgb_on_err() {
	local rc=$? line=$1 cmd=$2
	((WGB_EXITING)) && return 0
	if ((BASHPID != $$)); then
		printf 'bench: error (subshell): line %s: %s (status %s)\n' "$line" "$cmd" "$rc" >&2
		exit "$rc"
	fi
	printf 'bench: error: line %s: %s (status %s)\n' "$line" "$cmd" "$rc" >&2
	exit 1
}

wgb_sweep_stale() {
	local d owner start pfx ns
	for d in "$WGB_TMP_ROOT"/wgate-bench.*/; do
		d=${d%/}
		[[ -f $d/owner ]] || continue
		read -r owner start <"$d/owner" || continue
		if [[ -d /proc/$owner && $(proc_starttime "$owner") == "$start" ]]; then continue; fi
		[[ -f $d/netns ]] || continue
		log "# removing namespaces left by an earlier run: $d"
		while read -r ns; do ns_destroy "$ns"; done < <(tac "$d/netns")
		pfx=$(cat "$d/prefix" 2>/dev/null || true)
		[[ $pfx =~ ^wgb[a-z0-9]{5}$ ]] && rm -f "$WGB_SOCK_DIR/$pfx"*.sock
		rm -f "$d/netns"
	done
}

trap 'wgb_on_err "$LINENO" "$BASH_COMMAND"' ERR
trap 'wgb_on_exit' EXIT
trap 'exit 130' INT TERM HUP

((EUID == 0)) || die "bench/run.sh needs root (network namespaces, TUN devices)"
[[ -c /dev/net/tun ]] || die "/dev/net/tun is missing"

wgb_sweep_stale
for _i in 1 2 3 4 5 6 7 8 9 10; do
	WGB_ID=$(wgb_rand 5)
	WGB_PFX="wgb$WGB_ID"
	_taken=("/run/netns/$WGB_PFX"* "$WGB_SOCK_DIR/$WGB_PFX"* "$WGB_TMP_ROOT/wgate-bench.$WGB_ID".*)
	((${#_taken[@]} == 0)) && break
done
WGB_DIR=$(mktemp -d "$WGB_TMP_ROOT/wgate-bench.$WGB_ID.XXXXXX")
mkdir -p "$WGB_DIR/logs" "$WGB_DIR/keys"
chmod 700 "$WGB_DIR/keys"
printf '%s %s\n' "$$" "$(proc_starttime $$)" >"$WGB_DIR/owner"
printf '%s\n' "$WGB_PFX" >"$WGB_DIR/prefix"
: >"$WGB_DIR/netns"
unset _i _taken
