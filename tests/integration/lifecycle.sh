#!/usr/bin/env bash
# lifecycle: how the daemon of side A (IMPL_A) starts and stops, following
# wireguard-go's conventions.
#   - `ip link del IF`: the daemon exits (status 0), its socket is removed
#   - started with -f: stays in the foreground; SIGTERM: exits (status 0),
#     socket and interface gone
#   - started with --foreground: SIGINT likewise
#   - started without -f and without WG_PROCESS_FOREGROUND: the command
#     returns 0 and a daemon keeps serving the socket until `ip link del`
#   - a second daemon for an interface name in use (same namespace, or
#     another namespace: the socket path is global) fails with non-zero
#     status and leaves the first one working
#   - without privileges (uid/gid 65534, no capabilities) it fails with
#     non-zero status and says why, leaving no socket and no interface
#   - the TUN moved into another namespace after start (`ip link set IF
#     netns OTHER`) keeps passing traffic (the UDP socket stays in the
#     original namespace); `wg` still reaches the daemon; deleting the
#     interface there stops the daemon
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

BIN_A=$(impl_bin "$IMPL_A")
make_ns NS_L l
make_ns NS_O o

link_absent() { ! ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
sock_absent() { [[ ! -e $(sock_path "$1") ]]; }
pid_gone() { ! proc_alive "$1"; }

# expect_stopped LABEL IFNAME NS: process gone, socket removed, interface gone, status 0
expect_stopped() {
	local label=$1 ifname=$2 ns=$3 pid
	pid=$(daemon_pid "$ifname")
	expect_ok "$label: process exits (within 10 s)" wait_for 10 pid_gone "$pid"
	expect_ok "$label: socket removed" wait_for 2 sock_absent "$ifname"
	expect_ok "$label: interface gone" wait_for 2 link_absent "$ns" "$ifname"
	forget_daemon "$ifname"
	expect_eq "$label: exit status 0" 0 "$DAEMON_STATUS"
}

# try_start NS IFNAME [PREFIX-COMMAND...]: a start that is expected to fail;
# sets TRY_RC and TRY_OUT. 124 means it was still running after 15 s.
try_start() {
	local ns=$1 ifname=$2
	shift 2
	TRY_RC=0
	TRY_OUT=$(timeout -k 2 15 ip netns exec "$ns" "$@" env --default-signal WG_PROCESS_FOREGROUND=1 LOG_LEVEL=verbose \
		"$BIN_A" "$ifname" </dev/null 2>&1) || TRY_RC=$?
}

# ------------------------------------------------------------------ stopping
step "stop by deleting the interface"
IF1=$(name l1)
start_impl "$NS_L" "$IMPL_A" "$IF1"
expect_ok "$IF1 answers wg show" wg_show "$NS_L" "$IF1"
expect_match "$IF1 has MTU 1420" "mtu 1420 " "$(ip -n "$NS_L" -d link show dev "$IF1" | tr '\n' ' ')"
expect_match "$IF1 is a TUN device (ip -d: tun type tun)" "tun type tun" "$(ip -n "$NS_L" -d link show dev "$IF1")"
wg_set "$NS_L" "$IF1" fwmark 0x1234
PORT1=$(wg_show "$NS_L" "$IF1" listen-port)
expect_match "wg show reports the fwmark" "0x1234" "$(wg_show "$NS_L" "$IF1" fwmark)"
expect_match "the UDP sockets carry SO_MARK 0x1234 (ss -e)" "fwmark:0x1234" \
	"$(ip netns exec "$NS_L" ss -uane "sport = :$PORT1" 2>/dev/null | tr '\n' ' ')"
ip -n "$NS_L" link set dev "$IF1" mtu 1380
if [[ $IMPL_A == wgated ]]; then
	# [wgated-specific] the daemon learns MTU changes (it pads packets up to the MTU).
	expect_ok "[wgated-specific] the daemon follows 'ip link set mtu 1380'" \
		wait_for 5 grep -q "MTU of $IF1 is now 1380" "${WGT_DAEMON_LOG[$IF1]}"
fi
ip -n "$NS_L" link del "$IF1"
expect_stopped "ip link del" "$IF1" "$NS_L"

step "-f: foreground; stop by SIGTERM"
IF2=$(name l2)
WGT_FG_ENV=0 start_impl "$NS_L" "$IMPL_A" "$IF2" -f
sleep 1
expect_ok "-f: the process started is the daemon and still runs" proc_alive "$(daemon_pid "$IF2")"
kill -TERM "$(daemon_pid "$IF2")"
expect_stopped "SIGTERM" "$IF2" "$NS_L"

step "--foreground: stop by SIGINT"
IF3=$(name l3)
WGT_FG_ENV=0 start_impl "$NS_L" "$IMPL_A" "$IF3" --foreground
sleep 1
expect_ok "--foreground: the process started is the daemon and still runs" proc_alive "$(daemon_pid "$IF3")"
kill -INT "$(daemon_pid "$IF3")"
expect_stopped "SIGINT" "$IF3" "$NS_L"

step "no -f, no WG_PROCESS_FOREGROUND: daemonises"
IF4=$(name l4)
D_RC=0
timeout -k 2 20 ip netns exec "$NS_L" env --default-signal -u WG_PROCESS_FOREGROUND LOG_LEVEL=verbose \
	"$BIN_A" "$IF4" </dev/null >"$WGT_DIR/logs/$IF4.$IMPL_A.log" 2>&1 || D_RC=$?
expect_eq "daemonising start returns 0 (not killed by the 20 s timeout)" 0 "$D_RC"
expect_ok "the daemon answers on its socket" wait_for 10 wg_show "$NS_L" "$IF4"
D_PID=$(ip netns exec "$NS_L" ss -Hxlp src "$(sock_path "$IF4")" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
if [[ -n $D_PID ]]; then
	WGT_BG_PIDS+=("$D_PID")
	pass "the daemon process listening on the socket: pid $D_PID ($(cat "/proc/$D_PID/comm" 2>/dev/null))"
	ip -n "$NS_L" link del "$IF4"
	expect_ok "daemon exits after ip link del" wait_for 10 pid_gone "$D_PID"
	pid_gone "$D_PID" && forget_bg "$D_PID"
	expect_ok "daemon removed its socket" wait_for 2 sock_absent "$IF4"
else
	fail "the daemon process listening on the socket" "$(ip netns exec "$NS_L" ss -xlp 2>&1 | tail -n 5)"
fi

# ------------------------------------------------------------------ duplicates
step "a second daemon for a name in use"
IF5=$(name l5)
start_impl "$NS_L" "$IMPL_A" "$IF5"
try_start "$NS_L" "$IF5"
log "# same namespace: status $TRY_RC: $(tail -n 1 <<<"$TRY_OUT")"
expect_num "same namespace: second daemon fails" "$TRY_RC" "!=" 0
expect_num "same namespace: second daemon exits by itself (no timeout)" "$TRY_RC" "!=" 124
expect_ok "same namespace: first daemon still answers" wg_show "$NS_L" "$IF5"
try_start "$NS_O" "$IF5"
log "# other namespace: status $TRY_RC: $(tail -n 1 <<<"$TRY_OUT")"
expect_num "other namespace: second daemon fails (socket path in use)" "$TRY_RC" "!=" 0
expect_num "other namespace: second daemon exits by itself (no timeout)" "$TRY_RC" "!=" 124
expect_ok "other namespace: it leaves no interface behind" wait_for 3 link_absent "$NS_O" "$IF5"
expect_ok "other namespace: first daemon still answers" wg_show "$NS_L" "$IF5"
expect_ok "first daemon still running" proc_alive "$(daemon_pid "$IF5")"

# ------------------------------------------------------------------ privileges
step "without privileges (uid/gid 65534, no capabilities)"
IF6=$(name l6)
if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$BIN_A"; then
	# The build tree may not be reachable by nobody: run a copy (the keys
	# directory stays 0700).
	PUBDIR="$WGT_DIR/bin"
	chmod 711 "$WGT_DIR"
	mkdir -m 755 "$PUBDIR"
	cp "$BIN_A" "$PUBDIR/"
	BIN_A="$PUBDIR/$(basename -- "$BIN_A")"
	chmod 755 "$BIN_A"
fi
expect_ok "the binary is executable as uid 65534" setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$BIN_A"
try_start "$NS_L" "$IF6" setpriv --reuid=65534 --regid=65534 --clear-groups
log "# unprivileged: status $TRY_RC: $(tail -n 2 <<<"$TRY_OUT" | tr '\n' ' ')"
expect_num "unprivileged: fails" "$TRY_RC" "!=" 0
expect_num "unprivileged: exits by itself (no timeout)" "$TRY_RC" "!=" 124
expect_match "unprivileged: says why (permission/privilege/capability)" "([Pp]ermi|[Pp]rivilege|[Dd]enied|CAP_NET_ADMIN|root)" "$TRY_OUT"
expect_ok "unprivileged: no socket" sock_absent "$IF6"
expect_ok "unprivileged: no interface" link_absent "$NS_L" "$IF6"

# ------------------------------------------------------------------ TUN moved
step "TUN moved into another namespace after start"
start_pair
make_ns NS_C c
PUB_A=$(pub a) PUB_B=$(pub b)
wg_set "$NS_A" "$IF_A" peer "$PUB_B" allowed-ips "$IN4_B/32,$IN6_B/128" endpoint "$OUT4_B:$PORT_B"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" allowed-ips "$IN4_A/32,$IN6_A/128" endpoint "$OUT4_A:$PORT_A"
expect_ok "before the move: A -> B" ping_ok "$NS_A" "$IN4_B"
ip -n "$NS_A" link set "$IF_A" netns "$NS_C"
addr "$NS_C" "$IF_A" "$IN4_A/24" "$IN6_A/64"
ip -n "$NS_C" link set "$IF_A" up
expect_ok "the interface is now in the other namespace" ip -n "$NS_C" link show dev "$IF_A"
expect_ok "A's daemon still runs" proc_alive "$(daemon_pid "$IF_A")"
expect_ok "wg show reaches A's daemon from the other namespace" wg_show "$NS_C" "$IF_A"
expect_ok "after the move: other namespace -> B, inner IPv4" wait_for 10 ping_ok "$NS_C" "$IN4_B"
expect_ok "after the move: other namespace -> B, inner IPv6" ping_all "$NS_C" "$IN6_B" 3
expect_ok "after the move: B -> other namespace, inner IPv4" ping_all "$NS_B" "$IN4_A" 3
expect_eq "the UDP socket stayed in A's namespace (B sees A's outer address)" "$OUT4_A:$PORT_A" "$(endpoint_of "$NS_B" "$IF_B" "$PUB_A")"
expect_ok "UDP port $PORT_A still bound in A's namespace" bash -c "ip netns exec '$NS_A' ss -Hlun 'sport = :$PORT_A' | grep -q ."
ip -n "$NS_C" link del "$IF_A"
expect_ok "deleting the moved interface stops A's daemon (within 10 s)" wait_for 10 daemon_gone "$IF_A"
forget_daemon "$IF_A"

expect_daemons_alive
