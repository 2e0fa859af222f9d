// The gateway YAML config: defaults, every refusal with its file, line, field
// and fix, the address pool and overlap rules, and the key file checks.
#include "wgate/config/gateway_config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>

#include "config_test_util.hpp"
#include "wgate/config/key_file.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::config {
namespace {

using test::key_bytes;
using test::key_text;
using test::TempDir;
using test::write_text;

core::IpPrefix prefix(std::string_view text) { return core::IpPrefix::parse(text).value(); }
core::IpAddress address(std::string_view text) { return core::IpAddress::parse(text).value(); }

// Lines 1..5; peers start on line 6.
constexpr std::string_view kHead =
    "interface:\n"
    "  addresses: [10.8.0.1/24, fd42:8::1/64]\n"
    "gateway:\n"
    "  lan_routes: [192.168.88.0/24]\n"
    "peers:\n";

// Three lines (plus `extra` lines): name, public_key, allowed_ips.
std::string peer(std::string_view name, std::uint8_t key, std::string_view ips, std::string_view extra = "") {
    return "  - name: " + std::string(name) + "\n    public_key: " + key_text(key) + "\n    allowed_ips: " +
           std::string(ips) + "\n" + std::string(extra);
}

std::string with_peers(std::string_view peers) { return std::string(kHead) + std::string(peers); }

// Parsing must fail with exactly this line and field, and the message must
// contain every part (the problem and the fix).
void expect_refused(std::string_view yaml, int line, std::string_view field, std::initializer_list<std::string_view> parts) {
    SCOPED_TRACE(std::string(yaml));
    try {
        parse_gateway_config(yaml, "test.yaml");
        ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        EXPECT_EQ(e.file(), "test.yaml");
        EXPECT_EQ(e.line(), line) << what;
        EXPECT_EQ(e.field(), field) << what;
        std::string start = "test.yaml";
        if (line > 0) start += ":" + std::to_string(line);
        start += ": ";
        if (!field.empty()) start += std::string(field) + ": ";
        EXPECT_EQ(what.rfind(start, 0), 0u) << what;
        for (const auto part : parts) EXPECT_NE(what.find(part), std::string::npos) << "'" << part << "' not in: " << what;
    }
}

// ---------------------------------------------------------------- values and defaults

TEST(GatewayConfig, DefaultsFromMinimalFile) {
    const auto c = parse_gateway_config("interface:\n  addresses: [10.8.0.1/24]\n", "min.yaml");
    EXPECT_EQ(c.interface.name, "wg0");
    EXPECT_EQ(c.interface.private_key_file, "keys/gateway.key");
    EXPECT_EQ(c.interface.listen_port, 51820);
    EXPECT_EQ(c.interface.mtu, 1420u);
    EXPECT_FALSE(c.interface.fwmark);
    ASSERT_EQ(c.interface.addresses.size(), 1u);
    EXPECT_EQ(c.interface.addresses[0].to_string(), "10.8.0.1/24");
    EXPECT_FALSE(c.gateway.public_endpoint);
    EXPECT_TRUE(c.gateway.lan_routes.empty());
    EXPECT_TRUE(c.gateway.masquerade);
    EXPECT_FALSE(c.gateway.egress_interface);
    EXPECT_TRUE(c.gateway.client_dns.empty());
    EXPECT_EQ(c.gateway.persistent_keepalive, 25);
    EXPECT_TRUE(c.peers.empty());
    EXPECT_TRUE(c.persist);
    EXPECT_EQ(c.source.path, "min.yaml");
    EXPECT_EQ(c.pool(), std::vector<core::IpPrefix>{prefix("10.8.0.0/24")});
}

TEST(GatewayConfig, EveryField) {
    const std::string yaml = "interface:\n"
                             "  name: wg-lab\n"
                             "  private_key_file: /etc/wgate/gw.key\n"
                             "  listen_port: 443\n"
                             "  mtu: 1380\n"
                             "  fwmark: 0xCA6C\n"
                             "  addresses: [10.8.0.1/24, fd42:8::1/64]\n"
                             "gateway:\n"
                             "  public_endpoint: vpn.example.com:443\n"
                             "  lan_routes: [192.168.88.0/24, 2001:db8:88::/64]\n"
                             "  masquerade: false\n"
                             "  egress_interface: eth1\n"
                             "  client_dns: [192.168.88.1, 2001:db8:88::1]\n"
                             "  persistent_keepalive: 0\n"
                             "peers:\n"
                             "  - name: alice@laptop.1\n"
                             "    public_key: " + key_text(1) + "\n"
                             "    preshared_key_file: psk/alice.psk\n"
                             "    allowed_ips: [10.8.0.2/32, fd42:8::2/128]\n"
                             "    endpoint: '[2001:DB8::7]:51820'\n"
                             "    persistent_keepalive: 15\n"
                             "    disabled: true\n"
                             "  - public_key: " + key_text(2) + "\n"
                             "    allowed_ips: []\n"
                             "persist: false\n";
    const auto c = parse_gateway_config(yaml, "dir/full.yaml");
    EXPECT_EQ(c.interface.name, "wg-lab");
    EXPECT_EQ(c.interface.private_key_file, "/etc/wgate/gw.key");
    EXPECT_EQ(c.interface.listen_port, 443);
    EXPECT_EQ(c.interface.mtu, 1380u);
    EXPECT_EQ(c.interface.fwmark, 0xca6cu);
    ASSERT_EQ(c.interface.addresses.size(), 2u);
    EXPECT_EQ(c.interface.addresses[1].address, address("fd42:8::1"));
    EXPECT_EQ(c.interface.addresses[1].cidr, 64);
    EXPECT_EQ(c.pool(), (std::vector<core::IpPrefix>{prefix("10.8.0.0/24"), prefix("fd42:8::/64")}));
    ASSERT_TRUE(c.gateway.public_endpoint);
    EXPECT_EQ(c.gateway.public_endpoint->host, "vpn.example.com");
    EXPECT_EQ(c.gateway.public_endpoint->port, 443);
    EXPECT_EQ(c.gateway.lan_routes, (std::vector<core::IpPrefix>{prefix("192.168.88.0/24"), prefix("2001:db8:88::/64")}));
    EXPECT_FALSE(c.gateway.masquerade);
    EXPECT_EQ(c.gateway.egress_interface, "eth1");
    EXPECT_EQ(c.gateway.client_dns, (std::vector<core::IpAddress>{address("192.168.88.1"), address("2001:db8:88::1")}));
    EXPECT_EQ(c.gateway.persistent_keepalive, 0);
    ASSERT_EQ(c.peers.size(), 2u);
    const auto& alice = c.peers[0];
    EXPECT_EQ(alice.name, "alice@laptop.1");
    EXPECT_EQ(alice.public_key, key_bytes(1));
    EXPECT_EQ(alice.preshared_key_file, "psk/alice.psk");
    EXPECT_EQ(alice.allowed_ips, (std::vector<core::IpPrefix>{prefix("10.8.0.2/32"), prefix("fd42:8::2/128")}));
    ASSERT_TRUE(alice.endpoint);
    EXPECT_EQ(alice.endpoint->host, "2001:db8::7");  // canonical
    EXPECT_EQ(alice.endpoint->to_string(), "[2001:db8::7]:51820");
    EXPECT_EQ(alice.persistent_keepalive, 15);
    EXPECT_TRUE(alice.disabled);
    EXPECT_EQ(c.peers[1].name, "");  // unnamed, like a peer added by `wg set`
    EXPECT_TRUE(c.peers[1].allowed_ips.empty());
    EXPECT_FALSE(c.peers[1].endpoint);
    EXPECT_FALSE(c.peers[1].persistent_keepalive);
    EXPECT_FALSE(c.peers[1].disabled);
    EXPECT_FALSE(c.persist);
    // Lines of fields, for later messages.
    EXPECT_EQ(c.source.line_of("interface.mtu"), 5);
    EXPECT_EQ(c.source.line_of("peers[0].allowed_ips[1]"), 19);
    EXPECT_EQ(c.source.line_of("peers[1]"), 23);
    EXPECT_EQ(c.source.line_of("peers[1].no_such_field[3]"), 23);  // nearest enclosing field
    EXPECT_EQ(c.source.line_of("nothing"), 0);
}

TEST(GatewayConfig, NullMeansNotSet) {
    const auto c = parse_gateway_config("interface:\n  name: ~\n  fwmark:\n  addresses: [10.8.0.1/24]\n"
                                        "gateway:\n  egress_interface: null\n  public_endpoint:\npeers:\npersist:\n",
                                        "t.yaml");
    EXPECT_EQ(c.interface.name, "wg0");
    EXPECT_FALSE(c.interface.fwmark);
    EXPECT_FALSE(c.gateway.egress_interface);
    EXPECT_TRUE(c.peers.empty());
    EXPECT_TRUE(c.persist);
}

TEST(GatewayConfig, ShippedExampleIsValid) {
    const auto path = std::filesystem::path(__FILE__).parent_path() / "../../config/gateway.yaml";
    const auto c = load_gateway_config(path.string());
    EXPECT_EQ(c.interface.name, "wg0");
    EXPECT_EQ(c.pool(), (std::vector<core::IpPrefix>{prefix("10.8.0.0/24"), prefix("fd42:8::/64")}));
    EXPECT_EQ(c.gateway.lan_routes, std::vector<core::IpPrefix>{prefix("192.168.88.0/24")});
    EXPECT_TRUE(c.gateway.masquerade);
    ASSERT_TRUE(c.gateway.public_endpoint);
    EXPECT_EQ(c.gateway.public_endpoint->to_string(), "vpn.example.com:51820");
    EXPECT_TRUE(c.persist);
    // The key store of the repository, relative to config/.
    EXPECT_EQ(std::filesystem::path(resolve_path(c, c.interface.private_key_file)).filename(), "gateway.key");
    EXPECT_EQ(std::filesystem::path(resolve_path(c, c.interface.private_key_file)).parent_path().filename(), "keys");
}

TEST(GatewayConfig, EqualityIgnoresWhereItCameFrom) {
    const std::string yaml = with_peers(peer("alice", 1, "[10.8.0.2/32]"));
    auto a = parse_gateway_config(yaml, "a.yaml");
    auto b = parse_gateway_config("# comment\n" + yaml, "b.yaml");
    EXPECT_EQ(a, b);
    b.peers[0].allowed_ips.push_back(prefix("10.8.0.9/32"));
    EXPECT_NE(a, b);
}

TEST(GatewayConfig, InterfaceAddressAndHostPort) {
    const auto a = InterfaceAddress::parse("10.8.0.1/24");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->network(), prefix("10.8.0.0/24"));
    EXPECT_EQ(a->to_string(), "10.8.0.1/24");
    EXPECT_FALSE(InterfaceAddress::parse("10.8.0.1"));
    EXPECT_FALSE(InterfaceAddress::parse("10.8.0.1/33"));
    EXPECT_FALSE(InterfaceAddress::parse("10.8.0.1/"));
    EXPECT_FALSE(InterfaceAddress::parse("/24"));

    for (const auto* good : {"vpn.example.com:51820", "192.0.2.1:1", "[2001:db8::1]:65535", "a-b.c:2", "localhost:9"}) {
        const auto hp = HostPort::parse(good);
        ASSERT_TRUE(hp) << good;
        EXPECT_EQ(hp->to_string(), good);
    }
    EXPECT_TRUE(HostPort::parse("192.0.2.1:1")->is_literal());
    EXPECT_FALSE(HostPort::parse("vpn.example.com:1")->is_literal());
    for (const auto* bad : {"vpn.example.com", "vpn.example.com:", "vpn.example.com:0", "vpn.example.com:65536",
                            "2001:db8::1:51820", "[192.0.2.1]:1", "[vpn]:1", "-vpn.example.com:1", "vpn..com:1",
                            "vpn_x.com:1", "10.1:51820", "a b:1", ":51820", "vpn.example.com:+1", "[::1]:1x"}) {
        EXPECT_FALSE(HostPort::parse(bad)) << bad;
    }
}

TEST(GatewayConfig, Names) {
    const std::string longest(64, 'x');
    const std::string too_long(65, 'x');
    for (const std::string_view good : {"a", "alice-laptop", "bob_2", "c.d", "e@f", "-", longest.c_str()})
        EXPECT_TRUE(valid_peer_name(good)) << good;
    for (const std::string_view bad : {"", "with space", "semi;colon", "eq=ual", "caf\xc3\xa9", too_long.c_str()})
        EXPECT_FALSE(valid_peer_name(bad)) << bad;
    for (const auto* good : {"wg0", "wg-lab", "a.b_c=d+e", "123456789012345"}) EXPECT_TRUE(valid_interface_name(good));
    for (const auto* bad : {"", ".", "..", "1234567890123456", "wg 0", "wg/0", "wg:0"})
        EXPECT_FALSE(valid_interface_name(bad)) << bad;
}

// ---------------------------------------------------------------- the whole file

TEST(GatewayConfigRefusal, YamlSyntax) {
    expect_refused("interface:\n  addresses: [10.8.0.1/24\n", 3, "", {"YAML syntax error", "indentation"});
    expect_refused("interface:\n\taddresses: []\n", 2, "", {"YAML syntax error"});
}

TEST(GatewayConfigRefusal, WholeFile) {
    expect_refused("", 1, "", {"is empty", "interface.addresses"});
    expect_refused("# only a comment\n", 1, "", {"is empty"});
    expect_refused("interface: {addresses: [10.8.0.1/24]}\n---\npeers: []\n", 2, "", {"several YAML documents"});
    expect_refused("- interface\n", 1, "", {"expected a mapping with the sections", "found a list"});
    expect_refused("just text\n", 1, "", {"found a single value"});
    // Aliases would let a few bytes stand for very many settings.
    expect_refused("interface:\n  addresses: &pool [10.8.0.1/24]\ngateway:\n  client_dns: *pool\n", 4, "",
                   {"YAML aliases (*name) are not supported", "write the value out"});
    // An anchor alone is harmless.
    EXPECT_NO_THROW(parse_gateway_config("interface:\n  addresses: &pool [10.8.0.1/24]\n", "t"));
}

TEST(GatewayConfigRefusal, UnknownAndDuplicateKeys) {
    expect_refused("interface:\n  addresses: [10.8.0.1/24]\npeer: []\n", 3, "peer",
                   {"unknown key 'peer'", "did you mean 'peers'?", "known keys here: interface, gateway, peers, persist"});
    expect_refused("interface:\n  listen-port: 1\n  addresses: [10.8.0.1/24]\n", 2, "interface.listen-port",
                   {"unknown key", "did you mean 'listen_port'?"});
    expect_refused("interface:\n  addresses: [10.8.0.1/24]\ngateway:\n  masquerde: true\n", 4, "gateway.masquerde",
                   {"did you mean 'masquerade'?"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]", "    allowed_ip: [10.8.0.3/32]\n")), 9,
                   "peers[0].allowed_ip", {"unknown key", "did you mean 'allowed_ips'?"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]", "    colour: blue\n")), 9, "peers[0].colour",
                   {"unknown key 'colour'", "known keys here: name, public_key"});
    expect_refused("interface:\n  mtu: 1400\n  addresses: [10.8.0.1/24]\n  mtu: 1300\n", 4, "interface.mtu",
                   {"given twice", "keep one"});
    expect_refused("interface:\n  addresses: [10.8.0.1/24]\n  ? [a, b]\n  : x\n", 3, "interface",
                   {"keys must be plain names"});
}

TEST(GatewayConfigRefusal, WrongShapes) {
    expect_refused("interface: wg0\n", 1, "interface", {"expected a mapping of interface settings", "found a single value"});
    expect_refused("interface:\n  addresses: 10.8.0.1/24\n", 2, "interface.addresses",
                   {"expected a list", "[10.8.0.1/24, fd42:8::1/64]"});
    expect_refused("interface:\n  name: [wg0]\n  addresses: [10.8.0.1/24]\n", 2, "interface.name",
                   {"expected a single value, found a list"});
    expect_refused("interface:\n  addresses: [10.8.0.1/24]\ngateway: [1]\n", 3, "gateway", {"found a list"});
    expect_refused(with_peers("  alice: x\n"), 6, "peers", {"expected a list"});
    expect_refused(with_peers("  - just-a-name\n"), 6, "peers[0]", {"expected a peer", "found a single value"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]") + "  -\n" + peer("b", 2, "[10.8.0.3/32]")), 9, "peers[1]",
                   {"empty list item", "remove the '-'"});
}

// ---------------------------------------------------------------- interface

TEST(GatewayConfigRefusal, InterfaceValues) {
    const auto iface = [](std::string_view line) {
        return "interface:\n  addresses: [10.8.0.1/24, fd42:8::1/64]\n  " + std::string(line) + "\n";
    };
    expect_refused(iface("listen_port: 70000"), 3, "interface.listen_port", {"'70000' is not a port number", "1..65535"});
    expect_refused(iface("listen_port: -1"), 3, "interface.listen_port", {"not a port number"});
    expect_refused(iface("listen_port: 0x10"), 3, "interface.listen_port", {"not a port number"});
    expect_refused(iface("listen_port: 051820"), 3, "interface.listen_port", {"not a port number"});
    expect_refused(iface("listen_port: 0"), 3, "interface.listen_port", {"0 is not a port laptops can dial", "1..65535"});
    expect_refused(iface("mtu: 1279"), 3, "interface.mtu", {"1279 is out of range", "1280..9000", "IPv6"});
    expect_refused(iface("mtu: 9001"), 3, "interface.mtu", {"out of range"});
    expect_refused(iface("mtu: big"), 3, "interface.mtu", {"'big' is not an MTU"});
    expect_refused(iface("fwmark: 0x1ffffffff"), 3, "interface.fwmark", {"not a firewall mark", "0xca6c"});
    expect_refused(iface("fwmark: mark"), 3, "interface.fwmark", {"not a firewall mark"});
    expect_refused(iface("name: this-name-is-too-long"), 3, "interface.name", {"not an interface name", "1..15"});
    expect_refused(iface("name: 'wg 0'"), 3, "interface.name", {"not an interface name"});
    expect_refused(iface("private_key_file: ''"), 3, "interface.private_key_file", {"is empty", "keys/gateway.key"});
    expect_refused(iface("private_key_file: \"keys/\\x01.key\""), 3, "interface.private_key_file",
                   {"'keys/\\x01.key' contains control characters or invalid UTF-8"});
    expect_refused(iface("private_key_file: keys/\xc0\xaf.key"), 3, "interface.private_key_file", {"invalid UTF-8"});
    EXPECT_EQ(parse_gateway_config(iface("private_key_file: keys/cl\xc3\xa9.key"), "t").interface.private_key_file,
              "keys/cl\xc3\xa9.key");

    // v4-only pools may go down to 576.
    EXPECT_EQ(parse_gateway_config("interface:\n  addresses: [10.8.0.1/24]\n  mtu: 576\n", "t").interface.mtu, 576u);
    expect_refused("interface:\n  addresses: [10.8.0.1/24]\n  mtu: 575\n", 3, "interface.mtu", {"576..9000"});
    EXPECT_EQ(parse_gateway_config(iface("fwmark: 51820"), "t").interface.fwmark, 51820u);
    EXPECT_EQ(parse_gateway_config(iface("fwmark: 0xffffffff"), "t").interface.fwmark, 0xffffffffu);
}

TEST(GatewayConfigRefusal, InterfaceAddresses) {
    expect_refused("interface:\n  name: wg0\n", 1, "interface.addresses", {"needs at least one address", "10.8.0.1/24"});
    expect_refused("interface:\n  addresses: []\n", 2, "interface.addresses", {"needs at least one address"});
    expect_refused("gateway:\n  masquerade: true\n", 0, "interface.addresses", {"needs at least one address"});
    expect_refused("interface:\n  addresses:\n    - 10.8.0.1/24\n    - 10.8.0.7\n", 4, "interface.addresses[1]",
                   {"'10.8.0.7' is not an address with a prefix length", "10.8.0.1/24"});
    expect_refused("interface:\n  addresses: [10.8.0.0/24]\n", 2, "interface.addresses[0]",
                   {"is the network address of 10.8.0.0/24", "e.g. 10.8.0.1/24"});
    expect_refused("interface:\n  addresses: [10.8.0.255/24]\n", 2, "interface.addresses[0]",
                   {"broadcast address", "10.8.0.1/24"});
    expect_refused("interface:\n  addresses: [fd42:8::/64]\n", 2, "interface.addresses[0]",
                   {"network address", "fd42:8::1/64"});
    expect_refused("interface:\n  addresses: [10.8.0.1/24, 10.8.1.1/16]\n", 2, "interface.addresses[1]",
                   {"overlaps interface.addresses[0] '10.8.0.1/24'"});
    // Point-to-point and host addresses have no network or broadcast address.
    EXPECT_NO_THROW(parse_gateway_config("interface:\n  addresses: [10.8.0.0/31, 10.9.0.0/32, fd00::/127]\n", "t"));
}

// ---------------------------------------------------------------- gateway

TEST(GatewayConfigRefusal, GatewayValues) {
    const auto gw = [](std::string_view line) {
        return "interface:\n  addresses: [10.8.0.1/24, fd42:8::1/64]\ngateway:\n  " + std::string(line) + "\n";
    };
    expect_refused(gw("public_endpoint: vpn.example.com"), 4, "gateway.public_endpoint",
                   {"is not host:port", "vpn.example.com:51820", "IPv6 in brackets"});
    expect_refused(gw("public_endpoint: 2001:db8::1:51820"), 4, "gateway.public_endpoint", {"is not host:port"});
    expect_refused(gw("lan_routes: [192.168.88.1/24]"), 4, "gateway.lan_routes[0]",
                   {"has host bits set", "write the network as 192.168.88.0/24"});
    expect_refused(gw("lan_routes: [192.168.88.0/24, 192.168.88.0/24]"), 4, "gateway.lan_routes[1]",
                   {"listed twice", "remove one"});
    expect_refused(gw("lan_routes: [10.8.0.128/25]"), 4, "gateway.lan_routes[0]",
                   {"lies inside the client address pool (10.8.0.0/24, fd42:8::/64)", "192.168.88.0/24"});
    expect_refused(gw("lan_routes: [banana]"), 4, "gateway.lan_routes[0]", {"not an IP address or network"});
    expect_refused(gw("masquerade: yes"), 4, "gateway.masquerade", {"'yes' is not a boolean", "true or false"});
    expect_refused(gw("egress_interface: 'eth 0'"), 4, "gateway.egress_interface",
                   {"not an interface name", "remove the line to detect it"});
    expect_refused(gw("client_dns: [dns.example.com]"), 4, "gateway.client_dns[0]", {"is not an IP address"});
    expect_refused(gw("persistent_keepalive: 65536"), 4, "gateway.persistent_keepalive", {"not a keepalive interval"});

    // A route that contains the pool (a full tunnel) is fine; the pool's own route is more specific.
    const auto c = parse_gateway_config(gw("lan_routes: [0.0.0.0/0, ::/0]"), "t");
    EXPECT_EQ(c.gateway.lan_routes.size(), 2u);
    EXPECT_EQ(parse_gateway_config(gw("public_endpoint: 192.0.2.1:51820"), "t").gateway.public_endpoint->port, 51820);
    EXPECT_TRUE(parse_gateway_config(gw("masquerade: True"), "t").gateway.masquerade);
}

// ---------------------------------------------------------------- peers

TEST(GatewayConfigRefusal, PeerFields) {
    expect_refused(with_peers("  - name: a\n    allowed_ips: [10.8.0.2/32]\n"), 6, "peers[0].public_key",
                   {"is missing", "wg pubkey"});
    expect_refused(with_peers("  - name: a\n    public_key: abc\n    allowed_ips: []\n"), 7, "peers[0].public_key",
                   {"'abc' is not a public key", "44-character base64"});
    // One character off: not canonical base64.
    std::string off = key_text(1);
    off[42] = 'B';
    expect_refused(with_peers("  - name: a\n    public_key: " + off + "\n    allowed_ips: []\n"), 7,
                   "peers[0].public_key", {"is not a public key"});
    expect_refused(with_peers("  - name: a\n    public_key: " + key_text(0) + "\n    allowed_ips: []\n"), 7,
                   "peers[0].public_key", {"all-zero key is a placeholder"});
    expect_refused(with_peers("  - name: a\n    public_key: " + key_text(1) + "\n"), 6, "peers[0].allowed_ips",
                   {"is missing", "[10.8.0.2/32, fd42:8::2/128]"});
    expect_refused(with_peers(peer("''", 1, "[10.8.0.2/32]")), 6, "peers[0].name", {"is empty", "remove the line"});
    expect_refused(with_peers(peer("'bob laptop'", 1, "[10.8.0.2/32]")), 6, "peers[0].name",
                   {"'bob laptop' is not a valid peer name", "letters, digits or -_.@"});
    expect_refused(with_peers(peer(std::string(65, 'n'), 1, "[10.8.0.2/32]")), 6, "peers[0].name", {"1..64"});
    expect_refused(with_peers(peer("a", 1, "10.8.0.2/32")), 8, "peers[0].allowed_ips", {"expected a list"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/33]")), 8, "peers[0].allowed_ips[0]",
                   {"not an IP address or network", "10.8.0.2/32"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/30]")), 8, "peers[0].allowed_ips[0]",
                   {"has host bits set", "10.8.0.0/30", "10.8.0.2/32"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]", "    endpoint: 203.0.113.7\n")), 9, "peers[0].endpoint",
                   {"is not host:port", "203.0.113.7:51820"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]", "    persistent_keepalive: 1.5\n")), 9,
                   "peers[0].persistent_keepalive", {"'1.5' is not a keepalive interval", "0..65535"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]", "    disabled: maybe\n")), 9, "peers[0].disabled",
                   {"'maybe' is not a boolean"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]", "    preshared_key_file: ''\n")), 9,
                   "peers[0].preshared_key_file", {"is empty", "wg genpsk"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32]")) + "persist: 1\n", 9, "persist", {"not a boolean"});
    // A bare address is a host prefix, as in wg.
    const auto c = parse_gateway_config(with_peers(peer("a", 1, "[10.8.0.2, 'fd42:8::2']")), "t");
    EXPECT_EQ(c.peers[0].allowed_ips, (std::vector<core::IpPrefix>{prefix("10.8.0.2/32"), prefix("fd42:8::2/128")}));
    EXPECT_EQ(parse_gateway_config(with_peers(peer("a", 1, "[10.8.0.2/32]", "    endpoint: laptop.lan:51820\n")), "t")
                  .peers[0]
                  .endpoint->host,
              "laptop.lan");
}

TEST(GatewayConfigRefusal, DuplicatePeers) {
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.2/32]") + peer("alice", 2, "[10.8.0.3/32]")), 9,
                   "peers[1].name", {"'alice' is also the name of peers[0] (line 6)", "names must be unique"});
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.2/32]") + peer("bob", 1, "[10.8.0.3/32]")), 10,
                   "peers[1].public_key",
                   {"is also the public key of peers[0] 'alice' (line 7)", "own key pair", "wg genkey | wg pubkey"});
}

TEST(GatewayConfigRefusal, AddressPool) {
    // The message of the issue, word for word.
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.2/32]") + peer("bob", 2, "[10.9.0.2/32]")), 11,
                   "peers[1].allowed_ips[0]",
                   {"'10.9.0.2/32' is outside the address pool (10.8.0.0/24, fd42:8::/64); use an address inside the "
                    "pool or widen interface.addresses"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32, 'fd43::2/128']")), 8, "peers[0].allowed_ips[1]",
                   {"outside the address pool"});
    // A network behind a peer (a site) may lie outside the pool, but not over it or the LAN.
    expect_refused(with_peers(peer("a", 1, "[0.0.0.0/0]")), 8, "peers[0].allowed_ips[0]",
                   {"'0.0.0.0/0' overlaps the address pool 10.8.0.0/24"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.2/32, 192.168.0.0/16]")), 8, "peers[0].allowed_ips[1]",
                   {"'192.168.0.0/16' overlaps the LAN route 192.168.88.0/24"});
    EXPECT_NO_THROW(parse_gateway_config(with_peers(peer("site", 1, "[10.8.0.2/32, 172.16.5.0/24]")), "t"));
    // Only IPv4 in the pool: an IPv6 address is outside.
    expect_refused("interface:\n  addresses: [10.8.0.1/24]\npeers:\n" + peer("a", 1, "['fd42:8::2/128']"), 6,
                   "peers[0].allowed_ips[0]", {"outside the address pool (10.8.0.0/24)"});
    expect_refused(with_peers(peer("a", 1, "[10.8.0.0/24]")), 8, "peers[0].allowed_ips[0]",
                   {"contains the gateway's own address 10.8.0.1", "e.g. 10.8.0.2/32"});
    expect_refused(with_peers(peer("a", 1, "['fd42:8::1/128']")), 8, "peers[0].allowed_ips[0]",
                   {"contains the gateway's own address fd42:8::1", "fd42:8::2/128"});
    // A client may have a small subnet of the pool.
    EXPECT_NO_THROW(parse_gateway_config(with_peers(peer("a", 1, "[10.8.0.16/28, 'fd42:8::100/120']")), "t"));
}

TEST(GatewayConfigRefusal, Overlaps) {
    // The later entry is named, with the earlier one in the message.
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.16/28]") + peer("bob", 2, "[10.8.0.20/32]")), 11,
                   "peers[1].allowed_ips[0]",
                   {"'10.8.0.20/32' overlaps '10.8.0.16/28' of peers[0] 'alice' (line 8)",
                    "every address must belong to one peer"});
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.20/32]") + peer("bob", 2, "[10.8.0.16/28]")), 11,
                   "peers[1].allowed_ips[0]", {"'10.8.0.16/28' overlaps '10.8.0.20/32' of peers[0] 'alice'"});
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.2/32]") + peer("bob", 2, "[10.8.0.3/32, 10.8.0.2/32]")), 11,
                   "peers[1].allowed_ips[1]", {"overlaps '10.8.0.2/32' of peers[0] 'alice'"});
    // Disabled peers keep their addresses.
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.2/32]", "    disabled: true\n") + peer("bob", 2, "[10.8.0.2/32]")),
                   12, "peers[1].allowed_ips[0]", {"overlaps"});
    expect_refused(with_peers(peer("alice", 1, "[10.8.0.2/32, 10.8.0.2/32]")), 8, "peers[0].allowed_ips[1]",
                   {"listed twice for this peer"});
    // Nested prefixes of one peer are its own business.
    EXPECT_NO_THROW(parse_gateway_config(with_peers(peer("alice", 1, "[10.8.0.16/28, 10.8.0.17/32]")), "t"));
    // An unrelated peer between two prefixes of another still conflicts.
    expect_refused(with_peers(peer("a", 1, "[10.8.0.16/28, 10.8.0.18/32]") + peer("b", 2, "[10.8.0.17/32]")), 11,
                   "peers[1].allowed_ips[0]", {"overlaps '10.8.0.16/28' of peers[0] 'a'"});
}

// The sweep agrees with comparing every pair, on random sets of prefixes.
TEST(GatewayConfig, OverlapCheckMatchesBruteForce) {
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
        GatewayConfig c;
        c.interface.addresses = {*InterfaceAddress::parse("10.8.0.1/24")};
        const int peers = 1 + static_cast<int>(rng() % 5);
        for (int p = 0; p < peers; ++p) {
            PeerConfig peer;
            peer.public_key = key_bytes(static_cast<std::uint8_t>(p + 1));
            const int count = static_cast<int>(rng() % 4);
            for (int i = 0; i < count; ++i) {
                const std::uint8_t host = static_cast<std::uint8_t>(2 + rng() % 60);
                const std::uint8_t b4[4] = {10, 8, 0, host};
                peer.allowed_ips.push_back(core::IpPrefix::make(core::IpAddress::v4(b4), 28 + rng() % 5));
            }
            c.peers.push_back(peer);
        }
        bool expected_bad = false;
        for (std::size_t a = 0; a < c.peers.size(); ++a) {
            const auto& ips = c.peers[a].allowed_ips;
            for (std::size_t i = 0; i < ips.size(); ++i) {
                if (ips[i].contains(address("10.8.0.1"))) expected_bad = true;
                for (std::size_t j = 0; j < i; ++j) expected_bad = expected_bad || ips[i] == ips[j];
                for (std::size_t b = 0; b < a; ++b)
                    for (const auto& other : c.peers[b].allowed_ips)
                        expected_bad = expected_bad || other.contains(ips[i].address) || ips[i].contains(other.address);
            }
        }
        bool refused = false;
        try {
            check_gateway_config(c);
        } catch (const ConfigError&) {
            refused = true;
        }
        EXPECT_EQ(refused, expected_bad) << "round " << round;
    }
}

TEST(GatewayConfig, CheckWithoutSourceHasNoLine) {
    GatewayConfig c;
    c.interface.addresses = {*InterfaceAddress::parse("10.8.0.1/24")};
    PeerConfig p;
    p.public_key = key_bytes(3);
    p.allowed_ips = {prefix("10.9.0.2/32")};
    c.peers.push_back(p);
    try {
        check_gateway_config(c);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.line(), 0);
        EXPECT_EQ(std::string(e.what()).rfind("(config): peers[0].allowed_ips[0]: '10.9.0.2/32' is outside", 0), 0u)
            << e.what();
    }
    c.peers[0].name = "no spaces please";
    EXPECT_THROW(check_gateway_config(c), ConfigError);
}

TEST(GatewayConfig, ThousandsOfPeersQuickly) {
    std::string yaml = "interface:\n  addresses: [10.8.0.1/16, fd42:8::1/64]\npeers:\n";
    constexpr int kPeers = 5000;
    for (int i = 0; i < kPeers; ++i) {
        crypto::Bytes<32> key{};
        key[0] = static_cast<std::uint8_t>(i);
        key[1] = static_cast<std::uint8_t>(i >> 8);
        key[2] = 1;
        const int host = i + 2;
        yaml += "  - name: peer-" + std::to_string(i) + "\n    public_key: " + crypto::key_to_base64(key) +
                "\n    allowed_ips: [10.8." + std::to_string(host / 256) + "." + std::to_string(host % 256) +
                "/32, 'fd42:8::" + std::to_string(host) + "/128']\n";
    }
    const auto start = std::chrono::steady_clock::now();
    const auto c = parse_gateway_config(yaml, "big.yaml");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(c.peers.size(), static_cast<std::size_t>(kPeers));
    EXPECT_LT(elapsed, std::chrono::seconds(20));  // generous: sanitizer builds are slow
    // One overlap at the very end is still found.
    yaml += "  - name: late\n    public_key: " + key_text(9) + "\n    allowed_ips: [10.8.0.2/32]\n";
    expect_refused(yaml, 3 + 3 * kPeers + 3, "peers[5000].allowed_ips[0]", {"overlaps '10.8.0.2/32' of peers[0] 'peer-0'"});
}

// ---------------------------------------------------------------- key files

class ValidateFiles : public ::testing::Test {
protected:
    void SetUp() override {
        std::filesystem::create_directory(dir / "keys");
        crypto::DeterministicRandom random(1);
        gateway_key = crypto::generate_private_key(random);
        write_text(dir / "keys/gateway.key", crypto::key_to_base64(gateway_key.bytes()) + "\n");
        write_text(dir / "keys/alice.psk", key_text(0x42) + "\n");
    }

    // alice's preshared_key_file is on line 9; bob's `extra` lines start on line 14.
    std::string config(std::string_view key_file = "keys/gateway.key", std::string_view bob_extra = "") {
        return "interface:\n"
               "  private_key_file: " + std::string(key_file) + "\n"
               "  addresses: [10.8.0.1/24]\n"
               "gateway:\n"
               "  lan_routes: [192.168.88.0/24]\n"
               "peers:\n"
               "  - name: alice\n"
               "    public_key: " + key_text(1) + "\n"
               "    preshared_key_file: keys/alice.psk\n"
               "    allowed_ips: [10.8.0.2/32]\n"
               "  - name: bob\n"
               "    public_key: " + key_text(2) + "\n"
               "    allowed_ips: [10.8.0.3/32]\n" + std::string(bob_extra);
    }

    GatewayConfig load(const std::string& text) {
        write_text(dir / "gateway.yaml", text, 0644);
        return load_gateway_config(dir / "gateway.yaml");
    }

    void expect_refused(const std::string& text, int line, std::string_view field,
                        std::initializer_list<std::string_view> parts) {
        const auto c = load(text);
        try {
            validate_files(c);
            ADD_FAILURE() << "accepted";
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            EXPECT_EQ(e.file(), dir / "gateway.yaml");
            EXPECT_EQ(e.line(), line) << what;
            EXPECT_EQ(e.field(), field) << what;
            for (const auto part : parts) EXPECT_NE(what.find(part), std::string::npos) << part << " not in: " << what;
        }
    }

    TempDir dir;
    crypto::PrivateKey gateway_key;
};

TEST_F(ValidateFiles, ReadsKeysRelativeToTheConfig) {
    const auto c = load(config());
    const auto keys = validate_files(c);
    EXPECT_EQ(keys.private_key_path, dir / "keys/gateway.key");
    ASSERT_TRUE(keys.private_key);
    EXPECT_TRUE(*keys.private_key == gateway_key);
    ASSERT_EQ(keys.preshared_keys.size(), 2u);
    ASSERT_TRUE(keys.preshared_keys[0]);
    EXPECT_EQ(keys.preshared_keys[0]->bytes(), key_bytes(0x42));
    EXPECT_FALSE(keys.preshared_keys[1]);
    EXPECT_TRUE(keys.notes.empty());
    // Absolute paths stay as they are.
    EXPECT_TRUE(validate_files(load(config(dir / "keys/gateway.key"))).private_key);
    EXPECT_EQ(resolve_path(c, "/abs/x.key"), "/abs/x.key");
    EXPECT_EQ(resolve_path(c, "../x.key"), (std::filesystem::path(dir.path()).parent_path() / "x.key").string());
}

TEST_F(ValidateFiles, MissingGatewayKeyWillBeGenerated) {
    const auto keys = validate_files(load(config("keys/new.key")));
    EXPECT_FALSE(keys.private_key);
    ASSERT_EQ(keys.notes.size(), 1u);
    EXPECT_NE(keys.notes[0].find("will generate it (mode 0600)"), std::string::npos) << keys.notes[0];
    EXPECT_FALSE(std::filesystem::exists(dir / "keys/new.key"));  // checking touches nothing
}

TEST_F(ValidateFiles, MissingGatewayKeyInMissingDirectory) {
    expect_refused(config("nowhere/gateway.key"), 2, "interface.private_key_file",
                   {"does not exist and cannot be generated", "mkdir -m 700", "wg genkey >"});
}

TEST_F(ValidateFiles, MissingGatewayKeyInReadOnlyDirectory) {
    std::filesystem::create_directory(dir / "ro");
    ::chmod((dir / "ro").c_str(), 0555);
    const auto c = load(config("ro/gateway.key"));
    // As root every directory is writable; check as nobody.
    const int status = test::run_unprivileged([&] {
        try {
            validate_files(c);
            return 1;
        } catch (const ConfigError& e) {
            return std::string(e.what()).find("cannot be generated") != std::string::npos ? 0 : 2;
        }
    });
    if (status == test::kCannotDropPrivileges) GTEST_SKIP() << "cannot switch to an unprivileged user";
    EXPECT_EQ(status, 0);
}

TEST_F(ValidateFiles, GroupOrWorldAccessibleKeysAreRefused) {
    for (const mode_t mode : {0644, 0640, 0604, 0620, 0602, 0610}) {
        ::chmod((dir / "keys/gateway.key").c_str(), mode);
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
        expect_refused(config(), 2, "interface.private_key_file",
                       {"is accessible by group or others (mode " + std::string(octal) + ")",
                        "run: chmod 600 " + (dir / "keys/gateway.key")});
    }
    ::chmod((dir / "keys/gateway.key").c_str(), 0400);  // stricter than 0600 is fine
    EXPECT_TRUE(validate_files(load(config())).private_key);
    ::chmod((dir / "keys/alice.psk").c_str(), 0644);
    expect_refused(config(), 9, "peers[0].preshared_key_file", {"alice.psk", "chmod 600"});
}

TEST_F(ValidateFiles, KeyFileContents) {
    const std::string key = key_text(5);
    for (const auto& good : {key, key + "\n", key + "\r\n", key + "  \n\n"}) {
        write_text(dir / "keys/gateway.key", good);
        EXPECT_TRUE(validate_files(load(config())).private_key) << good;
    }
    for (const auto& bad : {std::string(), "\n" + key, " " + key, key + "\n" + key + "\n", key.substr(1),
                            key + "x", std::string(200, 'A'), std::string("0123456789abcdef")}) {
        write_text(dir / "keys/gateway.key", bad);
        expect_refused(config(), 2, "interface.private_key_file",
                       {"does not hold a private key", "wg genkey > " + (dir / "keys/gateway.key") + " && chmod 600"});
    }
    write_text(dir / "keys/alice.psk", "not a key\n");
    write_text(dir / "keys/gateway.key", key + "\n");
    expect_refused(config(), 9, "peers[0].preshared_key_file", {"does not hold a preshared key", "wg genpsk >"});
}

TEST_F(ValidateFiles, NotRegularFiles) {
    std::filesystem::create_directory(dir / "keys/adir.key");
    expect_refused(config("keys/adir.key"), 2, "interface.private_key_file", {"is not a regular file"});
    ASSERT_EQ(::mkfifo((dir / "keys/fifo.key").c_str(), 0600), 0);
    expect_refused(config("keys/fifo.key"), 2, "interface.private_key_file", {"is not a regular file"});  // no hang
    // A symbolic link to a proper key file is fine.
    std::filesystem::create_symlink(dir / "keys/gateway.key", dir / "keys/link.key");
    EXPECT_TRUE(validate_files(load(config("keys/link.key"))).private_key);
}

TEST_F(ValidateFiles, MissingPresharedKey) {
    std::filesystem::remove(dir / "keys/alice.psk");
    expect_refused(config(), 9, "peers[0].preshared_key_file",
                   {"alice.psk: does not exist", "wg genpsk > " + (dir / "keys/alice.psk")});
}

TEST_F(ValidateFiles, UnreadableKey) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to an unprivileged user";
    // Owned by root, mode 0600: nobody cannot open it.
    const auto c = load(config());
    const int status = test::run_unprivileged([&] {
        try {
            validate_files(c);
            return 1;
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            return what.find("cannot be opened") != std::string::npos &&
                           what.find("interface.private_key_file") != std::string::npos
                       ? 0
                       : 2;
        }
    });
    if (status == test::kCannotDropPrivileges) GTEST_SKIP() << "cannot switch to an unprivileged user";
    EXPECT_EQ(status, 0);
}

TEST_F(ValidateFiles, PeerWithTheGatewaysOwnKey) {
    const auto own = crypto::key_to_base64(crypto::public_key_of(gateway_key));
    const std::string text = config() + "  - name: self\n    public_key: " + own + "\n    allowed_ips: []\n";
    expect_refused(text, 15, "peers[2].public_key", {"is the gateway's own public key", "wg pubkey < client.key"});
}

}  // namespace
}  // namespace wgate::config
