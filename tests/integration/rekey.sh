#!/usr/bin/env bash
# rekey (slow, ~2.5 min): A (IMPL_A) initiates the first handshake (B knows
# no endpoint for A), then A -> B (inner IPv4) and B -> A (inner IPv6) pings
# run every 0.5 s for REKEY_TRAFFIC s (default 130).
#   - after REKEY_AFTER_TIME (120 s) the initiator has rekeyed: A's (and B's)
#     latest handshake advanced by >= 120 s
#   - no traffic lost beyond REKEY_MAX_LOSS echo replies (default 2) per direction
#   - the new session works both ways afterwards
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

REKEY_TRAFFIC=${REKEY_TRAFFIC:-130}
REKEY_MAX_LOSS=${REKEY_MAX_LOSS:-2}
COUNT=$((REKEY_TRAFFIC * 2))

start_pair
PUB_A=$(pub a)
PUB_B=$(pub b)
wg_set "$NS_A" "$IF_A" peer "$PUB_B" allowed-ips "$IN4_B/32,$IN6_B/128" endpoint "$OUT4_B:$PORT_B"
wg_set "$NS_B" "$IF_B" peer "$PUB_A" allowed-ips "$IN4_A/32,$IN6_A/128"

step "first handshake, initiated by A"
expect_ok "ping A -> B" ping_ok "$NS_A" "$IN4_B"
T0_A=$(latest_handshake "$NS_A" "$IF_A" "$PUB_B")
T0_B=$(latest_handshake "$NS_B" "$IF_B" "$PUB_A")
expect_num "A has a handshake" "$T0_A" ">" 0

step "traffic both ways for ${REKEY_TRAFFIC} s ($COUNT pings each way, 0.5 s apart)"
start_bg PING_BA "$WGT_DIR/logs/ping-b-a.log" ip netns exec "$NS_B" ping -n -q -i 0.5 -W 2 -c "$COUNT" "$IN6_A"
ip netns exec "$NS_A" ping -n -q -i 0.5 -W 2 -c "$COUNT" "$IN4_B" >"$WGT_DIR/logs/ping-a-b.log" 2>&1 || true
wait "$PING_BA" || true
forget_bg "$PING_BA"
sent_of() { sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$1"; }
recv_of() { sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"; }
for dir in a-b b-a; do
	f="$WGT_DIR/logs/ping-$dir.log"
	S=$(sent_of "$f") R=$(recv_of "$f")
	D=${dir^^}
	D=${D/-/ -> }
	log "# ping $D: $(grep -E 'transmitted|rtt' "$f" | tr '\n' ' ')"
	expect_eq "ping $D: all $COUNT sent" "$COUNT" "${S:-}"
	expect_num "ping $D: at most $REKEY_MAX_LOSS lost" $((${S:-0} - ${R:-0})) "<=" "$REKEY_MAX_LOSS"
done

step "rekeyed"
T1_A=$(latest_handshake "$NS_A" "$IF_A" "$PUB_B")
T1_B=$(latest_handshake "$NS_B" "$IF_B" "$PUB_A")
log "# latest handshake: A $T0_A -> $T1_A (+$((T1_A - T0_A)) s), B $T0_B -> $T1_B (+$((T1_B - T0_B)) s)"
expect_num "A (initiator): latest handshake advanced by >= 120 s" $((T1_A - T0_A)) ">=" 120
expect_num "B: latest handshake advanced by >= 120 s" $((T1_B - T0_B)) ">=" 120
expect_ok "new session: A -> B" ping_all "$NS_A" "$IN4_B" 3
expect_ok "new session: B -> A" ping_all "$NS_B" "$IN4_A" 3

expect_daemons_alive
