#!/usr/bin/env bash
# largeconfig: large configurations through the UAPI socket, on side A's
# daemon (IMPL_A) and on side B's (IMPL_B):
#   - `wg setconf` of one peer with 130,000 allowed IPs (65,000 distinct /32s
#     and 65,000 distinct /128s); `wg showconf` gives back exactly that set
#   - `wg setconf` of 40 peers x 52 allowed IPs (replacing the big peer);
#     `wg showconf` gives back exactly those 40 peers and their sets
# Times are printed, not asserted.
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

BIG_V4=${BIG_V4:-65000}
BIG_V6=${BIG_V6:-65000}
MANY_PEERS=40
PER_PEER=52

# gen_conf OUT PRIVKEY_FILE PORT big|many PUBKEY...: writes a wg config file
# and OUT.expect (one line per peer: "pubkey prefix prefix ...").
gen_conf() {
	python3 - "$@" <<-'EOF'
		import ipaddress, sys
		out, keyfile, port, mode, *pubs = sys.argv[1:]
		v4 = ipaddress.IPv4Address("198.18.0.0")      # 198.18.0.0/15: 131072 addresses
		v6 = ipaddress.IPv6Address("fd00:0:200::")
		def prefixes(start4, n4, start6, n6):
		    return ([f"{v4 + start4 + i}/32" for i in range(n4)] +
		            [f"{v6 + start6 + i}/128" for i in range(n6)])
		peers = []
		if mode == "big":
		    n4, n6 = int(pubs[1]), int(pubs[2])
		    peers.append((pubs[0], prefixes(0, n4, 0, n6)))
		else:
		    per = int(pubs[0])
		    for k, pub in enumerate(pubs[1:]):
		        h = per // 2
		        peers.append((pub, prefixes(k * 256, h, k * 65536, per - h)))
		with open(keyfile) as f:
		    priv = f.read().strip()
		with open(out, "w") as f, open(out + ".expect", "w") as e:
		    f.write(f"[Interface]\nPrivateKey = {priv}\nListenPort = {port}\n")
		    for pub, pfx in peers:
		        f.write(f"\n[Peer]\nPublicKey = {pub}\n")
		        for i in range(0, len(pfx), 1000):
		            f.write("AllowedIPs = " + ", ".join(pfx[i:i + 1000]) + "\n")
		        e.write(pub + " " + " ".join(pfx) + "\n")
	EOF
}

# compare_conf SHOWCONF EXPECT: same peers, each with exactly the same set.
compare_conf() {
	python3 - "$1" "$2" <<-'EOF'
		import sys
		got, peer = {}, None
		for line in open(sys.argv[1]):
		    k, _, v = (x.strip() for x in line.partition("="))
		    if line.startswith("[Peer]"):
		        peer = None
		    elif k == "PublicKey":
		        peer = v
		        got[peer] = set()
		    elif k == "AllowedIPs" and peer:
		        got[peer].update(p.strip() for p in v.split(",") if p.strip())
		want = {}
		for line in open(sys.argv[2]):
		    pub, *pfx = line.split()
		    want[pub] = set(pfx)
		n = sum(len(s) for s in got.values())
		print(f"peers={len(got)} allowed_ips={n}")
		if got.keys() != want.keys():
		    sys.exit(f"peer sets differ: {len(got)} reported, {len(want)} configured")
		for pub in want:
		    if got[pub] != want[pub]:
		        sys.exit(f"peer {pub}: {len(got[pub])} allowed IPs reported, {len(want[pub])} configured, "
		                 f"{len(want[pub] - got[pub])} missing, {len(got[pub] - want[pub])} extra")
	EOF
}

now_ns() { date +%s%N; }
secs() { awk -v d="$1" 'BEGIN { printf "%.2f", d / 1e9 }'; }

run_side() { # run_side LABEL NS IMPL IFNAME KEYNAME PORT
	local label=$1 ns=$2 impl=$3 ifname=$4 key=$5 port=$6 conf t0 t1 t2 res big_pub pubs=() i k
	start_impl "$ns" "$impl" "$ifname"

	step "$label ($impl): one peer with $((BIG_V4 + BIG_V6)) allowed IPs"
	conf="$WGT_DIR/$ifname.big.conf"
	genkey "big$label"
	big_pub=$(pub "big$label")
	gen_conf "$conf" "$(keyfile "$key")" "$port" big "$big_pub" "$BIG_V4" "$BIG_V6"
	log "# config: $(wc -c <"$conf") bytes"
	t0=$(now_ns)
	expect_ok "$label: wg setconf (1 peer, $((BIG_V4 + BIG_V6)) allowed IPs)" timeout 120 ip netns exec "$ns" wg setconf "$ifname" "$conf"
	t1=$(now_ns)
	timeout 120 ip netns exec "$ns" wg showconf "$ifname" >"$conf.show" 2>&1 || true
	t2=$(now_ns)
	log "# time $label $impl: setconf $(secs $((t1 - t0))) s, showconf $(secs $((t2 - t1))) s (130k allowed IPs)"
	if res=$(compare_conf "$conf.show" "$conf.expect" 2>&1); then
		pass "$label: wg showconf round-trips the big peer ($res)"
	else
		fail "$label: wg showconf round-trips the big peer" "$res"
	fi
	expect_eq "$label: listen port" "$port" "$(wg_show "$ns" "$ifname" listen-port)"

	step "$label ($impl): $MANY_PEERS peers x $PER_PEER allowed IPs (replaces the big peer)"
	conf="$WGT_DIR/$ifname.many.conf"
	for ((i = 0; i < MANY_PEERS; i++)); do
		k="p$label$i"
		genkey "$k"
		pubs+=("$(pub "$k")")
	done
	gen_conf "$conf" "$(keyfile "$key")" "$port" many "$PER_PEER" "${pubs[@]}"
	t0=$(now_ns)
	expect_ok "$label: wg setconf ($MANY_PEERS peers x $PER_PEER allowed IPs)" timeout 120 ip netns exec "$ns" wg setconf "$ifname" "$conf"
	t1=$(now_ns)
	timeout 120 ip netns exec "$ns" wg showconf "$ifname" >"$conf.show" 2>&1 || true
	t2=$(now_ns)
	log "# time $label $impl: setconf $(secs $((t1 - t0))) s, showconf $(secs $((t2 - t1))) s ($MANY_PEERS x $PER_PEER)"
	if res=$(compare_conf "$conf.show" "$conf.expect" 2>&1); then
		pass "$label: wg showconf round-trips $MANY_PEERS peers, the big one gone ($res)"
	else
		fail "$label: wg showconf round-trips $MANY_PEERS peers, the big one gone" "$res"
	fi
	expect_eq "$label: wg show peers counts $MANY_PEERS" "$MANY_PEERS" "$(wg_show "$ns" "$ifname" peers | wc -l)"
}

make_ns NS_A a
make_ns NS_B b
genkey a
genkey b
run_side A "$NS_A" "$IMPL_A" "$(name a)" a 51820
run_side B "$NS_B" "$IMPL_B" "$(name b)" b 51821
expect_daemons_alive
