#!/usr/bin/env bash
# bulk: a few hundred MB of random data through the tunnel with an md5 compare
# at both ends, A -> B and B -> A, over inner IPv4 and IPv6, then bursts of
# numbered UDP datagrams whose every byte the receiver checks. iperf3 does not
# look at its data; this catches corruption by the data path (TSO and USO
# segmentation, checksum completion, UDP GSO/GRO, TCP and UDP coalescing).
#   BULK_MB     MiB per transfer (default 200)
#   BULK_UDP    datagrams per UDP burst (default 30000)
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

BULK_MB=${BULK_MB:-200}
BULK_UDP=${BULK_UDP:-30000}
UDP_CHECK="$(dirname -- "${BASH_SOURCE[0]}")/tools/udp_check.py"
BULK_PORT=5301
EMPTY_MD5=d41d8cd98f00b204e9800998ecf8427e
need socat md5sum ss python3

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
# udp_burst LABEL SRC_NS DST_NS DST_ADDR: BULK_UDP datagrams in bursts of 64;
# some may be lost (UDP), none may arrive changed or twice.
udp_burst() {
	local label=$1 src=$2 dst=$3 addr=$4 pid file out good bad dup
	file=${label//[^A-Za-z0-9]/_}
	BULK_PORT=$((BULK_PORT + 1))
	start_bg pid "$WGT_DIR/logs/$file.udp.log" ip netns exec "$dst" python3 "$UDP_CHECK" recv "$addr" "$BULK_PORT"
	wait_for 10 bash -c "ip netns exec '$dst' ss -Huln 'sport = :$BULK_PORT' | grep -q ." ||
		die "$label: receiver did not start: $(cat "$WGT_DIR/logs/$file.udp.log")"
	ip netns exec "$src" python3 "$UDP_CHECK" send "$addr" "$BULK_PORT" "$BULK_UDP" ||
		fail "$label: sending"
	wait_for 40 bash -c "! kill -0 $pid 2>/dev/null" || fail "$label: receiver still running after 40 s"
	out=$(cat "$WGT_DIR/logs/$file.udp.log")
	log "# $label: $BULK_UDP datagrams sent, received: $out"
	good=$(sed -n 's/.*good=\([0-9]*\).*/\1/p' <<<"$out")
	bad=$(sed -n 's/.*bad=\([0-9]*\).*/\1/p' <<<"$out")
	dup=$(sed -n 's/.*dup=\([0-9]*\).*/\1/p' <<<"$out")
	expect_eq "$label: no datagram arrived changed" 0 "$bad"
	expect_eq "$label: no datagram arrived twice" 0 "$dup"
	# Loss is allowed (UDP), but most must get through or nothing was tested.
	expect_num "$label: datagrams received" "${good:-0}" ">=" "$((BULK_UDP / 4))"
}

step "UDP bursts of $BULK_UDP numbered datagrams, every byte checked"
udp_burst "UDP A->B inner IPv4" "$NS_A" "$NS_B" "$IN4_B"
udp_burst "UDP B->A inner IPv4" "$NS_B" "$NS_A" "$IN4_A"
udp_burst "UDP A->B inner IPv6" "$NS_A" "$NS_B" "$IN6_B"
udp_burst "UDP B->A inner IPv6" "$NS_B" "$NS_A" "$IN6_A"
expect_daemons_alive

# The offloads must have been at work, not just allowed: wgated logs its
# counters at exit. UDP datagrams go into TUN super-packets from Linux 6.2
# (USO); GRO is not checked (it depends on the veth's NAPI mode).
kernel_has_uso() {
	local major minor
	IFS=. read -r major minor _ <<<"$(uname -r)"
	((major > 6 || (major == 6 && minor >= 2)))
}
step "the offload data path was used (wgated's counters at exit)"
if [[ ${WGATE_OFFLOAD:-1} == 0 ]]; then
	log "# WGATE_OFFLOAD=0: not checked"
else
	for ifname in "${WGT_DAEMONS[@]}"; do
		[[ ${WGT_DAEMON_IMPL[$ifname]} == wgated && -n ${WGT_DAEMON_PID[$ifname]} ]] || continue
		stop_pid "${WGT_DAEMON_PID[$ifname]}"
		WGT_DAEMON_PID[$ifname]=""
		line=$(grep -o 'Offload: .*' "${WGT_DAEMON_LOG[$ifname]}" | tail -n 1)
		log "# $ifname: $line"
		read -r split tcp udp gso <<<"$(sed -n 's/^Offload: \([0-9]*\) TUN super-packets split; \([0-9]*\) TCP segments and \([0-9]*\) UDP datagrams merged.*; \([0-9]*\) datagrams sent by UDP GSO.*/\1 \2 \3 \4/p' <<<"$line")"
		expect_num "$ifname: TCP super-packets from the TUN segmented" "${split:-0}" ">" 0
		expect_num "$ifname: TCP segments merged into TUN super-packets" "${tcp:-0}" ">" 0
		expect_num "$ifname: datagrams sent in UDP GSO runs" "${gso:-0}" ">" 0
		if kernel_has_uso; then
			expect_num "$ifname: UDP datagrams merged into TUN super-packets (USO)" "${udp:-0}" ">" 0
		fi
	done
fi
