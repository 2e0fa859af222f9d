#!/usr/bin/env bash
# allowedips: cryptokey routing with three nodes.
#   A (IMPL_A) has two peers: B (IMPL_B) owns 203.0.113.64/26 + fd00:0:100::40/122,
#   C (IMPL_B) owns the more specific 203.0.113.96/27 + fd00:0:100::60/123
#   inside B's range.
#   - A reaches B and C; traffic for C's prefix goes to C (longest prefix)
#   - B sending with a source address in C's prefix (C's own address, added
#     to B's tunnel interface, `ping -I`): the encrypted packets reach A's
#     outer interface but no packet comes out of A's tunnel interface, no reply
#   - B's own addresses keep working, C's too
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

need nft
make_ns NS_A a
make_ns NS_B b
make_ns NS_C c
IF_A=$(name a) IF_B=$(name b) IF_C=$(name c)
VAB=$(name vab) VBA=$(name vba) VAC=$(name vac) VCA=$(name vca)
veth "$NS_A" "$VAB" "$NS_B" "$VBA"
veth "$NS_A" "$VAC" "$NS_C" "$VCA"
addr "$NS_A" "$VAB" 192.0.2.1/24 fd00:0:1::1/64
addr "$NS_B" "$VBA" 192.0.2.2/24 fd00:0:1::2/64
addr "$NS_A" "$VAC" 198.51.100.1/24 fd00:0:2::1/64
addr "$NS_C" "$VCA" 198.51.100.3/24 fd00:0:2::3/64

IN4_A=203.0.113.1 IN6_A=fd00:0:100::1
IN4_B=203.0.113.65 IN6_B=fd00:0:100::41
IN4_C=203.0.113.97 IN6_C=fd00:0:100::61
RANGE_B="203.0.113.64/26,fd00:0:100::40/122"
RANGE_C="203.0.113.96/27,fd00:0:100::60/123"
RANGE_ALL="203.0.113.0/24,fd00:0:100::/64"

genkey a
genkey b
genkey c
start_impl "$NS_A" "$IMPL_A" "$IF_A"
start_impl "$NS_B" "$IMPL_B" "$IF_B"
start_impl "$NS_C" "$IMPL_B" "$IF_C"
setup_iface "$NS_A" "$IF_A" a 51820 "$IN4_A/24" "$IN6_A/64"
setup_iface "$NS_B" "$IF_B" b 51821 "$IN4_B/24" "$IN6_B/64"
setup_iface "$NS_C" "$IF_C" c 51823 "$IN4_C/24" "$IN6_C/64"
PUB_A=$(pub a) PUB_B=$(pub b) PUB_C=$(pub c)
wg_set "$NS_A" "$IF_A" peer "$PUB_B" allowed-ips "$RANGE_B" endpoint 192.0.2.2:51821 \
	peer "$PUB_C" allowed-ips "$RANGE_C" endpoint 198.51.100.3:51823
wg_set "$NS_B" "$IF_B" peer "$PUB_A" allowed-ips "$RANGE_ALL" endpoint 192.0.2.1:51820
wg_set "$NS_C" "$IF_C" peer "$PUB_A" allowed-ips "$RANGE_ALL" endpoint 198.51.100.1:51820

# Counters on A: encrypted datagrams from B on the outer veth, and echo
# requests with C's addresses as source coming out of A's tunnel interface.
ip netns exec "$NS_A" nft -f - <<EOF
table inet wgtcount {
	counter udp_from_b {}
	counter echo_from_c4 {}
	counter echo_from_c6 {}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "$VAB" ip saddr 192.0.2.2 udp dport 51820 counter name udp_from_b
		iifname "$VAB" ip6 saddr fd00:0:1::2 udp dport 51820 counter name udp_from_b
		iifname "$IF_A" ip saddr $IN4_C icmp type echo-request counter name echo_from_c4
		iifname "$IF_A" ip6 saddr $IN6_C icmpv6 type echo-request counter name echo_from_c6
	}
}
EOF
counter() { ip netns exec "$NS_A" nft list counter inet wgtcount "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

step "genuine traffic"
expect_ok "A -> B inner IPv4" ping_all "$NS_A" "$IN4_B" 3
expect_ok "A -> B inner IPv6" ping_all "$NS_A" "$IN6_B" 3
expect_ok "A -> C inner IPv4 (C's /27 inside B's /26)" ping_all "$NS_A" "$IN4_C" 3
expect_ok "A -> C inner IPv6 (C's /123 inside B's /122)" ping_all "$NS_A" "$IN6_C" 3
expect_ok "B -> A from B's own IPv4 address" ping_all "$NS_B" "$IN4_A" 3 -I "$IN4_B"
expect_ok "B -> A from B's own IPv6 address" ping_all "$NS_B" "$IN6_A" 3 -I "$IN6_B"
C4_0=$(counter echo_from_c4) C6_0=$(counter echo_from_c6)
expect_ok "C -> A from C's IPv4 address" ping_all "$NS_C" "$IN4_A" 3
expect_ok "C -> A from C's IPv6 address" ping_all "$NS_C" "$IN6_A" 3
expect_num "A's tunnel delivered C's IPv4 echo requests" $(($(counter echo_from_c4) - C4_0)) ">=" 3
expect_num "A's tunnel delivered C's IPv6 echo requests" $(($(counter echo_from_c6) - C6_0)) ">=" 3

step "B sends with C's addresses as source"
addr "$NS_B" "$IF_B" "$IN4_C/32" "$IN6_C/128"
U0=$(counter udp_from_b) C4_0=$(counter echo_from_c4) C6_0=$(counter echo_from_c6)
read -r _ TXB0 <<<"$(peer_val "$NS_B" "$IF_B" transfer "$PUB_A")"
expect_ok "B -> A from $IN4_C: no reply" ping_none "$NS_B" "$IN4_A" -I "$IN4_C"
expect_ok "B -> A from $IN6_C: no reply" ping_none "$NS_B" "$IN6_A" -I "$IN6_C"
read -r _ TXB1 <<<"$(peer_val "$NS_B" "$IF_B" transfer "$PUB_A")"
expect_num "B encrypted the spoofed packets (B's tx bytes to A grew)" $((TXB1 - TXB0)) ">=" $((4 * 96))
expect_num "they reached A's outer interface (UDP datagrams from B)" $(($(counter udp_from_b) - U0)) ">=" 4
expect_eq "A dropped them: no IPv4 echo request from $IN4_C out of A's tunnel" 0 $(($(counter echo_from_c4) - C4_0))
expect_eq "A dropped them: no IPv6 echo request from $IN6_C out of A's tunnel" 0 $(($(counter echo_from_c6) - C6_0))

step "after the spoofing attempt"
expect_ok "B -> A from B's own IPv4 address still works" ping_all "$NS_B" "$IN4_A" 3 -I "$IN4_B"
expect_ok "B -> A from B's own IPv6 address still works" ping_all "$NS_B" "$IN6_A" 3 -I "$IN6_B"
expect_ok "A -> C still reaches C (IPv4)" ping_all "$NS_A" "$IN4_C" 3
expect_ok "A -> C still reaches C (IPv6)" ping_all "$NS_A" "$IN6_C" 3

expect_daemons_alive
