# shellcheck shell=bash
# Shared helpers for the wgate integration tests.
#
# A test script starts with
#     . "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
# and then builds its topology out of network namespaces that it creates, runs
# one WireGuard implementation per side and checks with expect_* helpers.
#
# Environment:
#   IMPL_A, IMPL_B   implementation of side A / side B: "wgated" or "wireguard-go"
#                    (defaults: wgated, wireguard-go)
#   WGATED           path of the wgated binary (default: <repo>/build/bin/wgated)
#   WIREGUARD_GO     the wireguard-go binary (default: wireguard-go on PATH)
#   WGT_TIMEOUT      seconds after which the test stops itself, cleaning up (default 270)
#   WGT_KEEP=1       keep the temporary directory (logs, keys, configs)
#   RESULTS_FILE     interop.sh appends its iperf3 results there (JSON lines)
#
# Everything a test creates is named "wgt" + 5 random characters + a suffix
# (interfaces stay <= 15 characters), lives only inside namespaces the test
# created, and is removed by an EXIT trap, also on failure, Ctrl-C or the
# watchdog. Leftovers of a run that was killed hard (SIGKILL, e.g. a CTest
# timeout) are removed by the next run (see wgt_sweep_stale).
#
# Every test ends with exactly one line "N passed, M failed" and exits
# non-zero when M > 0. A setup error (any unchecked command failing, or die)
# counts as one failure.

set -Eeuo pipefail
shopt -s nullglob

WGT_LIB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
WGT_SRC_DIR=$(cd -- "$WGT_LIB_DIR/../.." && pwd)
WGT_TEST=$(basename -- "$0" .sh)
IMPL_A=${IMPL_A:-wgated}
IMPL_B=${IMPL_B:-wireguard-go}
WGATED=${WGATED:-$WGT_SRC_DIR/build/bin/wgated}
WIREGUARD_GO=${WIREGUARD_GO:-wireguard-go}
WGT_SOCK_DIR=/var/run/wireguard
WGT_TIMEOUT=${WGT_TIMEOUT:-270}
WGT_TMP_ROOT=/tmp

WGT_PASSED=0
WGT_FAILED=0
WGT_SETUP_ERROR=""
WGT_EXITING=0
WGT_T0=$SECONDS
declare -A WGT_DAEMON_PID=() WGT_DAEMON_LOG=() WGT_DAEMON_IMPL=() WGT_DAEMON_NS=()
WGT_DAEMONS=()   # interface names, in start order
WGT_BG_PIDS=()   # other background processes we started (iperf3 servers, ...)
WGT_WATCHDOG_PID=""

# ---------------------------------------------------------------- output

log()  { printf '%s\n' "$*"; }
step() { printf '# %s\n' "$*"; }

die() {
	WGT_SETUP_ERROR=${WGT_SETUP_ERROR:-$*}
	# Inside a command substitution stdout is captured: say it on stderr.
	if ((BASHPID != $$)); then printf 'setup error: %s\n' "$*" >&2; else printf 'setup error: %s\n' "$*"; fi
	exit 1
}

wgt_on_err() {
	local rc=$? line=$1 cmd=$2
	((WGT_EXITING)) && return 0
	if ((BASHPID != $$)); then
		# In a subshell (command substitution): the parent sees the status.
		printf 'setup error (subshell): line %s: %s (status %s)\n' "$line" "$cmd" "$rc" >&2
		exit "$rc"
	fi
	WGT_SETUP_ERROR=${WGT_SETUP_ERROR:-"line $line: $cmd (status $rc)"}
	printf 'setup error: %s: line %s: %s (status %s)\n' "$WGT_TEST" "$line" "$cmd" "$rc"
	exit 1
}

wgt_on_signal() {
	local sig=$1
	if [[ -e ${WGT_DIR:-/nonexistent}/watchdog ]]; then
		WGT_SETUP_ERROR="watchdog: the test ran longer than WGT_TIMEOUT=${WGT_TIMEOUT}s"
	else
		WGT_SETUP_ERROR="interrupted by SIG$sig"
	fi
	printf 'setup error: %s\n' "$WGT_SETUP_ERROR"
	exit 130
}

# ---------------------------------------------------------------- assertions

pass() {
	WGT_PASSED=$((WGT_PASSED + 1))
	printf 'ok   %s\n' "$1"
}

fail() {
	WGT_FAILED=$((WGT_FAILED + 1))
	printf 'FAIL %s\n' "$1"
	if [[ -n ${2-} ]]; then printf '%s\n' "$2" | sed 's/^/     | /'; fi
	return 0
}

# expect_ok DESC CMD...: CMD (a command or a function) must succeed.
expect_ok() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc" "\$ $* -> status $?"$'\n'"$(tail -n 15 <<<"$out")"; fi
}

# expect_fail DESC CMD...: CMD must fail (non-zero status).
expect_fail() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then fail "$desc" "\$ $* -> status 0 (expected failure)"$'\n'"$(tail -n 15 <<<"$out")"; else pass "$desc"; fi
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "expected: '$2'"$'\n'"actual:   '$3'"; fi
}

# expect_match DESC ERE STRING
expect_match() {
	if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match: /$2/"$'\n'"actual: '$3'"; fi
}

# expect_num DESC A OP B: numeric comparison (floats allowed), OP one of < <= > >= == !=
expect_num() {
	if num_cmp "$2" "$3" "$4"; then pass "$1 ($2 $3 $4)"; else fail "$1" "expected: $2 $3 $4"; fi
}

num_cmp() {
	[[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ && $3 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] || return 1
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		a += 0; b += 0
		if (op == "<")  exit !(a <  b); if (op == "<=") exit !(a <= b)
		if (op == ">")  exit !(a >  b); if (op == ">=") exit !(a >= b)
		if (op == "==") exit !(a == b); if (op == "!=") exit !(a != b)
		exit 2 }'
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds; 1 on timeout.
wait_for() {
	local limit=$1 start
	shift
	start=$(date +%s%N)
	while :; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		if (($(date +%s%N) - start >= limit * 1000000000)); then return 1; fi
		sleep 0.2
	done
}

# ---------------------------------------------------------------- names, processes

wgt_rand() {
	local chars=abcdefghijklmnopqrstuvwxyz0123456789 s="" i
	for ((i = 0; i < $1; i++)); do s+=${chars:RANDOM % 36:1}; done
	printf '%s' "$s"
}

# name SUFFIX: a unique name for this run; <= 15 characters (interface limit).
name() {
	local n="$WGT_PFX$1"
	((${#n} <= 15)) || die "name too long for an interface: $n"
	printf '%s' "$n"
}

# proc_alive PID: the process exists and is not a zombie.
proc_alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

proc_starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# stop_pid PID [SIGNAL]: signal, wait up to 3 s, then SIGKILL; reaps our
# children and forgets PID (so that cleanup never signals a reused pid).
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

# forget_bg PID: no longer ours to clean up (it ended and was reaped).
forget_bg() {
	local i
	for i in "${!WGT_BG_PIDS[@]}"; do
		[[ ${WGT_BG_PIDS[$i]} == "$1" ]] && unset "WGT_BG_PIDS[$i]"
	done
	return 0
}

# ---------------------------------------------------------------- namespaces, links

# make_ns VAR SUFFIX: creates namespace "<prefix>-SUFFIX" with lo up, sets VAR.
make_ns() {
	local ns="$WGT_PFX-$2"
	printf '%s\n' "$ns" >>"$WGT_DIR/netns"
	ip netns add "$ns" || die "ip netns add $ns failed"
	ip -n "$ns" link set lo up
	# Keep the namespace quiet and deterministic.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	printf -v "$1" '%s' "$ns"
}

ns_destroy() {
	local ns=$1 pid pids i
	[[ -e /run/netns/$ns ]] || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
	for ((i = 0; i < 30; i++)); do
		[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
		sleep 0.1
	done
	for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
}

in_ns() { ip netns exec "$1" "${@:2}"; }

# veth NS1 DEV1 NS2 DEV2: a veth pair created directly inside the two namespaces
# (never in the host's), both ends up.
veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# addr NS DEV ADDR/PLEN...: IPv6 addresses get nodad (usable at once).
addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		if [[ $a == *:* ]]; then
			ip -n "$ns" -6 addr add "$a" dev "$dev" nodad
		else
			ip -n "$ns" addr add "$a" dev "$dev"
		fi
	done
}

# make_pair: namespaces NS_A and NS_B joined by a veth (VETH_A <-> VETH_B):
#   outer IPv4 192.0.2.0/24 (OUT4_A .1, OUT4_B .2), IPv6 fd00:0:1::/64 (OUT6_A ::1, OUT6_B ::2).
# Also names the tunnel interfaces IF_A / IF_B and their inner addresses
#   IN4_A 203.0.113.1, IN4_B 203.0.113.2 (/24); IN6_A fd00:0:100::1, IN6_B fd00:0:100::2 (/64)
# and ports PORT_A 51820, PORT_B 51821.
make_pair() {
	make_ns NS_A a
	make_ns NS_B b
	VETH_A=$(name va)
	VETH_B=$(name vb)
	IF_A=$(name a)
	IF_B=$(name b)
	OUT4_A=192.0.2.1 OUT4_B=192.0.2.2
	OUT6_A=fd00:0:1::1 OUT6_B=fd00:0:1::2
	IN4_A=203.0.113.1 IN4_B=203.0.113.2
	IN6_A=fd00:0:100::1 IN6_B=fd00:0:100::2
	PORT_A=51820 PORT_B=51821
	veth "$NS_A" "$VETH_A" "$NS_B" "$VETH_B"
	addr "$NS_A" "$VETH_A" "$OUT4_A/24" "$OUT6_A/64"
	addr "$NS_B" "$VETH_B" "$OUT4_B/24" "$OUT6_B/64"
}

# ---------------------------------------------------------------- WireGuard daemons

impl_bin() {
	case $1 in
	wgated)
		[[ -x $WGATED ]] || die "wgated not found at '$WGATED' (build it, or set WGATED=/path/to/wgated)"
		printf '%s' "$WGATED" ;;
	wireguard-go)
		command -v "$WIREGUARD_GO" >/dev/null || die "wireguard-go not found ('$WIREGUARD_GO'); apt-get install wireguard-go"
		command -v "$WIREGUARD_GO" ;;
	*) die "unknown implementation '$1' (expected wgated or wireguard-go)" ;;
	esac
}

sock_path() { printf '%s/%s.sock' "$WGT_SOCK_DIR" "$1"; }

# start_impl NS IMPL IFNAME [OPTION...]: runs the daemon in the foreground (in
# the background of this shell) inside NS with verbose logging into a log
# file, and waits until its UAPI socket answers.
#   ip netns exec NS env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=verbose BINARY [OPTION...] IFNAME
# With WGT_FG_ENV=0 WG_PROCESS_FOREGROUND is removed from the environment
# instead (then pass -f or --foreground as OPTION).
# (env --default-signal undoes the SIGINT/SIGQUIT ignore that bash gives to
# background jobs, so the daemon sees signals as it would from a terminal.)
start_impl() {
	local ns=$1 impl=$2 ifname=$3 bin pid log envs=(LOG_LEVEL=verbose)
	bin=$(impl_bin "$impl")
	log="$WGT_DIR/logs/$ifname.$impl.log"
	[[ ! -e $(sock_path "$ifname") ]] || die "stale socket $(sock_path "$ifname")"
	if [[ ${WGT_FG_ENV:-1} == 1 ]]; then envs+=(WG_PROCESS_FOREGROUND=1); else envs=(-u WG_PROCESS_FOREGROUND "${envs[@]}"); fi
	ip netns exec "$ns" env --default-signal "${envs[@]}" \
		"$bin" "${@:4}" "$ifname" </dev/null >"$log" 2>&1 &
	pid=$!
	WGT_DAEMON_PID[$ifname]=$pid
	WGT_DAEMON_LOG[$ifname]=$log
	WGT_DAEMON_IMPL[$ifname]=$impl
	WGT_DAEMON_NS[$ifname]=$ns
	WGT_DAEMONS+=("$ifname")
	local start st=0
	start=$(date +%s%N)
	until daemon_ready "$ns" "$ifname" "$pid"; do
		if ! proc_alive "$pid"; then
			wait "$pid" || st=$?
			WGT_DAEMON_PID[$ifname]=""
			((st == 0)) && log "# (status 0: did it daemonise although told to stay in the foreground?)"
			die "$impl $ifname exited during start-up with status $st (log: $log)"$'\n'"$(tail -n 20 "$log")"
		fi
		(($(date +%s%N) - start < 10000000000)) || die "$impl $ifname: no UAPI socket answering after 10 s (log: $log)"
		sleep 0.1
	done
}

daemon_ready() {
	proc_alive "$3" && [[ -S $(sock_path "$2") ]] &&
		ip -n "$1" link show dev "$2" >/dev/null 2>&1 &&
		ip netns exec "$1" wg show "$2" >/dev/null 2>&1
}

daemon_pid() { printf '%s' "${WGT_DAEMON_PID[$1]}"; }

# daemon_gone IFNAME: process exited and its socket is gone.
daemon_gone() { ! proc_alive "${WGT_DAEMON_PID[$1]}" && [[ ! -e $(sock_path "$1") ]]; }

# expect_daemons_alive: every daemon started and not stopped on purpose still runs.
expect_daemons_alive() {
	local i
	for i in "${WGT_DAEMONS[@]}"; do
		[[ -n ${WGT_DAEMON_PID[$i]} ]] || continue
		expect_ok "${WGT_DAEMON_IMPL[$i]} $i still running" proc_alive "${WGT_DAEMON_PID[$i]}"
	done
}

# forget_daemon IFNAME: the test stopped it on purpose (reaps it, returns its exit status in DAEMON_STATUS).
# shellcheck disable=SC2034 # DAEMON_STATUS is read by the tests
forget_daemon() {
	local pid=${WGT_DAEMON_PID[$1]}
	DAEMON_STATUS=0
	wait "$pid" 2>/dev/null || DAEMON_STATUS=$?
	WGT_DAEMON_PID[$1]=""
}

# start_bg VAR LOG CMD...: runs CMD in the background, registers it for cleanup.
start_bg() {
	local var=$1 logf=$2
	shift 2
	"$@" </dev/null >"$logf" 2>&1 &
	WGT_BG_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

# need TOOL...: a setup error unless every TOOL is on PATH.
need() {
	local t
	for t in "$@"; do command -v "$t" >/dev/null || die "missing tool: $t (sudo make deps)"; done
}

# ---------------------------------------------------------------- keys and wg

# genkey NAME: keys/NAME.key (0600) and keys/NAME.pub
genkey() {
	(umask 077 && wg genkey >"$WGT_DIR/keys/$1.key")
	wg pubkey <"$WGT_DIR/keys/$1.key" >"$WGT_DIR/keys/$1.pub"
}
genpsk() { (umask 077 && wg genpsk >"$WGT_DIR/keys/$1.psk"); }
keyfile() { printf '%s' "$WGT_DIR/keys/$1.key"; }
pskfile() { printf '%s' "$WGT_DIR/keys/$1.psk"; }
pub() { cat "$WGT_DIR/keys/$1.pub"; }

# wg_set NS IF ARGS...: ip netns exec NS wg set IF ARGS...
wg_set() { ip netns exec "$1" wg set "$2" "${@:3}"; }
wg_show() { ip netns exec "$1" wg show "$2" "${@:3}"; }

# peer_val NS IF FIELD PUBKEY: the value(s) of `wg show IF FIELD` for that peer.
peer_val() {
	local out
	out=$(ip netns exec "$1" wg show "$2" "$3") || return 1
	awk -v k="$4" '$1 == k { $1 = ""; sub(/^ /, ""); print; found = 1 } END { exit !found }' <<<"$out"
}

# latest_handshake NS IF PUBKEY: unix time of the latest handshake (0 if none).
latest_handshake() { peer_val "$1" "$2" latest-handshakes "$3"; }
handshake_done() { local t; t=$(latest_handshake "$@") && [[ $t =~ ^[0-9]+$ ]] && ((t > 0)); }
endpoint_of() { peer_val "$1" "$2" endpoints "$3"; }
endpoint_is() { [[ $(endpoint_of "$1" "$2" "$3") == "$4" ]]; }

# setup_iface NS IF KEYNAME PORT ADDR...: key, listen port, tunnel addresses, link up.
setup_iface() {
	local ns=$1 ifname=$2 key=$3 port=$4
	shift 4
	wg_set "$ns" "$ifname" private-key "$(keyfile "$key")" listen-port "$port"
	addr "$ns" "$ifname" "$@"
	ip -n "$ns" link set "$ifname" up
}

# start_pair: make_pair, then IMPL_A on IF_A in NS_A and IMPL_B on IF_B in NS_B,
# keys "a" and "b", listen ports, inner addresses; no peers yet.
start_pair() {
	make_pair
	genkey a
	genkey b
	start_impl "$NS_A" "$IMPL_A" "$IF_A"
	start_impl "$NS_B" "$IMPL_B" "$IF_B"
	setup_iface "$NS_A" "$IF_A" a "$PORT_A" "$IN4_A/24" "$IN6_A/64"
	setup_iface "$NS_B" "$IF_B" b "$PORT_B" "$IN4_B/24" "$IN6_B/64"
}

# ---------------------------------------------------------------- traffic

# ping_ok NS DST [ping args...]: at least one of 3 echo replies (a handshake may eat one).
ping_ok() { ip netns exec "$1" ping -n -q -c 3 -i 0.2 -W 2 "${@:3}" "$2"; }
# ping_all NS DST COUNT [ping args...]: every one of COUNT echo requests answered.
ping_all() {
	local out
	out=$(ip netns exec "$1" ping -n -q -c "$3" -i 0.2 -W 2 "${@:4}" "$2" 2>&1) || { printf '%s\n' "$out"; return 1; }
	printf '%s\n' "$out"
	grep -q " $3 received" <<<"$out"
}
# ping_none NS DST [ping args...]: no echo reply at all (2 requests, 1 s each).
ping_none() { ! ip netns exec "$1" ping -n -q -c 2 -i 0.2 -W 1 "${@:3}" "$2"; }

# ---------------------------------------------------------------- cleanup

wgt_print_logs() {
	local i
	for i in "${WGT_DAEMONS[@]}"; do
		[[ -f ${WGT_DAEMON_LOG[$i]} ]] || continue
		log "----- ${WGT_DAEMON_IMPL[$i]} $i (ns ${WGT_DAEMON_NS[$i]}): last 60 lines of ${WGT_DAEMON_LOG[$i]}"
		tail -n 60 "${WGT_DAEMON_LOG[$i]}" | sed 's/^/  /'
	done
	((${#WGT_DAEMONS[@]})) && log "----- end of daemon logs"
	return 0
}

wgt_cleanup() {
	local i pid ns
	[[ -n $WGT_WATCHDOG_PID ]] && kill -TERM "$WGT_WATCHDOG_PID" 2>/dev/null && wait "$WGT_WATCHDOG_PID" 2>/dev/null
	for pid in "${WGT_BG_PIDS[@]}"; do stop_pid "$pid"; done
	WGT_BG_PIDS=()
	for i in "${WGT_DAEMONS[@]}"; do
		[[ -n ${WGT_DAEMON_PID[$i]} ]] && stop_pid "${WGT_DAEMON_PID[$i]}"
	done
	if [[ -f ${WGT_DIR:-}/netns ]]; then
		while read -r ns; do ns_destroy "$ns"; done < <(tac "$WGT_DIR/netns")
	fi
	[[ -n ${WGT_PFX:-} ]] && rm -f "$WGT_SOCK_DIR/$WGT_PFX"*.sock
	return 0
}

wgt_on_exit() {
	local rc=$?
	WGT_EXITING=1
	set +eE
	trap - ERR
	trap '' INT TERM HUP
	if [[ -n $WGT_SETUP_ERROR ]]; then
		WGT_FAILED=$((WGT_FAILED + 1))
	elif ((rc != 0)); then
		WGT_FAILED=$((WGT_FAILED + 1))
		log "setup error: exited with status $rc"
	fi
	((WGT_FAILED > 0)) && wgt_print_logs
	wgt_cleanup
	if [[ -n ${WGT_DIR:-} && -d $WGT_DIR ]]; then
		if [[ ${WGT_KEEP:-0} == 1 ]]; then log "# kept $WGT_DIR"; else rm -rf "$WGT_DIR"; fi
	fi
	log "# $WGT_TEST: IMPL_A=$IMPL_A IMPL_B=$IMPL_B, $((SECONDS - WGT_T0)) s"
	printf '%d passed, %d failed\n' "$WGT_PASSED" "$WGT_FAILED"
	((WGT_FAILED == 0)) && exit 0
	exit 1
}

# Removes what an earlier run left when it was killed without its EXIT trap.
wgt_sweep_stale() {
	local d owner start pfx ns
	for d in "$WGT_TMP_ROOT"/wgate-it.*/; do
		d=${d%/}
		[[ -f $d/owner ]] || continue
		read -r owner start <"$d/owner" || continue
		if [[ -d /proc/$owner && $(proc_starttime "$owner") == "$start" ]]; then continue; fi
		log "# removing leftovers of an earlier run: $d"
		if [[ -f $d/netns ]]; then
			while read -r ns; do ns_destroy "$ns"; done < <(tac "$d/netns")
		fi
		pfx=$(cat "$d/prefix" 2>/dev/null || true)
		[[ $pfx =~ ^wgt[a-z0-9]{5}$ ]] && rm -f "$WGT_SOCK_DIR/$pfx"*.sock
		rm -rf "$d"
	done
}

# ---------------------------------------------------------------- start-up

trap 'wgt_on_err "$LINENO" "$BASH_COMMAND"' ERR
trap 'wgt_on_exit' EXIT
trap 'wgt_on_signal INT' INT
trap 'wgt_on_signal TERM' TERM
trap 'wgt_on_signal HUP' HUP

((EUID == 0)) || die "the integration tests need root (network namespaces, TUN devices)"
need ip wg python3 ping ss sysctl ps setpriv timeout awk
[[ -c /dev/net/tun ]] || die "/dev/net/tun is missing"

wgt_sweep_stale
for _i in 1 2 3 4 5 6 7 8 9 10; do
	WGT_ID=$(wgt_rand 5)
	WGT_PFX="wgt$WGT_ID"
	_taken=("/run/netns/$WGT_PFX"* "$WGT_SOCK_DIR/$WGT_PFX"* "$WGT_TMP_ROOT/wgate-it.$WGT_ID".*)
	((${#_taken[@]} == 0)) && break
done
WGT_DIR=$(mktemp -d "$WGT_TMP_ROOT/wgate-it.$WGT_ID.XXXXXX")
mkdir -p "$WGT_DIR/logs" "$WGT_DIR/keys"
chmod 700 "$WGT_DIR/keys"
printf '%s %s\n' "$$" "$(proc_starttime $$)" >"$WGT_DIR/owner"
printf '%s\n' "$WGT_PFX" >"$WGT_DIR/prefix"
: >"$WGT_DIR/netns"
unset _i _taken

# Watchdog: stop (with cleanup) before an outer timeout would SIGKILL us.
# Bash runs the TERM trap only once its foreground command ends, so the
# watchdog also ends this shell's other children (by pid).
(
	trap 'kill "$_sp" 2>/dev/null; exit 0' TERM
	sleep "$WGT_TIMEOUT" &
	_sp=$!
	wait "$_sp"
	touch "$WGT_DIR/watchdog"
	kill -TERM $$
	sleep 1
	for _c in $(ps -o pid= --ppid $$); do
		((_c != BASHPID)) && kill -TERM "$_c"
	done
) </dev/null >/dev/null 2>&1 &
WGT_WATCHDOG_PID=$!

log "# $WGT_TEST: IMPL_A=$IMPL_A IMPL_B=$IMPL_B prefix=$WGT_PFX dir=$WGT_DIR"
