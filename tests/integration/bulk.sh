#!/usr/bin/env bash
# bulk: a few hundred MB of random data through the tunnel with an md5 compare
# at both ends, A -> B and B -> A, over inner IPv4 and IPv6. iperf3 does not
# look at its data; this catches corruption by the data path (TSO
# segmentation, checksum completion, UDP GSO/GRO, coalescing), e.g. with
# WGATE_OFFLOAD=1 in the environment.
#   BULK_MB   MiB per transfer (default 200)
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

BULK_MB=${BULK_MB:-200}
BULK_PORT=5301
EMPTY_MD5=d41d8cd98f00b204e9800998ecf8427e
need socat md5sum ss

start_pair
wg_set "$NS_A" "$IF_A" peer "$(pub b)" allowed-ips "$IN4_B/32,$IN6_B/128" endpoint "$OUT4_B:$PORT_B"
wg_set "$NS_B" "$IF_B" peer "$(pub a)" allowed-ips "$IN4_A/32,$IN6_A/128" endpoint "$OUT4_A:$PORT_A"
expect_ok "ping A -> B (handshake)" ping_ok "$NS_A" "$IN4_B"

# transfer LABEL SRC_NS DST_NS DST_ADDR(socat form) LISTEN_TYPE CONNECT_TYPE
transfer() {
	local label=$1 src=$2 dst=$3 addr=$4 ltype=$5 ctype=$6 rx tx pid file
	file=${label//[^A-Za-z0-9]/_}
	rx="$WGT_DIR/$file.rx.md5" tx="$WGT_DIR/$file.tx.md5"
	BULK_PORT=$((BULK_PORT + 1))
	start_bg pid "$WGT_DIR/logs/$file.rx.log" bash -c \
		"ip netns exec '$dst' socat -u $ltype:$BULK_PORT,bind=$addr,reuseaddr - | md5sum >'$rx'"
	wait_for 10 bash -c "ip netns exec '$dst' ss -Htln 'sport = :$BULK_PORT' | grep -q ." ||
		die "$label: receiver did not start: $(cat "$WGT_DIR/logs/$file.rx.log")"
	local t0=$SECONDS
	if ! ip netns exec "$src" timeout 120 bash -c \
		"set -o pipefail; head -c ${BULK_MB}M /dev/urandom | tee >(md5sum >'$tx') | socat -u - $ctype:$addr:$BULK_PORT" \
		>"$WGT_DIR/logs/$file.tx.log" 2>&1; then
		fail "$label: sending ${BULK_MB} MiB" "$(tail -n 5 "$WGT_DIR/logs/$file.tx.log")"
	fi
	# The receiver ends at EOF; md5sum behind tee may finish a moment later.
	wait_for 60 bash -c "! kill -0 $pid 2>/dev/null" || fail "$label: receiver still running after 60 s"
	wait_for 10 test -s "$tx" || true
	local want got
	want=$(cut -d' ' -f1 "$tx" 2>/dev/null || true)
	got=$(cut -d' ' -f1 "$rx" 2>/dev/null || true)
	log "# $label: ${BULK_MB} MiB in $((SECONDS - t0)) s, sent md5 ${want:-?}, received md5 ${got:-?}"
	expect_match "$label: sender's md5 recorded" '^[0-9a-f]{32}$' "$want"
	if [[ $want == "$EMPTY_MD5" ]]; then fail "$label: nothing was sent"; fi
	expect_eq "$label: md5 at both ends" "$want" "$got"
}

step "bulk transfers, ${BULK_MB} MiB each, md5 compared at both ends"
transfer "A->B inner IPv4" "$NS_A" "$NS_B" "$IN4_B" TCP4-LISTEN TCP4
transfer "B->A inner IPv4" "$NS_B" "$NS_A" "$IN4_A" TCP4-LISTEN TCP4
transfer "A->B inner IPv6" "$NS_A" "$NS_B" "[$IN6_B]" TCP6-LISTEN TCP6
transfer "B->A inner IPv6" "$NS_B" "$NS_A" "[$IN6_A]" TCP6-LISTEN TCP6
expect_daemons_alive
