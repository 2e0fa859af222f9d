#!/usr/bin/env bash
# interop: side A (IMPL_A) and side B (IMPL_B), both configured with the stock
# `wg`, across a veth between two namespaces.
#   - handshake initiated by A, then (peers re-created) by B
#   - ping of inner IPv4 and IPv6 both ways over IPv4 outer transport and over
#     IPv6 outer transport (the other family is dropped by nftables meanwhile)
#   - iperf3 TCP and UDP, ~3 s each direction (RESULTS_FILE gets JSON lines)
#   - preshared key: a mismatch prevents the handshake, the match allows it
#   - `wg show IF transfer` on A against a ping flood of known size
#   - `wg show` of an interface that does not exist fails cleanly
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

IPERF_SECONDS=${IPERF_SECONDS:-3}
IPERF_UDP_RATE=${IPERF_UDP_RATE:-100M}
IPERF_PORT=5201
need nft iperf3

start_pair
PUB_A=$(pub a)
PUB_B=$(pub b)
ALLOWED_A="$IN4_A/32,$IN6_A/128" # B's view of A
ALLOWED_B="$IN4_B/32,$IN6_B/128" # A's view of B

# block_udp NS DEV FAMILY(ipv4|ipv6): drop that family's UDP on DEV both ways.
block_udp() {
	ip netns exec "$1" nft -f - <<-EOF
		table inet wgtblock {
			chain in  { type filter hook input priority 0; iifname "$2" meta nfproto $3 meta l4proto udp drop; }
			chain out { type filter hook output priority 0; oifname "$2" meta nfproto $3 meta l4proto udp drop; }
		}
	EOF
}
unblock_udp() { ip netns exec "$1" nft delete table inet wgtblock; }

ping_matrix() { # ping_matrix LABEL: inner v4 and v6, both directions, every reply
	expect_ok "$1: ping A -> B inner IPv4" ping_all "$NS_A" "$IN4_B" 5
	expect_ok "$1: ping A -> B inner IPv6" ping_all "$NS_A" "$IN6_B" 5
	expect_ok "$1: ping B -> A inner IPv4" ping_all "$NS_B" "$IN4_A" 5
	expect_ok "$1: ping B -> A inner IPv6" ping_all "$NS_B" "$IN6_A" 5
}

# ------------------------------------------------------------------ handshakes
step "handshake initiated by A (B has no endpoint for A)"
wg_set "$NS_A" "$IF_A" peer "$PUB_B" allowed-ips "$ALLOWED_B" endpoint "$OUT4_B:$PORT_B"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" allowed-ips "$ALLOWED_A"
expect_eq "A: no handshake before traffic" 0 "$(latest_handshake "$NS_A" "$IF_A" "$PUB_B")"
expect_ok "ping A -> B (starts the handshake)" ping_ok "$NS_A" "$IN4_B"
expect_ok "A (initiator) reports a latest handshake with B" handshake_done "$NS_A" "$IF_A" "$PUB_B"
expect_ok "B learned A's endpoint $OUT4_A:$PORT_A" endpoint_is "$NS_B" "$IF_B" "$PUB_A" "$OUT4_A:$PORT_A"

step "handshake initiated by B (peers re-created, A has no endpoint for B)"
wg_set "$NS_A" "$IF_A" peer "$PUB_B" remove
wg_set "$NS_B" "$IF_B" peer "$PUB_A" remove
wg_set "$NS_B" "$IF_B" peer "$PUB_A" allowed-ips "$ALLOWED_A" endpoint "$OUT4_A:$PORT_A"
wg_set "$NS_A" "$IF_A" peer "$PUB_B" allowed-ips "$ALLOWED_B"
expect_eq "B: no handshake before traffic" 0 "$(latest_handshake "$NS_B" "$IF_B" "$PUB_A")"
expect_eq "A: no endpoint for B yet" "(none)" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
expect_ok "ping B -> A (starts the handshake)" ping_ok "$NS_B" "$IN4_A"
expect_ok "B (initiator) reports a latest handshake with A" handshake_done "$NS_B" "$IF_B" "$PUB_A"
expect_ok "A learned B's endpoint $OUT4_B:$PORT_B" endpoint_is "$NS_A" "$IF_A" "$PUB_B" "$OUT4_B:$PORT_B"

# ------------------------------------------------------------------ outer transports
step "IPv4 outer transport (outer IPv6 UDP dropped)"
block_udp "$NS_A" "$VETH_A" ipv6
block_udp "$NS_B" "$VETH_B" ipv6
ping_matrix "over IPv4"
unblock_udp "$NS_A"
unblock_udp "$NS_B"

step "IPv6 outer transport (outer IPv4 UDP dropped; A points at B's IPv6 address, B roams)"
block_udp "$NS_A" "$VETH_A" ipv4
block_udp "$NS_B" "$VETH_B" ipv4
wg_set "$NS_A" "$IF_A" peer "$PUB_B" endpoint "[$OUT6_B]:$PORT_B"
ping_matrix "over IPv6"
expect_eq "A's endpoint for B is IPv6" "[$OUT6_B]:$PORT_B" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
expect_eq "B's endpoint for A followed to IPv6" "[$OUT6_A]:$PORT_A" "$(endpoint_of "$NS_B" "$IF_B" "$PUB_A")"
unblock_udp "$NS_A"
unblock_udp "$NS_B"

# ------------------------------------------------------------------ iperf3
step "iperf3 over the tunnel (${IPERF_SECONDS} s per run, UDP at $IPERF_UDP_RATE)"
start_bg IPERF_SRV "$WGT_DIR/logs/iperf3-server.log" ip netns exec "$NS_B" iperf3 -s -p "$IPERF_PORT"
wait_for 10 bash -c "ip netns exec '$NS_B' ss -Htln 'sport = :$IPERF_PORT' | grep -q ." ||
	die "iperf3 server did not start: $(cat "$WGT_DIR/logs/iperf3-server.log")"

# iperf_parse FILE tcp|udp -> "bits_per_second lost_percent bytes"
iperf_parse() {
	python3 - "$1" "$2" <<-'EOF'
		import json, sys
		with open(sys.argv[1]) as f:
		    d = json.load(f)
		if d.get("error"):
		    sys.exit("iperf3 error: " + d["error"])
		end = d["end"]
		if sys.argv[2] == "tcp":
		    s = end["sum_received"]
		    print(s["bits_per_second"], 0, s["bytes"])
		else:
		    # "sum" carries the receiver's loss; "sum_received" what arrived.
		    s = end["sum"]
		    r = end.get("sum_received", s)
		    print(r["bits_per_second"], s.get("lost_percent", 0), r["bytes"])
	EOF
}

iperf_run() { # iperf_run tcp|udp A->B|B->A
	local proto=$1 dir=$2 json="$WGT_DIR/logs/iperf3-$1-${2/->/-}.json" args=() res bps lost bytes
	args=(-c "$IN4_B" -p "$IPERF_PORT" -t "$IPERF_SECONDS" -J --connect-timeout 5000)
	[[ $dir == "B->A" ]] && args+=(-R)
	[[ $proto == udp ]] && args+=(-u -b "$IPERF_UDP_RATE" -l 1200)
	if ! timeout $((IPERF_SECONDS + 15)) ip netns exec "$NS_A" iperf3 "${args[@]}" >"$json" 2>&1; then
		fail "iperf3 $proto $dir ran" "$(tail -n 5 "$json")"
		return 0
	fi
	if ! res=$(iperf_parse "$json" "$proto" 2>&1); then
		fail "iperf3 $proto $dir: JSON parsed" "$res"
		return 0
	fi
	read -r bps lost bytes <<<"$res"
	log "# iperf3 $proto $dir: $(awk -v b="$bps" 'BEGIN { printf "%.1f Mbit/s", b / 1e6 }') bytes=$bytes lost=${lost}%"
	expect_num "iperf3 $proto $dir moved data: bytes" "$bytes" ">" 0
	expect_num "iperf3 $proto $dir moved data: bits/s" "$bps" ">" 0
	[[ $proto == udp ]] && expect_num "iperf3 udp $dir loss below 5%" "$lost" "<" 5
	if [[ -n ${RESULTS_FILE:-} ]]; then
		printf '{"test":"interop","impl_a":"%s","impl_b":"%s","proto":"%s","direction":"%s","seconds":%s,"bits_per_second":%s,"lost_percent":%s,"bytes":%s}\n' \
			"$IMPL_A" "$IMPL_B" "$proto" "$dir" "$IPERF_SECONDS" "$bps" "$lost" "$bytes" >>"$RESULTS_FILE"
	fi
}
iperf_run tcp "A->B"
iperf_run tcp "B->A"
iperf_run udp "A->B"
iperf_run udp "B->A"
stop_pid "$IPERF_SRV"

# ------------------------------------------------------------------ preshared key
step "preshared key (peers re-created; A initiates)"
genpsk ab
genpsk other
wg_set "$NS_A" "$IF_A" peer "$PUB_B" remove
wg_set "$NS_B" "$IF_B" peer "$PUB_A" remove
wg_set "$NS_A" "$IF_A" peer "$PUB_B" preshared-key "$(pskfile ab)" allowed-ips "$ALLOWED_B" endpoint "$OUT4_B:$PORT_B"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" preshared-key "$(pskfile other)" allowed-ips "$ALLOWED_A"
expect_eq "A reports the preshared key it was given" "$(cat "$(pskfile ab)")" "$(peer_val "$NS_A" "$IF_A" preshared-keys "$PUB_B")"
expect_ok "mismatched PSK: no reply" ping_none "$NS_A" "$IN4_B"
expect_eq "mismatched PSK: A has no handshake" 0 "$(latest_handshake "$NS_A" "$IF_A" "$PUB_B")"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" preshared-key "$(pskfile ab)"
expect_ok "matching PSK: ping A -> B within 20 s (next handshake retry)" wait_for 20 ping_ok "$NS_A" "$IN4_B"
expect_ok "matching PSK: A reports a handshake" handshake_done "$NS_A" "$IF_A" "$PUB_B"
expect_ok "matching PSK: ping B -> A inner IPv6" ping_all "$NS_B" "$IN6_A" 3

# ------------------------------------------------------------------ transfer counters
step "wg show transfer on A against a ping flood of known size"
FLOOD_COUNT=1000
FLOOD_SIZE=1000
# Each ICMP packet: payload + 8 ICMP + 20 IPv4 header, padded to 16, plus
# 16 bytes of data-message header and a 16-byte tag.
PER_PACKET=$(((((FLOOD_SIZE + 28 + 15) / 16) * 16) + 32))
ping_all "$NS_A" "$IN4_B" 2 >/dev/null || true # session in place before we count
read -r RX0 TX0 <<<"$(peer_val "$NS_A" "$IF_A" transfer "$PUB_B")"
FLOOD_OUT=$(ip netns exec "$NS_A" ping -n -q -f -c "$FLOOD_COUNT" -s "$FLOOD_SIZE" -W 2 "$IN4_B" 2>&1 || true)
read -r RX1 TX1 <<<"$(peer_val "$NS_A" "$IF_A" transfer "$PUB_B")"
SENT=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$FLOOD_OUT")
RECV=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$FLOOD_OUT")
log "# flood: sent=${SENT:-?} received=${RECV:-?}, $PER_PACKET bytes per packet on the wire; A rx ${RX0}->${RX1}, tx ${TX0}->${TX1}"
expect_eq "flood: every request sent" "$FLOOD_COUNT" "${SENT:-}"
expect_num "flood: at least 99% answered" "${RECV:-0}" ">=" $((FLOOD_COUNT * 99 / 100))
EXP_TX=$((${SENT:-0} * PER_PACKET))
EXP_RX=$((${RECV:-0} * PER_PACKET))
expect_num "A tx bytes >= packets x $PER_PACKET" $((TX1 - TX0)) ">=" "$EXP_TX"
expect_num "A tx bytes within 3% (+1 KiB) of that" $((TX1 - TX0)) "<=" $((EXP_TX * 103 / 100 + 1024))
expect_num "A rx bytes >= packets x $PER_PACKET" $((RX1 - RX0)) ">=" "$EXP_RX"
expect_num "A rx bytes within 3% (+1 KiB) of that" $((RX1 - RX0)) "<=" $((EXP_RX * 103 / 100 + 1024))

# ------------------------------------------------------------------ errors
step "wg show on an interface that does not exist"
MISSING=$(name zz)
MISSING_OUT=$(timeout 10 ip netns exec "$NS_A" wg show "$MISSING" 2>&1) && MISSING_RC=0 || MISSING_RC=$?
expect_num "wg show $MISSING: non-zero status, no hang" "$MISSING_RC" "!=" 0
expect_num "wg show $MISSING: not killed by timeout" "$MISSING_RC" "!=" 124
expect_match "wg show $MISSING: says why (wg: 'Unable to access interface: ...')" "[Uu]nable to access interface" "$MISSING_OUT"
expect_fail "no socket appeared for $MISSING" test -e "$(sock_path "$MISSING")"
expect_ok "wg show still lists $IF_A" bash -c "ip netns exec '$NS_A' wg show interfaces | tr ' ' '\n' | grep -qx '$IF_A'"

expect_daemons_alive
