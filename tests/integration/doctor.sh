#!/usr/bin/env bash
# doctor: `wgate doctor` finds each problem it claims to find when that problem
# is staged. G runs wgated (plain mode, configured with wg and wgate), C runs
# IMPL_B clients; G and C share a veth (192.0.2.0/24), the tunnel is
# 203.0.113.0/24.
#   - baseline: a client added with `wgate peer add` (its config fed to IMPL_B
#     through `wg-quick strip`) completes a handshake; doctor finds no failure
#   - forwarding off (net.ipv4.ip_forward=0)
#   - an nftables rule in G's input hook dropping the listen port
#   - clients told another port than the one listened on (--endpoint)
#   - overlapping allowed IPs of two peers (named with `wgate peer rename`)
#   - tunnel MTU 1420 over a 1400-byte egress path (G's veth)
#   - a client with the wrong gateway key (bad_mac1), then one whose own key
#     G does not know (unknown_peer): the never-handshaked peer is reported
#     with the rejection reason the daemon recorded
#   - nothing bound: the TUN moved to another namespace, doctor run there
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

WGATE=${WGATE:-$WGT_SRC_DIR/build/bin/wgate}
[[ -x $WGATE ]] || die "wgate not found at '$WGATE' (build it, or set WGATE=/path/to/wgate)"
need nft wg-quick

make_ns NS_G g
make_ns NS_C c
IF_G=$(name g) IF_C=$(name c) IF_D=$(name d)
VG=$(name vg) VC=$(name vc)
veth "$NS_G" "$VG" "$NS_C" "$VC"
addr "$NS_G" "$VG" 192.0.2.1/24
addr "$NS_C" "$VC" 192.0.2.2/24
PORT=51820

genkey g
start_impl "$NS_G" wgated "$IF_G"
setup_iface "$NS_G" "$IF_G" g "$PORT" 203.0.113.1/24
ip netns exec "$NS_G" sysctl -qw net.ipv4.ip_forward=1

# wgate in G's namespace, against G's daemon.
wgate() { ip netns exec "$NS_G" "$WGATE" -i "$IF_G" "$@"; }
# doctor [NS] [ARGS...]: runs the doctor, output in DOCTOR_OUT, status in DOCTOR_RC.
doctor_in() {
	local ns=$1
	shift
	DOCTOR_RC=0
	DOCTOR_OUT=$(ip netns exec "$ns" "$WGATE" -i "$IF_G" doctor "$@" 2>&1) || DOCTOR_RC=$?
	printf '%s\n' "$DOCTOR_OUT" | sed 's/^/  | /'
}
doctor() { doctor_in "$NS_G" "$@"; }
# expect_finding DESC ERE: some line of the last doctor output matches.
expect_finding() {
	if grep -Eq -- "$2" <<<"$DOCTOR_OUT"; then pass "$1"; else fail "$1" "no line matches /$2/"; fi
}
# expect_finding_text DESC TEXT: the last doctor output contains TEXT (no regex: keys hold '+').
expect_finding_text() {
	if grep -Fq -- "$2" <<<"$DOCTOR_OUT"; then pass "$1"; else fail "$1" "no line contains '$2'"; fi
}
expect_no_finding() {
	if grep -Eq -- "$2" <<<"$DOCTOR_OUT"; then fail "$1" "a line matches /$2/"; else pass "$1"; fi
}

# client_from_config NS IF CONF ADDR: an IMPL_B interface configured from a wg-quick file.
client_from_config() {
	local ns=$1 ifname=$2 conf=$3 address=$4 stripped=$WGT_DIR/$2.stripped
	# wg-quick strip wants the file named after a valid interface.
	cp "$conf" "$WGT_DIR/wgtstrip0.conf"
	wg-quick strip "$WGT_DIR/wgtstrip0.conf" >"$stripped"
	ip netns exec "$ns" wg setconf "$ifname" "$stripped"
	addr "$ns" "$ifname" "$address"
	ip -n "$ns" link set "$ifname" up
}

step "baseline: a client added with wgate peer add"
wgate peer add laptop --ip 203.0.113.2 --endpoint 192.0.2.1:$PORT --allowed-ips 203.0.113.0/24 \
	--keepalive 0 --out "$WGT_DIR/laptop.conf"
expect_eq "the client config is private" 600 "$(stat -c %a "$WGT_DIR/laptop.conf")"
start_impl "$NS_C" "$IMPL_B" "$IF_C"
client_from_config "$NS_C" "$IF_C" "$WGT_DIR/laptop.conf" 203.0.113.2/24
expect_ok "laptop reaches the gateway through the tunnel" ping_ok "$NS_C" 203.0.113.1
doctor
expect_eq "doctor exits 0 on a healthy gateway" 0 "$DOCTOR_RC"
expect_no_finding "no failure on a healthy gateway" '^\[FAIL\]'
expect_finding "laptop's handshake counts" '^\[ok\] +handshake: every enabled peer has completed a handshake'
expect_finding "the listen port is bound" "^\[ok\] +listen-port: UDP port $PORT is bound"

step "forwarding disabled"
ip netns exec "$NS_G" sysctl -qw net.ipv4.ip_forward=0
doctor
expect_finding "doctor reports forwarding off" '^\[(warn|FAIL)\] forwarding: IPv4 forwarding is disabled'
expect_finding "and how to fix it" 'fix: sysctl -w net.ipv4.ip_forward=1'
ip netns exec "$NS_G" sysctl -qw net.ipv4.ip_forward=1
doctor
expect_no_finding "forwarding on again: no finding" 'forwarding is disabled'

step "nftables drops the listen port"
FW=wgtfw$WGT_ID
ip netns exec "$NS_G" nft -f - <<EOF
table inet $FW {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		udp dport $PORT counter drop
	}
}
EOF
doctor
expect_eq "doctor exits 2 on a failure" 2 "$DOCTOR_RC"
expect_finding "doctor names the rule" "^\[FAIL\] firewall: table inet $FW chain input: rule handle [0-9]+ drops UDP port $PORT"
expect_finding "and says how to remove it" "fix: nft delete rule inet $FW input handle [0-9]+"
ip netns exec "$NS_G" nft delete table inet "$FW"
doctor
expect_no_finding "rule gone: no firewall finding" '^\[FAIL\] firewall'

step "clients dial another port"
doctor --endpoint 192.0.2.1:51999
expect_finding "doctor reports the port mismatch" "^\[warn\] listen-port: clients dial 192.0.2.1:51999 but $IF_G listens on port $PORT"

step "overlapping allowed IPs"
genkey wide
genkey narrow
wg_set "$NS_G" "$IF_G" peer "$(pub wide)" allowed-ips 203.0.113.64/26 peer "$(pub narrow)" allowed-ips 203.0.113.70/32
wgate peer rename "$(pub wide)" wide >/dev/null
wgate peer rename "$(pub narrow)" narrow >/dev/null
doctor
expect_finding "doctor reports the overlap" '^\[FAIL\] allowed-ips: allowed IPs of wide \(203\.0\.113\.64/26\) and narrow \(203\.0\.113\.70/32\) overlap'
wgate peer remove wide >/dev/null
wgate peer remove narrow >/dev/null
doctor
expect_no_finding "overlap gone" '^\[FAIL\] allowed-ips'

step "tunnel MTU larger than the egress path"
ip -n "$NS_G" link set "$VG" mtu 1400
doctor
expect_finding "doctor reports the MTU" "^\[FAIL\] mtu: tunnel MTU 1420 \+ 60 bytes of WireGuard overhead exceeds the MTU 1400 of $VG"
expect_finding "and the MTU that fits" "fix: ip link set $IF_G mtu 1340"
ip -n "$NS_G" link set "$VG" mtu 1500
doctor
expect_no_finding "MTU fits again" '^\[FAIL\] mtu'

step "a client with the wrong gateway key: bad_mac1"
genkey notgateway
wgate peer add mallory --ip 203.0.113.3 --endpoint 192.0.2.1:$PORT --allowed-ips 203.0.113.0/24 \
	--out "$WGT_DIR/mallory.conf" 2>/dev/null
# The client's config names another key as the gateway's.
sed -i "s|^PublicKey = .*|PublicKey = $(pub notgateway)|" "$WGT_DIR/mallory.conf"
start_impl "$NS_C" "$IMPL_B" "$IF_D"
client_from_config "$NS_C" "$IF_D" "$WGT_DIR/mallory.conf" 203.0.113.3/32
wg_set "$NS_C" "$IF_D" listen-port 51830
dropped() { wgate show --json | python3 -c "import json,sys; print(json.load(sys.stdin)['dropped'].get('$1', 0))"; }
has_dropped() { (($(dropped "$1") > 0)); }
ip netns exec "$NS_C" ping -n -q -c 1 -W 1 -I "$IF_D" 203.0.113.1 >/dev/null 2>&1 || true
expect_ok "the gateway drops mallory's handshakes with bad_mac1" wait_for 10 has_dropped bad_mac1
doctor
expect_finding "doctor names the never-handshaked peer and the reason" \
	'^\[FAIL\] handshake: peer mallory has never completed a handshake; the daemon rejected handshakes: bad_mac1 x[0-9]+'
expect_finding_text "and says which key the client must use" "fix: a client uses a different public key for this gateway: its [Peer] PublicKey must be $(pub g)"

step "a client whose own key the gateway does not know: unknown_peer"
# The right gateway key now, but a private key that belongs to no configured peer.
genkey stranger
wg_set "$NS_C" "$IF_D" private-key "$(keyfile stranger)" peer "$(pub notgateway)" remove \
	peer "$(pub g)" endpoint 192.0.2.1:$PORT allowed-ips 203.0.113.0/24
ip netns exec "$NS_C" ping -n -q -c 1 -W 1 -I "$IF_D" 203.0.113.1 >/dev/null 2>&1 || true
expect_ok "the gateway drops those handshakes with unknown_peer" wait_for 10 has_dropped unknown_peer
doctor
expect_finding "doctor reports unknown_peer for the never-handshaked peer" \
	'^\[FAIL\] handshake: peer mallory has never completed a handshake; .*unknown_peer x[0-9]+'
expect_no_finding "laptop is not blamed" 'peer laptop has never'

step "nothing bound: the tunnel interface moved to another namespace"
make_ns NS_T t
ip -n "$NS_G" link set "$IF_G" netns "$NS_T"
doctor_in "$NS_T"
expect_finding "doctor reports that nothing is bound to the listen port here" \
	"^\[FAIL\] listen-port: nothing is bound to UDP port $PORT in this network namespace"
expect_finding "and where to look" "fix: wgated's socket stays in the namespace it was started in"

expect_daemons_alive
