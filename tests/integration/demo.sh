#!/usr/bin/env bash
# demo: the lab story, end to end, in network namespaces. `sudo make demo`
# runs it narrated (DEMO_NARRATE=1); CTest runs the same script as a test.
#
#   laptop (203.0.113.50) --- WAN --- nat (203.0.113.1 | 192.168.88.1) --- LAN 192.168.88.0/24
#                                      forwards UDP 51820 to gw             |-- gw  192.168.88.2 (wgated --config)
#                                                                           '-- vm  192.168.88.10 (HTTP page)
#
# The laptop runs the stock wireguard-go, configured from the file that
# `wgate peer add laptop` exported (applied with `wg setconf` after
# `wg-quick strip`, addresses and routes from the file), and reaches the VM
# through the tunnel as if it were on the LAN. Everything lives in namespaces
# this script creates and is removed at the end, also on Ctrl-C.
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

need wg wg-quick nft python3 zbarimg
[[ $IMPL_A == wgated ]] || die "demo.sh runs wgated's gateway mode: IMPL_A must be wgated"
WGATED=$(impl_bin wgated)
WGATE=${WGATE:-$WGT_SRC_DIR/build/bin/wgate}
[[ -x $WGATE ]] || die "wgate not found at '$WGATE' (build it, or set WGATE=/path/to/wgate)"
NARRATE=${DEMO_NARRATE:-0}

# wgated keeps what it changed on the host in /run/wgate/IFNAME.state.
eval "$(declare -f wgt_cleanup | sed '1s/^wgt_cleanup /demo_lib_cleanup /')"
wgt_cleanup() {
	demo_lib_cleanup
	[[ -n ${WGT_PFX:-} ]] && rm -f "/run/wgate/$WGT_PFX"*.state
	return 0
}

say() {
	if [[ $NARRATE == 1 ]]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else step "$*"; fi
}
show() { # show CMD...: runs CMD, printing it and its output (indented)
	printf '  $ %s\n' "$*"
	"$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}

# ---------------------------------------------------------------- the lab
say "Building the lab: a NAT router, the lab LAN with a VM and the gateway VM, and a laptop outside"
make_ns NS_NAT nat
make_ns NS_GW gw
make_ns NS_VM vm
make_ns NS_LP laptop
BR=$(name br) V_NG=$(name ng) V_GN=$(name gn) V_NV=$(name nv) V_VN=$(name vn) V_NW=$(name nw) V_LW=$(name lw)
IF_G=$(name g) IF_L=$(name l)
ip -n "$NS_NAT" link add "$BR" type bridge
ip -n "$NS_NAT" link set "$BR" up
veth "$NS_NAT" "$V_NG" "$NS_GW" "$V_GN"
veth "$NS_NAT" "$V_NV" "$NS_VM" "$V_VN"
ip -n "$NS_NAT" link set "$V_NG" master "$BR"
ip -n "$NS_NAT" link set "$V_NV" master "$BR"
veth "$NS_NAT" "$V_NW" "$NS_LP" "$V_LW"
addr "$NS_NAT" "$BR" 192.168.88.1/24
addr "$NS_NAT" "$V_NW" 203.0.113.1/24
addr "$NS_GW" "$V_GN" 192.168.88.2/24
addr "$NS_VM" "$V_VN" 192.168.88.10/24
addr "$NS_LP" "$V_LW" 203.0.113.50/24
ip -n "$NS_GW" route add default via 192.168.88.1
ip -n "$NS_VM" route add default via 192.168.88.1
# The router: forwarding, masquerade out of the WAN, UDP 51820 forwarded to the gateway VM.
ip netns exec "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NS_NAT" nft -f - <<EOF
table ip demo-nat {
	chain prerouting { type nat hook prerouting priority dstnat; iifname "$V_NW" udp dport 51820 dnat to 192.168.88.2:51820; }
	chain postrouting { type nat hook postrouting priority srcnat; oifname "$V_NW" masquerade; }
}
EOF
log "  nat:    WAN 203.0.113.1, LAN 192.168.88.1, UDP 51820 -> 192.168.88.2"
log "  gw:     192.168.88.2 (the lab VM that runs wgated)"
log "  vm:     192.168.88.10 (serves a small web page)"
log "  laptop: 203.0.113.50, outside, with the stock wireguard-go"

# The VM's web page.
mkdir -p "$WGT_DIR/www"
printf 'Hello from the lab VM 192.168.88.10\n' >"$WGT_DIR/www/index.html"
start_bg HTTP_PID "$WGT_DIR/logs/http.log" ip netns exec "$NS_VM" \
	python3 -m http.server 80 --bind 192.168.88.10 --directory "$WGT_DIR/www"
wait_for 10 bash -c "ip netns exec $NS_VM ss -Hltn 'sport = :80' | grep -q ." || die "the VM's web server did not start"

# ---------------------------------------------------------------- the gateway
say "Starting the gateway from one YAML file: wgated --config gateway.yaml"
CFG_DIR="$WGT_DIR/gw"
mkdir -p "$CFG_DIR/keys"
chmod 700 "$CFG_DIR/keys"
GW_YAML="$CFG_DIR/gateway.yaml"
cat >"$GW_YAML" <<EOF
# The demo lab's gateway (see config/gateway.yaml for every field).
interface:
  name: $IF_G
  private_key_file: keys/gateway.key
  listen_port: 51820
  addresses: [10.8.0.1/24]
gateway:
  public_endpoint: 203.0.113.1:51820
  lan_routes: [192.168.88.0/24]
  masquerade: true
  persistent_keepalive: 25
peers: []
EOF
[[ $NARRATE == 1 ]] && sed 's/^/    /' "$GW_YAML"
GW_LOG="$WGT_DIR/logs/$IF_G.wgated.log"
ip netns exec "$NS_GW" env --default-signal LOG_LEVEL=verbose "$WGATED" -f --config "$GW_YAML" \
	</dev/null >"$GW_LOG" 2>&1 &
WGT_DAEMON_PID[$IF_G]=$!
WGT_DAEMON_LOG[$IF_G]=$GW_LOG
WGT_DAEMON_IMPL[$IF_G]=wgated
WGT_DAEMON_NS[$IF_G]=$NS_GW
WGT_DAEMONS+=("$IF_G")
expect_ok "the gateway is up (addresses, forwarding, nftables table)" wait_for 10 grep -q "Gateway $IF_G is up" "$GW_LOG"
[[ $NARRATE == 1 ]] && grep -E "Generated|Set net|nftables|Gateway" "$GW_LOG" | sed 's/^/    /'

# ---------------------------------------------------------------- the laptop's config
say "Adding the laptop: wgate peer add laptop (keys, next free address, config and QR code)"
LAPTOP_CONF="$WGT_DIR/$IF_L.conf"
LAPTOP_PNG="$WGT_DIR/laptop.png"
expect_ok "wgate peer add laptop --out laptop.conf --qr-png laptop.png" \
	ip netns exec "$NS_GW" "$WGATE" -i "$IF_G" peer add laptop --out "$LAPTOP_CONF" --qr-png "$LAPTOP_PNG"
expect_eq "the client config is private (mode 600)" 600 "$(stat -c %a "$LAPTOP_CONF")"
if [[ $NARRATE == 1 ]]; then
	sed -e 's/^\(PrivateKey = \).*/\1(hidden here; in laptop.conf)/' -e 's/^/    /' "$LAPTOP_CONF"
fi
say "The same config as a QR code for the WireGuard phone app: wgate export laptop --qr"
QR=$(ip netns exec "$NS_GW" "$WGATE" -i "$IF_G" export laptop --private-key-file "$LAPTOP_CONF" --qr 2>&1)
[[ $NARRATE == 1 ]] && printf '%s\n' "$QR" | sed 's/^/  /'
expect_match "wgate export --qr prints a QR code (UTF-8 blocks)" "█" "$QR"
expect_ok "wg-quick accepts the file (wg-quick strip)" wg-quick strip "$LAPTOP_CONF"
expect_eq "the PNG QR code decodes to exactly the file" "$(cat "$LAPTOP_CONF")" "$(zbarimg --raw -q "$LAPTOP_PNG" 2>/dev/null)"
expect_ok "the gateway saved the peer with its name to gateway.yaml" wait_for 5 grep -q "name: laptop" "$GW_YAML"

# ---------------------------------------------------------------- the laptop connects
say "The laptop: stock wireguard-go, configured from laptop.conf (wg setconf after wg-quick strip)"
start_impl "$NS_LP" wireguard-go "$IF_L"
wg-quick strip "$LAPTOP_CONF" >"$WGT_DIR/laptop.stripped"
expect_ok "wg setconf with the stripped file" ip netns exec "$NS_LP" wg setconf "$IF_L" "$WGT_DIR/laptop.stripped"
for a in $(sed -n 's/^Address *= *//p' "$LAPTOP_CONF" | tr ',' ' '); do addr "$NS_LP" "$IF_L" "$a"; done
ip -n "$NS_LP" link set "$IF_L" up
for r in $(sed -n 's/^AllowedIPs *= *//p' "$LAPTOP_CONF" | tr ',' ' '); do
	ip -n "$NS_LP" route replace "$r" dev "$IF_L"
done
[[ $NARRATE == 1 ]] && ip -n "$NS_LP" route | sed 's/^/    /'

say "From the laptop: ping the lab VM and fetch its web page through the tunnel"
expect_ok "laptop -> gateway 10.8.0.1 through the tunnel" ping_ok "$NS_LP" 10.8.0.1
if [[ $NARRATE == 1 ]]; then
	show ip netns exec "$NS_LP" ping -n -c 3 -i 0.3 192.168.88.10 || true
fi
expect_ok "laptop -> VM 192.168.88.10 (ping)" ping_ok "$NS_LP" 192.168.88.10
PAGE=$(ip netns exec "$NS_LP" python3 -c '
import urllib.request, sys
print(urllib.request.urlopen("http://192.168.88.10/", timeout=5).read().decode().strip())' 2>&1 || true)
[[ $NARRATE == 1 ]] && printf '  $ curl http://192.168.88.10/\n    %s\n' "$PAGE"
expect_eq "laptop fetches the VM's page over HTTP" "Hello from the lab VM 192.168.88.10" "$PAGE"
expect_match "the VM saw the gateway's LAN address (masquerade: no route back needed)" \
	"192.168.88.2" "$(cat "$WGT_DIR/logs/http.log")"

say "wgate show: the gateway's view"
SHOW=$(ip netns exec "$NS_GW" "$WGATE" -i "$IF_G" show 2>&1)
[[ $NARRATE == 1 ]] && printf '%s\n' "$SHOW" | sed 's/^/    /'
expect_match "wgate show names the laptop" "laptop" "$SHOW"
expect_match "wgate show reports a handshake" "latest handshake" "$SHOW"

say "Tearing the lab down"
kill -TERM "${WGT_DAEMON_PID[$IF_G]}"
expect_ok "wgated exits and undoes its changes" wait_for 10 bash -c "! kill -0 ${WGT_DAEMON_PID[$IF_G]} 2>/dev/null"
forget_daemon "$IF_G"
expect_eq "wgated exit status" 0 "$DAEMON_STATUS"

if ((WGT_FAILED == 0)); then
	printf '\nDEMO SUCCESS: the laptop reached the lab VM through wgate (%s s)\n' "$((SECONDS - WGT_T0))"
else
	printf '\nDEMO FAILED: %s check(s) failed; the logs are above\n' "$WGT_FAILED"
fi
