#!/usr/bin/env bash
# nat: A (IMPL_A) -- R (NAT router namespace) -- B (IMPL_B) behind R.
#   R masquerades B's traffic towards A (nftables) and forgets UDP mappings
#   after 5 s (nf_conntrack_udp_timeout{,_stream}=5 in R's namespace only);
#   R forwards nothing from A to B that is not part of a mapping.
#   A knows no endpoint for B; B points at A.
#   - B -> A works, A sees B at R's address; A -> B works while the mapping lives
#   - without keepalive: once idle long enough for R to forget the mapping
#     (watched in R's /proc/net/nf_conntrack), A -> B fails
#   - B sets persistent-keepalive 2: A follows B's new mapping, and after
#     NAT_IDLE s (default 20, 4x the conntrack timeout) idle A -> B works,
#     R still holds the mapping and A kept receiving B's keepalives
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

NAT_IDLE=${NAT_IDLE:-20}
need nft

make_ns NS_A a
make_ns NS_R r
make_ns NS_B b
IF_A=$(name a) IF_B=$(name b)
VAR=$(name var) VRA=$(name vra) VRB=$(name vrb) VBR=$(name vbr)
veth "$NS_A" "$VAR" "$NS_R" "$VRA"
veth "$NS_R" "$VRB" "$NS_B" "$VBR"
WAN_A=198.51.100.1 WAN_R=198.51.100.254
LAN_R=192.0.2.254 LAN_B=192.0.2.2
addr "$NS_A" "$VAR" "$WAN_A/24"
addr "$NS_R" "$VRA" "$WAN_R/24"
addr "$NS_R" "$VRB" "$LAN_R/24"
addr "$NS_B" "$VBR" "$LAN_B/24"
# B reaches A's network through R; no default routes anywhere.
ip -n "$NS_B" route add 198.51.100.0/24 via "$LAN_R"
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NS_R" nft -f - <<EOF
table ip wgtnat {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "$VRB" oifname "$VRA" accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$VRA" masquerade
	}
}
EOF
ip netns exec "$NS_R" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=5 net.netfilter.nf_conntrack_udp_timeout_stream=5
expect_eq "R: conntrack UDP timeout" 5 "$(ip netns exec "$NS_R" sysctl -n net.netfilter.nf_conntrack_udp_timeout)"
expect_eq "R: conntrack UDP stream timeout" 5 "$(ip netns exec "$NS_R" sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)"
expect_fail "A has no route to B's LAN" ip netns exec "$NS_A" ping -n -q -c 1 -W 1 "$LAN_B"

genkey a
genkey b
PUB_A=$(pub a) PUB_B=$(pub b)
IN4_A=203.0.113.1 IN4_B=203.0.113.2
start_impl "$NS_A" "$IMPL_A" "$IF_A"
start_impl "$NS_B" "$IMPL_B" "$IF_B"
setup_iface "$NS_A" "$IF_A" a 51820 "$IN4_A/24"
setup_iface "$NS_B" "$IF_B" b 51821 "$IN4_B/24"
wg_set "$NS_A" "$IF_A" peer "$PUB_B" allowed-ips "$IN4_B/32"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" allowed-ips "$IN4_A/32" endpoint "$WAN_A:51820"

step "through the NAT"
expect_ok "B -> A" ping_ok "$NS_B" "$IN4_A"
EP1=$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")
expect_match "A sees B at R's public address" "^$WAN_R:[0-9]+\$" "$EP1"
expect_ok "A -> B while the mapping lives" ping_all "$NS_A" "$IN4_B" 3

step "no keepalive: idle until R has forgotten B's mapping"
# B's mapping is R's conntrack entry with B's LAN address as source. Nothing
# refreshes it while idle (A's passive keepalive 10 s later goes the other
# way and finds no mapping); B itself retries a handshake 15 s after its last
# unanswered data, which would create a new one, so test as soon as it is gone.
mapping_gone() { ! ip netns exec "$NS_R" grep -q "src=$LAN_B " /proc/net/nf_conntrack; }
T_IDLE=$SECONDS
if [[ -r /proc/net/nf_conntrack ]]; then
	expect_ok "R forgot B's mapping after idle (conntrack, within 30 s)" wait_for 30 mapping_gone
	log "# mapping gone after $((SECONDS - T_IDLE)) s idle"
else
	log "# /proc/net/nf_conntrack not available: idle 6 s (conntrack timeout 5 s)"
	sleep 6
fi
expect_ok "A -> B fails after idle: the NAT mapping expired" ping_none "$NS_A" "$IN4_B"

step "B sets persistent-keepalive 2"
rx_from_b() { local rx; read -r rx _ <<<"$(peer_val "$NS_A" "$IF_A" transfer "$PUB_B")" && printf '%s' "$rx"; }
rx_above() { (($(rx_from_b) > $1)); }
RXK=$(rx_from_b)
wg_set "$NS_B" "$IF_B" peer "$PUB_A" persistent-keepalive 2
expect_eq "B reports persistent-keepalive 2" 2 "$(peer_val "$NS_B" "$IF_B" persistent-keepalive "$PUB_A")"
expect_ok "A receives B's keepalives through a new mapping (within 6 s)" wait_for 6 rx_above "$RXK"
log "# A's endpoint for B: before $EP1, now $(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
RX0=$(rx_from_b)
sleep "$NAT_IDLE"
RX1=$(rx_from_b)
expect_num "A received B's keepalives while idle (bytes, >= 5 x 32)" $((RX1 - RX0)) ">=" 160
if [[ -r /proc/net/nf_conntrack ]]; then
	expect_fail "R still holds B's mapping after idle ${NAT_IDLE} s (keepalives)" mapping_gone
fi
expect_match "A's endpoint for B is still at R's public address" "^$WAN_R:[0-9]+\$" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
expect_ok "A -> B after idle ${NAT_IDLE} s with keepalive" ping_all "$NS_A" "$IN4_B" 3
expect_ok "B -> A" ping_all "$NS_B" "$IN4_A" 3

expect_daemons_alive
