#!/usr/bin/env bash
# roaming: A knows no endpoint for B and must follow wherever B's
# authenticated packets come from:
#   - B changes its listen port (`wg set IF listen-port N`),
#   - B changes its outer IPv4 address (new address added, old one removed),
#   - B moves to IPv6 transport, then changes its outer IPv6 address.
# After traffic from B, A's `wg show IF endpoints` shows the new endpoint and
# A's own traffic reaches B there.
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

start_pair
PUB_A=$(pub a)
PUB_B=$(pub b)
NEW_PORT_B=51899
NEW4_B=192.0.2.102
NEW6_B=fd00:0:1::102

wg_set "$NS_A" "$IF_A" peer "$PUB_B" allowed-ips "$IN4_B/32,$IN6_B/128"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" allowed-ips "$IN4_A/32,$IN6_A/128" endpoint "$OUT4_A:$PORT_A"

step "start: B initiates"
expect_ok "ping B -> A" ping_ok "$NS_B" "$IN4_A"
expect_eq "A's endpoint for B" "$OUT4_B:$PORT_B" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"

step "B changes its listen port to $NEW_PORT_B"
wg_set "$NS_B" "$IF_B" listen-port "$NEW_PORT_B"
expect_eq "B reports the new listen port" "$NEW_PORT_B" "$(wg_show "$NS_B" "$IF_B" listen-port)"
expect_ok "ping B -> A after the port change" ping_ok "$NS_B" "$IN4_A"
expect_eq "A's endpoint for B followed the port" "$OUT4_B:$NEW_PORT_B" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
expect_ok "ping A -> B reaches the new port" ping_all "$NS_A" "$IN4_B" 3

step "B changes its outer IPv4 address $OUT4_B -> $NEW4_B"
# Keep the new address when the old (primary) one of the same subnet goes.
ip netns exec "$NS_B" sysctl -qw net.ipv4.conf.all.promote_secondaries=1 "net.ipv4.conf.$VETH_B.promote_secondaries=1"
addr "$NS_B" "$VETH_B" "$NEW4_B/24"
ip -n "$NS_B" addr del "$OUT4_B/24" dev "$VETH_B"
expect_eq "B's outer IPv4 addresses now" "$NEW4_B" "$(ip -n "$NS_B" -4 -o addr show dev "$VETH_B" | awk '{ sub(/\/.*/, "", $4); print $4 }')"
# B's socket may still prefer the removed source address. The kernel checks
# that a cached source is still local before each send and drops it at once;
# wireguard-go 0.0.20220316 retries without it only on EINVAL, and Linux >= 6.0
# answers ENETUNREACH, so it recovers only when its handshake retransmission
# clears the source (~20 s: new-handshake timer 15 s + REKEY_TIMEOUT 5 s).
T_CHANGE=$(date +%s%N)
if wait_for 40 ping_ok "$NS_B" "$IN4_A"; then
	RECOVERY=$((($(date +%s%N) - T_CHANGE) / 1000000))
	pass "ping B -> A from the new address (first reply after ${RECOVERY} ms)"
	if [[ $IMPL_B == wgated ]]; then
		# [wgated-specific] like the kernel, not like wireguard-go 0.0.20220316.
		expect_num "[wgated-specific] B drops the stale source address at once: reply within 5000 ms" "$RECOVERY" "<=" 5000
	fi
else
	fail "ping B -> A from the new address (no reply within 40 s)"
fi
expect_eq "A's endpoint for B followed the address" "$NEW4_B:$NEW_PORT_B" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
expect_ok "ping A -> B at the new address" ping_all "$NS_A" "$IN4_B" 3

step "B moves to IPv6 transport, then changes its outer IPv6 address $OUT6_B -> $NEW6_B"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" endpoint "[$OUT6_A]:$PORT_A"
expect_ok "ping B -> A over IPv6 transport" ping_ok "$NS_B" "$IN6_A"
expect_eq "A's endpoint for B followed to IPv6" "[$OUT6_B]:$NEW_PORT_B" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
addr "$NS_B" "$VETH_B" "$NEW6_B/64"
ip -n "$NS_B" -6 addr del "$OUT6_B/64" dev "$VETH_B"
expect_ok "ping B -> A from the new IPv6 address" ping_ok "$NS_B" "$IN6_A"
expect_eq "A's endpoint for B followed the IPv6 address" "[$NEW6_B]:$NEW_PORT_B" "$(endpoint_of "$NS_A" "$IF_A" "$PUB_B")"
expect_ok "ping A -> B at the new IPv6 address (inner IPv4)" ping_all "$NS_A" "$IN4_B" 3
expect_ok "ping A -> B at the new IPv6 address (inner IPv6)" ping_all "$NS_A" "$IN6_B" 3

expect_daemons_alive
