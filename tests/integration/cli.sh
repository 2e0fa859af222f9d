#!/usr/bin/env bash
# cli: the `wgate` peer commands against a real wgated in gateway mode:
#   - peer add takes the next free pool addresses, writes a 0600 config, and the
#     gateway saves the named peer to its YAML file
#   - peer disable keeps the peer (and its address) in the file with
#     `disabled: true` but removes it from the running interface; enable brings
#     it back; both survive a restart
#   - rename and remove reach the file; peer list shows state
#   - in gateway mode the daemon refuses (and logs) what its file could not
#     hold: a bad name, an address outside the pool (also from the stock wg)
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

[[ $IMPL_A == wgated ]] || die "cli.sh runs wgated's gateway mode: IMPL_A must be wgated"
WGATED=$(impl_bin wgated)
WGATE=${WGATE:-$WGT_SRC_DIR/build/bin/wgate}
[[ -x $WGATE ]] || die "wgate not found at '$WGATE' (build it, or set WGATE=/path/to/wgate)"

eval "$(declare -f wgt_cleanup | sed '1s/^wgt_cleanup /cli_lib_cleanup /')"
wgt_cleanup() {
	cli_lib_cleanup
	[[ -n ${WGT_PFX:-} ]] && rm -f "/run/wgate/$WGT_PFX"*.state
	return 0
}

make_ns NS_G gw
IF_G=$(name g)
CFG="$WGT_DIR/gw"
mkdir -p "$CFG/keys"
chmod 700 "$CFG/keys"
YAML="$CFG/gateway.yaml"
cat >"$YAML" <<EOF
interface:
  name: $IF_G
  listen_port: 51820
  addresses: [203.0.113.1/24, 'fd00:8::1/64']
gateway:
  public_endpoint: 198.51.100.1:51820
peers: []
EOF
GW_LOG="$WGT_DIR/logs/$IF_G.wgated.log"

start_gw() {
	printf -- '----- start\n' >>"$GW_LOG"
	ip netns exec "$NS_G" env --default-signal LOG_LEVEL=verbose "$WGATED" -f --config "$YAML" \
		</dev/null >>"$GW_LOG" 2>&1 &
	WGT_DAEMON_PID[$IF_G]=$!
	WGT_DAEMON_LOG[$IF_G]=$GW_LOG
	WGT_DAEMON_IMPL[$IF_G]=wgated
	WGT_DAEMON_NS[$IF_G]=$NS_G
	[[ " ${WGT_DAEMONS[*]} " == *" $IF_G "* ]] || WGT_DAEMONS+=("$IF_G")
	wait_for 10 bash -c "[[ -S $(sock_path "$IF_G") ]] && ip netns exec $NS_G wg show $IF_G >/dev/null 2>&1" ||
		die "wgated --config did not come up: $(tail -n 20 "$GW_LOG")"
}
stop_gw() {
	kill -TERM "${WGT_DAEMON_PID[$IF_G]}"
	wait_for 10 bash -c "! kill -0 ${WGT_DAEMON_PID[$IF_G]} 2>/dev/null" || die "wgated did not stop"
	forget_daemon "$IF_G"
}
wgate() { ip netns exec "$NS_G" "$WGATE" -i "$IF_G" "$@"; }
allowed() { wg_show "$NS_G" "$IF_G" allowed-ips; }
saved() { grep -q -- "$1" "$YAML"; }

start_gw

step "peer add"
expect_ok "wgate peer add alice" wgate peer add alice --out "$WGT_DIR/alice.conf"
expect_ok "wgate peer add bob" wgate peer add bob --out "$WGT_DIR/bob.conf"
expect_eq "alice's config is mode 600" 600 "$(stat -c %a "$WGT_DIR/alice.conf")"
expect_match "alice got the first free addresses of both pools" "Address = 203.0.113.2/32, fd00:8::2/128" \
	"$(cat "$WGT_DIR/alice.conf")"
expect_match "bob got the next ones" "Address = 203.0.113.3/32, fd00:8::3/128" "$(cat "$WGT_DIR/bob.conf")"
expect_ok "the gateway saved both names" wait_for 5 bash -c "grep -q 'name: alice' '$YAML' && grep -q 'name: bob' '$YAML'"
ALICE=$(sed -n 's/^PrivateKey = //p' "$WGT_DIR/alice.conf" | wg pubkey)
has_line() { grep -qF -- "$1" <<<"$(allowed)"; }  # keys hold '+' and '/': no regex
expect_ok "the running interface has alice" has_line "$ALICE"
expect_fail "the client's private key is not in the gateway's file" \
	grep -qF -- "$(sed -n 's/^PrivateKey = //p' "$WGT_DIR/alice.conf")" "$YAML"

step "peer disable / enable"
expect_ok "wgate peer disable alice" wgate peer disable alice
expect_fail "alice is gone from the running interface" has_line "$ALICE"
expect_ok "the file keeps alice, disabled" wait_for 5 bash -c "grep -A4 'name: alice' '$YAML' | grep -q 'disabled: true'"
expect_match "peer list shows alice disabled" "alice .*disabled" "$(wgate peer list)"
OUT=$(wgate peer add carol --out "$WGT_DIR/carol.conf" && cat "$WGT_DIR/carol.conf")
expect_match "a disabled peer's address stays reserved (carol gets .4)" "203.0.113.4/32" "$OUT"
stop_gw
start_gw
expect_fail "after a restart alice is still disabled" has_line "$ALICE"
expect_ok "wgate peer enable alice" wgate peer enable alice
expect_ok "alice is back with her address" has_line "$ALICE	203.0.113.2/32 fd00:8::2/128"
expect_ok "the file says alice is enabled" wait_for 5 bash -c "! grep -A4 'name: alice' '$YAML' | grep -q 'disabled: true'"

step "rename / remove / list"
expect_ok "wgate peer rename bob bobby" wgate peer rename bob bobby
expect_ok "the file has the new name" wait_for 5 saved "name: bobby"
expect_ok "wgate peer remove bobby" wgate peer remove bobby
expect_ok "the file forgets bobby" wait_for 5 bash -c "! grep -q 'name: bobby' '$YAML'"
expect_match "peer list: alice and carol" "alice.*carol|carol.*alice" "$(wgate peer list | tr '\n' ' ')"

step "gateway mode refuses what its file could not hold"
RC=0
wgate peer add 'bad name' >/dev/null 2>&1 || RC=$?
expect_eq "a name with a space: exit code 2" 2 "$RC"
expect_ok "the daemon logs why" grep -q "Refused a change.*peer name 'bad name'" "$GW_LOG"
expect_fail "stock wg: an address outside the pool is refused" \
	wg_set "$NS_G" "$IF_G" peer "$(wg genkey | wg pubkey)" allowed-ips 198.18.9.9/32
expect_ok "the daemon logs why" grep -q "Refused a change.*outside the address pool" "$GW_LOG"
expect_ok "the file stays valid" "$WGATED" --check-config "$YAML"

stop_gw
expect_eq "wgated exit status" 0 "$DAEMON_STATUS"
