// wgate doctor: the nftables reading, /proc parsing and every check on
// canned facts. (tests/integration/doctor.sh stages each problem for real.)
#include "wgate/cli/doctor.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_test_util.hpp"

namespace wgate::cli {
namespace {

using nlohmann::json;

// `nft -j list ruleset` (nftables 1.0.6) of:
//   table inet filter {
//     set ports { type inet_service; elements = { 51820, 51821 } }
//     chain input { type filter hook input priority 0; policy drop;
//       iifname "lo" accept; ct state established,related accept; ct state invalid drop
//       tcp dport 22 accept; udp dport 51820 counter drop            # handle 8
//       udp dport { 1000-2000, 51822 } reject                         # handle 10
//       meta l4proto udp th dport @ports drop                         # handle 11
//       ip saddr 10.0.0.0/8 udp dport 51820 drop; jump other }
//     chain other { udp dport 51820 accept } }
//   table ip nat { chain postrouting { type nat hook postrouting priority srcnat;
//     oifname "eth0" ip saddr 10.8.0.0/24 masquerade } }
const char* kRuleset = R"nft({"nftables":[{"metainfo":{"version":"1.0.6","json_schema_version":1}},{"table":{"family":"inet","name":"filter","handle":1}},{"set":{"family":"inet","name":"ports","table":"filter","type":"inet_service","handle":3,"elem":[51820,51821]}},{"chain":{"family":"inet","table":"filter","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},{"chain":{"family":"inet","table":"filter","name":"other","handle":2}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":4,"expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"lo"}},{"accept":null}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":5,"expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":6,"expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":"invalid"}},{"drop":null}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":7,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":22}},{"accept":null}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":8,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":51820}},{"counter":{"packets":0,"bytes":0}},{"drop":null}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":10,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":{"set":[{"range":[1000,2000]},51822]}}},{"reject":{"type":"icmpx","expr":"port-unreachable"}}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":11,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":"@ports"}},{"drop":null}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":12,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"10.0.0.0","len":8}}}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":51820}},{"drop":null}]}},{"rule":{"family":"inet","table":"filter","chain":"input","handle":13,"expr":[{"jump":{"target":"other"}}]}},{"rule":{"family":"inet","table":"filter","chain":"other","handle":14,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":51820}},{"accept":null}]}},{"table":{"family":"ip","name":"nat","handle":2}},{"chain":{"family":"ip","table":"nat","name":"postrouting","handle":1,"type":"nat","hook":"postrouting","prio":100,"policy":"accept"}},{"rule":{"family":"ip","table":"nat","chain":"postrouting","handle":2,"expr":[{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"eth0"}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"10.8.0.0","len":24}}}},{"masquerade":null}]}}]})nft";

json chain(const std::string& name, const std::string& hook = "", const std::string& policy = "accept") {
    json c = {{"family", "inet"}, {"table", "t"}, {"name", name}, {"handle", 1}};
    if (!hook.empty()) {
        c["type"] = "filter";
        c["hook"] = hook;
        c["prio"] = 0;
        c["policy"] = policy;
    }
    return {{"chain", c}};
}

json rule(const std::string& chain_name, int handle, json expr) {
    return {{"rule", {{"family", "inet"}, {"table", "t"}, {"chain", chain_name}, {"handle", handle}, {"expr", expr}}}};
}

json udp_dport(json value) {
    return {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "udp"}, {"field", "dport"}}}}}, {"right", value}}}};
}

json verdict(const std::string& v) { return {{v, nullptr}}; }

json ruleset(std::initializer_list<json> items) {
    json list = json::array({{{"metainfo", {{"json_schema_version", 1}}}}, {{"table", {{"family", "inet"}, {"name", "t"}}}}});
    for (const json& i : items) list.push_back(i);
    return {{"nftables", list}};
}

TEST(CliDoctorNft, FindsTheDropRuleOfTheListenPort) {
    const json rs = json::parse(kRuleset);
    auto blocks = nft_blocks_udp_port(rs, 51820);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_TRUE(blocks[0].certain);
    EXPECT_EQ(blocks[0].where, "table inet filter chain input");
    EXPECT_EQ(blocks[0].what, "rule handle 8 drops UDP port 51820");
    EXPECT_NE(blocks[0].fix.find("nft delete rule inet filter input handle 8"), std::string::npos);
    // Named sets, anonymous sets with ranges, reject.
    blocks = nft_blocks_udp_port(rs, 51821);
    ASSERT_FALSE(blocks.empty());
    EXPECT_EQ(blocks[0].what, "rule handle 11 drops UDP port 51821");
    blocks = nft_blocks_udp_port(rs, 1500);
    ASSERT_FALSE(blocks.empty());
    EXPECT_EQ(blocks[0].what, "rule handle 10 drops UDP port 1500");
    // Nothing matches: the chain's policy drops it.
    blocks = nft_blocks_udp_port(rs, 40000);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].what.rfind("policy drop", 0), 0u);
    EXPECT_NE(blocks[0].fix.find("nft insert rule inet filter input udp dport 40000 accept"), std::string::npos);
    EXPECT_TRUE(nft_has_masquerade(rs));
}

TEST(CliDoctorNft, AnAcceptBeforeTheDropPolicyLetsItIn) {
    const json rs = ruleset({chain("input", "input", "drop"), rule("input", 2, {udp_dport(51820), verdict("accept")})});
    EXPECT_TRUE(nft_blocks_udp_port(rs, 51820).empty());
    EXPECT_EQ(nft_blocks_udp_port(rs, 51821).size(), 1u);
    EXPECT_FALSE(nft_has_masquerade(rs));
}

TEST(CliDoctorNft, OtherProtocolsAndStatesDoNotMatch) {
    const json tcp = {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "tcp"}, {"field", "dport"}}}}}, {"right", 51820}}}};
    const json established = {{"match", {{"op", "in"}, {"left", {{"ct", {{"key", "state"}}}}}, {"right", json::array({"established"})}}}};
    const json from_lo = {{"match", {{"op", "=="}, {"left", {{"meta", {{"key", "iifname"}}}}}, {"right", "lo"}}}};
    const json rs = ruleset({chain("input", "input"), rule("input", 2, {tcp, verdict("drop")}),
                             rule("input", 3, {established, verdict("drop")}), rule("input", 4, {from_lo, verdict("drop")})});
    EXPECT_TRUE(nft_blocks_udp_port(rs, 51820).empty());
    // "ct state new" does match a client's first handshake.
    const json is_new = {{"match", {{"op", "in"}, {"left", {{"ct", {{"key", "state"}}}}}, {"right", "new"}}}};
    EXPECT_EQ(nft_blocks_udp_port(ruleset({chain("input", "input"), rule("input", 2, {is_new, verdict("drop")})}), 51820).size(), 1u);
}

TEST(CliDoctorNft, ConditionsItCannotEvaluateMakeAWarning) {
    const json saddr = {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "ip"}, {"field", "saddr"}}}}},
                                   {"right", {{"prefix", {{"addr", "10.0.0.0"}, {"len", 8}}}}}}}};
    const json rs = ruleset({chain("input", "input"), rule("input", 5, {saddr, udp_dport(51820), verdict("drop")})});
    const auto blocks = nft_blocks_udp_port(rs, 51820);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_FALSE(blocks[0].certain);
    EXPECT_NE(blocks[0].what.find("for some packets"), std::string::npos);
}

TEST(CliDoctorNft, FollowsJumpsAndGotos) {
    const json rs = ruleset({chain("input", "input"), chain("wg"), rule("input", 2, {{{"jump", {{"target", "wg"}}}}}),
                             rule("wg", 3, {udp_dport(json{{"range", {51000, 52000}}}), verdict("drop")})});
    const auto blocks = nft_blocks_udp_port(rs, 51820);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].where, "table inet t chain wg");
    // A jump loop ends.
    const json loop = ruleset({chain("input", "input"), chain("a"), rule("input", 2, {{{"jump", {{"target", "a"}}}}}),
                               rule("a", 3, {{{"jump", {{"target", "a"}}}}})});
    EXPECT_TRUE(nft_blocks_udp_port(loop, 51820).empty());
}

TEST(CliDoctorNft, PreroutingCountsAndOutputDoesNot) {
    EXPECT_EQ(nft_blocks_udp_port(ruleset({chain("pre", "prerouting"), rule("pre", 2, {udp_dport(51820), verdict("drop")})}), 51820).size(), 1u);
    EXPECT_TRUE(nft_blocks_udp_port(ruleset({chain("out", "output"), rule("out", 2, {udp_dport(51820), verdict("drop")})}), 51820).empty());
}

TEST(CliDoctorProc, BoundUdpPorts) {
    const std::string udp =
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
        "  123: 00000000:CA6C 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40817 2 0000000000000000 0\n"
        "  124: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40818 2 0000000000000000 0\n";
    const std::string udp6 =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
        "  5: 00000000000000000000000000000000:CA6D 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40819 2 0000000000000000 0\n";
    EXPECT_EQ(parse_proc_net_udp(udp), (std::set<unsigned>{51820, 53}));
    EXPECT_EQ(parse_proc_net_udp(udp6), (std::set<unsigned>{51821}));
    EXPECT_TRUE(parse_proc_net_udp("").empty());
}

// ---------------------------------------------------------------- checks

DeviceInfo device_with_peers() {
    test::FakeDaemon daemon;
    daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32\nendpoint=192.0.2.50:40000");
    return parse_get_reply(daemon.exchange("get=wgate\n\n"), "wg0");
}

HostFacts healthy_facts() {
    HostFacts f;
    f.ipv4_forwarding = true;
    f.ipv6_forwarding = true;
    f.tunnel = LinkFacts{"wg0", 1420, true};
    f.udp_ports = {51820};
    f.udp_ports_known = true;
    f.nft_known = true;
    f.masquerade_rule = true;
    f.egress = LinkFacts{"eth0", 1500, true};
    f.egress_source = "the default route";
    return f;
}

// A copy: callers pass the temporary result of run_checks.
std::optional<Finding> find(const std::vector<Finding>& findings, const std::string& check, Severity s) {
    for (const Finding& f : findings) {
        if (f.check == check && f.severity == s) return f;
    }
    return std::nullopt;
}

TEST(CliDoctorChecks, HealthyPlainDeviceHasOnlyTheHandshakeWarning) {
    const DeviceInfo d = device_with_peers();
    const auto findings = run_checks(d, healthy_facts());
    for (const Finding& f : findings) {
        if (f.check == "handshake") continue;
        EXPECT_EQ(f.severity, Severity::ok) << f.check << ": " << f.message;
    }
    const auto hs = find(findings, "handshake", Severity::warn);
    ASSERT_NE(hs, std::nullopt);
    EXPECT_NE(hs->message.find("peer laptop has never completed a handshake"), std::string::npos);
    EXPECT_NE(hs->message.find("none arrived"), std::string::npos);
    EXPECT_NE(render_findings(findings).find("0 problems, 1 warning\n"), std::string::npos);
}

TEST(CliDoctorChecks, ForwardingDisabled) {
    DeviceInfo d = device_with_peers();
    HostFacts f = healthy_facts();
    f.ipv4_forwarding = false;
    const auto w = find(run_checks(d, f), "forwarding", Severity::warn);  // plain mode: a warning
    ASSERT_NE(w, std::nullopt);
    EXPECT_NE(w->message.find("IPv4 forwarding is disabled"), std::string::npos);
    EXPECT_NE(w->fix.find("sysctl -w net.ipv4.ip_forward=1"), std::string::npos);
    d.mode = "gateway";
    d.masquerade = true;
    EXPECT_NE(find(run_checks(d, f), "forwarding", Severity::fail), std::nullopt);  // gateway: a failure
    // IPv6 only matters when something uses IPv6.
    f.ipv4_forwarding = true;
    f.ipv6_forwarding = false;
    EXPECT_EQ(find(run_checks(d, f), "forwarding", Severity::fail), std::nullopt);
    d.addresses.push_back(*InterfaceAddress::parse("fd42::1/64"));
    const auto v6 = find(run_checks(d, f), "forwarding", Severity::fail);
    ASSERT_NE(v6, std::nullopt);
    EXPECT_NE(v6->message.find("IPv6 forwarding is disabled"), std::string::npos);
}

TEST(CliDoctorChecks, MasqueradeAndReturnRoute) {
    DeviceInfo d = device_with_peers();
    HostFacts f = healthy_facts();
    f.masquerade_rule = false;
    const auto plain = find(run_checks(d, f), "masquerade", Severity::warn);
    ASSERT_NE(plain, std::nullopt);
    EXPECT_NE(plain->message.find("no masquerade rule"), std::string::npos);
    EXPECT_NE(plain->fix.find("masquerade"), std::string::npos);
    d.mode = "gateway";
    d.addresses = {*InterfaceAddress::parse("10.8.0.1/24")};
    d.masquerade = true;
    EXPECT_NE(find(run_checks(d, f), "masquerade", Severity::fail), std::nullopt);
    d.masquerade = false;
    const auto route = find(run_checks(d, f), "masquerade", Severity::warn);
    ASSERT_NE(route, std::nullopt);
    EXPECT_NE(route->fix.find("ip route add 10.8.0.0/24 via"), std::string::npos);
}

TEST(CliDoctorChecks, NothingBoundAndPortMismatch) {
    const DeviceInfo d = device_with_peers();
    HostFacts f = healthy_facts();
    f.udp_ports = {53};
    const auto nb = find(run_checks(d, f), "listen-port", Severity::fail);
    ASSERT_NE(nb, std::nullopt);
    EXPECT_NE(nb->message.find("nothing is bound to UDP port 51820"), std::string::npos);
    const auto mismatch = find(run_checks(d, healthy_facts(), "vpn.example.com:443"), "listen-port", Severity::warn);
    ASSERT_NE(mismatch, std::nullopt);
    EXPECT_NE(mismatch->fix.find("forward UDP 443 to 51820"), std::string::npos);
}

TEST(CliDoctorChecks, FirewallBlocks) {
    const DeviceInfo d = device_with_peers();
    HostFacts f = healthy_facts();
    f.firewall_blocks = {FirewallBlock{"table inet fw chain input", "rule handle 3 drops UDP port 51820", "nft delete ...", true},
                         FirewallBlock{"table inet fw chain input", "rule handle 4 ... for some packets", "...", false}};
    const auto findings = run_checks(d, f);
    const auto hard = find(findings, "firewall", Severity::fail);
    ASSERT_NE(hard, std::nullopt);
    EXPECT_EQ(hard->message, "table inet fw chain input: rule handle 3 drops UDP port 51820");
    EXPECT_NE(find(findings, "firewall", Severity::warn), std::nullopt);
    f.nft_known = false;
    f.firewall_blocks.clear();
    EXPECT_NE(find(run_checks(d, f), "firewall", Severity::warn), std::nullopt);
}

TEST(CliDoctorChecks, OverlappingAllowedIps) {
    test::FakeDaemon daemon;
    daemon.add_peer("name=wide\nallowed_ip=10.8.0.0/24");
    daemon.add_peer("name=narrow\nallowed_ip=10.8.0.5/32");
    const DeviceInfo d = parse_get_reply(daemon.exchange("get=wgate\n\n"), "wg0");
    const auto o = find(run_checks(d, healthy_facts()), "allowed-ips", Severity::fail);
    ASSERT_NE(o, std::nullopt);
    EXPECT_NE(o->message.find("allowed IPs of wide (10.8.0.0/24) and narrow (10.8.0.5/32) overlap"), std::string::npos)
        << o->message;
}

TEST(CliDoctorChecks, MtuLargerThanTheEgress) {
    const DeviceInfo d = device_with_peers();
    HostFacts f = healthy_facts();
    f.egress = LinkFacts{"veth0", 1400, true};
    f.egress_source = "the route to peer laptop";
    const auto m = find(run_checks(d, f), "mtu", Severity::fail);
    ASSERT_NE(m, std::nullopt);
    EXPECT_NE(m->message.find("tunnel MTU 1420 + 60 bytes of WireGuard overhead exceeds the MTU 1400 of veth0"),
              std::string::npos)
        << m->message;
    EXPECT_NE(m->fix.find("ip link set wg0 mtu 1340"), std::string::npos) << m->fix;
    f.egress_ipv6 = true;
    f.egress->mtu = 1500;
    EXPECT_EQ(find(run_checks(d, f), "mtu", Severity::fail), std::nullopt);  // 1420 + 80 = 1500 fits
    f.egress->mtu = 1499;
    EXPECT_NE(find(run_checks(d, f), "mtu", Severity::fail), std::nullopt);
}

TEST(CliDoctorChecks, NeverHandshakedPeersWithTheRejectionReason) {
    test::FakeDaemon daemon;
    daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32");
    DeviceInfo d = parse_get_reply(daemon.exchange("get=wgate\n\n"), "wg0");
    d.dropped["bad_mac1"] = 4;
    const auto h = find(run_checks(d, healthy_facts()), "handshake", Severity::fail);
    ASSERT_NE(h, std::nullopt);
    EXPECT_NE(h->message.find("bad_mac1 x4"), std::string::npos) << h->message;
    EXPECT_NE(h->fix.find(key_text(*d.public_key)), std::string::npos);
    d.peers[0].last_rejection = "unknown_peer";
    const auto h2 = find(run_checks(d, healthy_facts()), "handshake", Severity::fail);
    ASSERT_NE(h2, std::nullopt);
    EXPECT_NE(h2->message.find("last rejection: unknown_peer"), std::string::npos);
}

TEST(CliDoctorChecks, MissingKeyAndDownInterface) {
    DeviceInfo d = device_with_peers();
    d.public_key.reset();
    HostFacts f = healthy_facts();
    f.tunnel->up = false;
    const auto findings = run_checks(d, f);
    EXPECT_NE(find(findings, "private-key", Severity::fail), std::nullopt);
    EXPECT_NE(find(findings, "interface", Severity::fail), std::nullopt);
    f.tunnel.reset();
    EXPECT_NE(find(run_checks(d, f), "interface", Severity::warn), std::nullopt);
}

TEST(CliDoctorFacts, GathersFromFilesAndCommands) {
    const DeviceInfo d = device_with_peers();
    test::FakeSystem sys;
    sys.files["/proc/sys/net/ipv4/ip_forward"] = "0\n";
    sys.files["/proc/sys/net/ipv6/conf/all/forwarding"] = "1\n";
    sys.files["/proc/net/udp"] =
        "header\n  1: 00000000:CA6C 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n";
    sys.commands["ip -j link show dev wg0"] = R"([{"ifname":"wg0","flags":["POINTOPOINT","UP"],"mtu":1420}])";
    sys.commands["nft -j list ruleset"] = kRuleset;
    sys.commands["ip -j route get 192.0.2.50"] = R"([{"dst":"192.0.2.50","dev":"veth0","prefsrc":"192.0.2.1"}])";
    sys.commands["ip -j link show dev veth0"] = R"([{"ifname":"veth0","flags":["UP"],"mtu":1400}])";
    const HostFacts f = gather_facts(d, sys);
    EXPECT_EQ(f.ipv4_forwarding, std::optional<bool>(false));
    EXPECT_EQ(f.ipv6_forwarding, std::optional<bool>(true));
    ASSERT_TRUE(f.tunnel);
    EXPECT_TRUE(f.tunnel->up);
    EXPECT_EQ(f.udp_ports, std::set<unsigned>{51820});
    EXPECT_TRUE(f.nft_known);
    ASSERT_EQ(f.firewall_blocks.size(), 1u);
    EXPECT_TRUE(f.masquerade_rule);
    ASSERT_TRUE(f.egress);
    EXPECT_EQ(f.egress->name, "veth0");
    EXPECT_EQ(f.egress->mtu, 1400u);
    EXPECT_NE(f.egress_source.find("laptop"), std::string::npos);
}

TEST(CliDoctorFacts, EgressFromTheDefaultRouteAndRouteMtu) {
    DeviceInfo d;
    d.ifname = "wg0";
    test::FakeSystem sys;
    sys.commands["ip -j route show default"] = R"([{"dst":"default","gateway":"192.0.2.1","dev":"eth0","metrics":[{"mtu":1380}]}])";
    sys.commands["ip -j link show dev eth0"] = R"([{"ifname":"eth0","flags":["UP"],"mtu":1500}])";
    const HostFacts f = gather_facts(d, sys);
    ASSERT_TRUE(f.egress);
    EXPECT_EQ(f.egress->mtu, 1380u);
    EXPECT_EQ(f.egress_source, "the default route");
    EXPECT_FALSE(f.nft_known);
}

TEST(CliDoctorOutput, TextAndJson) {
    const std::vector<Finding> findings = {{Severity::ok, "a", "fine", ""}, {Severity::fail, "b", "broken", "do this"}};
    EXPECT_EQ(render_findings(findings), "[ok]   a: fine\n[FAIL] b: broken\n       fix: do this\n1 problem, 0 warnings\n");
    const json j = findings_json(findings);
    EXPECT_EQ(j[1]["severity"], "fail");
    EXPECT_EQ(j[1]["fix"], "do this");
    EXPECT_TRUE(j[0]["fix"].is_null());
}

}  // namespace
}  // namespace wgate::cli
