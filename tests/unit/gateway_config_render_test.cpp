// Writing the config back: round trips for every field, and comments kept
// where the settings they describe are still there.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "config_test_util.hpp"
#include "wgate/config/gateway_config.hpp"

namespace wgate::config {
namespace {

using test::key_bytes;
using test::key_text;

core::IpPrefix prefix(std::string_view text) { return core::IpPrefix::parse(text).value(); }

GatewayConfig parse(std::string_view text) { return parse_gateway_config(text, "gw.yaml"); }

// Renders over `original` and checks that the result reads back to `config`.
std::string render(const GatewayConfig& config, std::string_view original) {
    const std::string text = render_gateway_config(config, original);
    EXPECT_EQ(parse(text), config) << text;
    return text;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

PeerConfig make_peer(std::string name, std::uint8_t key, std::initializer_list<std::string_view> ips) {
    PeerConfig p;
    p.name = std::move(name);
    p.public_key = key_bytes(key);
    for (const auto ip : ips) p.allowed_ips.push_back(prefix(ip));
    return p;
}

const std::string kCommented =
    "# Lab gateway.\n"
    "# Second header line.\n"
    "\n"
    "# The tunnel.\n"
    "interface:\n"
    "  name: wg0          # the TUN device\n"
    "  listen_port: 51820 # UDP\n"
    "  # addresses double as the pool\n"
    "  addresses: [10.8.0.1/24, fd42:8::1/64]  # pool\n"
    "\n"
    "# Behind us.\n"
    "gateway:\n"
    "  lan_routes: [192.168.88.0/24]  # the lab\n"
    "  public_endpoint: \"vpn.example.com:51820\"  # quoted on purpose\n"
    "\n"
    "# The clients.\n"
    "peers:\n"
    "  # Alice's laptop\n"
    "  - name: alice\n"
    "    public_key: " + key_text(1) + "\n"
    "    allowed_ips: [10.8.0.2/32, fd42:8::2/128]  # alice's addresses\n"
    "\n"
    "  # Bob's phone\n"
    "  # (two comment lines)\n"
    "  - name: bob\n"
    "    public_key: " + key_text(2) + "\n"
    "    allowed_ips:\n"
    "      - 10.8.0.3/32\n"
    "    persistent_keepalive: 25  # behind CGNAT\n"
    "\n"
    "  # Carol\n"
    "  - name: carol\n"
    "    public_key: " + key_text(3) + "\n"
    "    allowed_ips: [10.8.0.4/32]\n"
    "  # - name: example (commented out)\n"
    "\n"
    "# Save runtime changes.\n"
    "persist: true  # yes please\n"
    "# trailing comment\n";

TEST(GatewayConfigRender, UnchangedIsIdentical) {
    const auto c = parse(kCommented);
    EXPECT_EQ(render(c, kCommented), kCommented);
    const auto example = std::filesystem::path(__FILE__).parent_path() / "../../config/gateway.yaml";
    const auto shipped = load_gateway_config(example.string());
    EXPECT_EQ(render_gateway_config(shipped, shipped.source.text), shipped.source.text);
}

TEST(GatewayConfigRender, ChangedValueKeepsItsComment) {
    auto c = parse(kCommented);
    c.interface.listen_port = 51821;
    c.gateway.public_endpoint = HostPort::parse("[2001:db8::1]:443");
    c.persist = false;
    const std::string text = render(c, kCommented);
    EXPECT_TRUE(contains(text, "  listen_port: 51821 # UDP\n")) << text;
    EXPECT_TRUE(contains(text, "  public_endpoint: \"[2001:db8::1]:443\"  # quoted on purpose\n")) << text;
    EXPECT_TRUE(contains(text, "persist: false  # yes please\n")) << text;
    EXPECT_TRUE(contains(text, "  name: wg0          # the TUN device\n"));
    // Everything else is as it was.
    std::string expected = kCommented;
    expected.replace(expected.find("listen_port: 51820"), 18, "listen_port: 51821");
    expected.replace(expected.find("\"vpn.example.com:51820\""), 23, "\"[2001:db8::1]:443\"");
    expected.replace(expected.find("persist: true"), 13, "persist: false");
    EXPECT_EQ(text, expected);
}

TEST(GatewayConfigRender, AddedAndRemovedSettings) {
    auto c = parse(kCommented);
    c.interface.fwmark = 0xca6c;
    c.gateway.public_endpoint.reset();
    c.gateway.client_dns = {core::IpAddress::parse("192.168.88.1").value()};
    const std::string text = render(c, kCommented);
    EXPECT_TRUE(contains(text, "  addresses: [10.8.0.1/24, fd42:8::1/64]  # pool\n  fwmark: 0xca6c\n")) << text;
    EXPECT_FALSE(contains(text, "public_endpoint")) << text;
    EXPECT_FALSE(contains(text, "quoted on purpose")) << text;
    EXPECT_TRUE(contains(text, "  lan_routes: [192.168.88.0/24]  # the lab\n  client_dns: [192.168.88.1]\n")) << text;
    EXPECT_TRUE(contains(text, "# Behind us.\ngateway:\n")) << text;
}

TEST(GatewayConfigRender, ChangedPeerKeepsItsComments) {
    auto c = parse(kCommented);
    c.peers[0].allowed_ips.push_back(prefix("10.8.0.100/32"));
    c.peers[0].endpoint = HostPort::parse("alice.example.net:51820");
    const std::string text = render(c, kCommented);
    EXPECT_TRUE(contains(text, "  # Alice's laptop\n  - name: alice\n")) << text;
    EXPECT_TRUE(contains(text, "    allowed_ips: [10.8.0.2/32, fd42:8::2/128, 10.8.0.100/32]  # alice's addresses\n"
                               "    endpoint: alice.example.net:51820\n"))
        << text;
    // The other peers, and their comments, are untouched.
    EXPECT_TRUE(contains(text, "  # Bob's phone\n  # (two comment lines)\n  - name: bob\n")) << text;
    EXPECT_TRUE(contains(text, "      - 10.8.0.3/32\n    persistent_keepalive: 25  # behind CGNAT\n")) << text;
}

TEST(GatewayConfigRender, PeerWithBlockListIsRewrittenBelowItsComments) {
    auto c = parse(kCommented);
    c.peers[1].allowed_ips = {prefix("10.8.0.3/32"), prefix("10.8.0.33/32")};
    const std::string text = render(c, kCommented);
    EXPECT_TRUE(contains(text, "  # Bob's phone\n  # (two comment lines)\n  - name: bob\n    public_key: " +
                                   key_text(2) +
                                   "\n    allowed_ips: [10.8.0.3/32, 10.8.0.33/32]\n"
                                   "    persistent_keepalive: 25\n"))
        << text;
    EXPECT_TRUE(contains(text, "# Alice's laptop")) << text;
    EXPECT_TRUE(contains(text, "# Carol")) << text;
}

TEST(GatewayConfigRender, AddedPeerFollowsTheStyle) {
    auto c = parse(kCommented);
    auto dave = make_peer("dave", 4, {"10.8.0.5/32", "fd42:8::5/128"});
    dave.preshared_key_file = "keys/dave.psk";
    dave.persistent_keepalive = 0;
    dave.disabled = true;
    c.peers.push_back(dave);
    const std::string text = render(c, kCommented);
    EXPECT_TRUE(contains(text, "    allowed_ips: [10.8.0.4/32]\n"
                               "\n"
                               "  - name: dave\n"
                               "    public_key: " + key_text(4) + "\n"
                               "    preshared_key_file: keys/dave.psk\n"
                               "    allowed_ips: [10.8.0.5/32, fd42:8::5/128]\n"
                               "    persistent_keepalive: 0\n"
                               "    disabled: true\n"
                               "  # - name: example (commented out)\n"))
        << text;
}

TEST(GatewayConfigRender, RemovedPeerTakesItsCommentsAlong) {
    auto c = parse(kCommented);
    c.peers.erase(c.peers.begin() + 1);  // bob
    const std::string text = render(c, kCommented);
    EXPECT_FALSE(contains(text, "Bob")) << text;
    EXPECT_FALSE(contains(text, "two comment lines")) << text;
    EXPECT_FALSE(contains(text, "CGNAT")) << text;
    EXPECT_TRUE(contains(text, "# Alice's laptop")) << text;
    EXPECT_TRUE(contains(text, "  # Carol\n  - name: carol\n")) << text;
    EXPECT_TRUE(contains(text, "# - name: example (commented out)")) << text;
}

TEST(GatewayConfigRender, ReorderedPeersKeepTheirComments) {
    auto c = parse(kCommented);
    std::swap(c.peers[0], c.peers[2]);
    const std::string text = render(c, kCommented);
    const auto carol = text.find("  # Carol\n  - name: carol\n");
    const auto alice = text.find("  # Alice's laptop\n  - name: alice\n");
    ASSERT_NE(carol, std::string::npos) << text;
    ASSERT_NE(alice, std::string::npos) << text;
    EXPECT_LT(carol, alice);
}

TEST(GatewayConfigRender, AllPeersRemoved) {
    auto c = parse(kCommented);
    c.peers.clear();
    const std::string text = render(c, kCommented);
    EXPECT_TRUE(contains(text, "# The clients.\npeers:\n  # - name: example (commented out)\n")) << text;
    EXPECT_TRUE(contains(text, "# Save runtime changes.\npersist: true  # yes please\n# trailing comment\n")) << text;
}

TEST(GatewayConfigRender, FirstPeerIntoAnEmptyList) {
    // The shipped example: "peers:" followed by a commented-out example.
    const auto example = std::filesystem::path(__FILE__).parent_path() / "../../config/gateway.yaml";
    auto c = load_gateway_config(example.string());
    c.peers.push_back(make_peer("alice-laptop", 1, {"10.8.0.2/32", "fd42:8::2/128"}));
    const std::string text = render(c, c.source.text);
    EXPECT_TRUE(contains(text, "  #   allowed_ips: [10.8.0.2/32, fd42:8::2/128]\n"
                               "  - name: alice-laptop\n"
                               "    public_key: " + key_text(1) + "\n"
                               "    allowed_ips: [10.8.0.2/32, fd42:8::2/128]\n"
                               "\n# Write runtime peer changes back to this file. Default: true.\n"))
        << text;
    // Every comment line of the original is still there.
    std::string line;
    std::istringstream lines(c.source.text);
    while (std::getline(lines, line)) {
        if (line.find('#') != std::string::npos) {
            EXPECT_TRUE(contains(text, line)) << line;
        }
    }

    // "peers: []" becomes a block list, keeping its comment.
    const std::string flow = "interface:\n  addresses: [10.8.0.1/24]\npeers: []  # none yet\n";
    auto d = parse(flow);
    d.peers.push_back(make_peer("", 7, {"10.8.0.9/32"}));
    EXPECT_EQ(render(d, flow), "interface:\n  addresses: [10.8.0.1/24]\npeers:  # none yet\n  - public_key: " +
                                   key_text(7) + "\n    allowed_ips: [10.8.0.9/32]\n");
}

TEST(GatewayConfigRender, DashOnItsOwnLine) {
    const std::string text = "interface:\n  addresses: [10.8.0.1/24]\npeers:\n  -\n    name: a\n    public_key: " +
                             key_text(1) + "\n    allowed_ips: [10.8.0.2/32]  # a\n  - name: b\n    public_key: " +
                             key_text(2) + "\n    allowed_ips: [10.8.0.3/32]\n";
    auto c = parse(text);
    c.peers[0].allowed_ips = {prefix("10.8.0.22/32")};
    EXPECT_TRUE(contains(render(c, text), "  -\n    name: a\n    public_key: " + key_text(1) +
                                              "\n    allowed_ips: [10.8.0.22/32]  # a\n"));
    std::swap(c.peers[0], c.peers[1]);
    render(c, text);
}

TEST(GatewayConfigRender, MissingSectionsAreAppended) {
    const std::string text = "# minimal\ninterface:\n  addresses: [10.8.0.1/24]\n";
    auto c = parse(text);
    c.gateway.lan_routes = {prefix("192.168.88.0/24")};
    c.peers.push_back(make_peer("a", 1, {"10.8.0.2/32"}));
    c.persist = false;
    const std::string out = render(c, text);
    EXPECT_EQ(out.rfind(text, 0), 0u) << out;
    EXPECT_TRUE(contains(out, "\ngateway:\n  lan_routes: [192.168.88.0/24]\n  masquerade: true\n")) << out;
    EXPECT_TRUE(contains(out, "\npeers:\n  - name: a\n")) << out;
    EXPECT_TRUE(contains(out, "\npersist: false\n")) << out;
}

TEST(GatewayConfigRender, GeneratedFromScratch) {
    GatewayConfig c;
    c.interface.addresses = {*InterfaceAddress::parse("10.8.0.1/24"), *InterfaceAddress::parse("fd42:8::1/64")};
    c.interface.fwmark = 7;
    c.interface.private_key_file = "keys/cl\xc3\xa9 \"x\": #1.key";  // needs quoting
    c.gateway.public_endpoint = HostPort::parse("vpn.example.com:51820");
    c.gateway.egress_interface = "eth0";
    c.peers.push_back(make_peer("@home", 1, {"10.8.0.2/32"}));  // '@' cannot start a plain YAML scalar
    c.peers.push_back(make_peer("", 2, {}));
    const std::string text = render(c, "");
    EXPECT_EQ(text.rfind("# wgate gateway configuration", 0), 0u) << text;
    EXPECT_TRUE(contains(text, "  - name: \"@home\"\n")) << text;
    EXPECT_TRUE(contains(text, "  - public_key: " + key_text(2) + "\n    allowed_ips: []\n")) << text;
    // Not a valid config (or not YAML at all): generated, keeping the top comments.
    const std::string broken = "# my notes\n# more notes\n\ninterface: [\n";
    const std::string again = render(c, broken);
    EXPECT_EQ(again.rfind("# my notes\n# more notes\n\ninterface:\n", 0), 0u) << again;
    // Windows line endings: generated too, and still readable.
    render(c, "# crlf\r\ninterface:\r\n  addresses: [10.8.0.1/24]\r\n");
}

TEST(GatewayConfigRender, EveryFieldRoundTrips) {
    const std::string full = "interface:\n"
                             "  name: wg-lab\n"
                             "  private_key_file: \"/etc/wgate/my key.key\"\n"
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
    const auto c = parse(full);
    // load(render(load(x))) == load(x), over the original and from scratch.
    EXPECT_EQ(parse(render_gateway_config(c, full)), c);
    EXPECT_EQ(parse(render_gateway_config(c, "")), c);
    const std::string fresh = render_gateway_config(c, "");
    EXPECT_EQ(render_gateway_config(parse(fresh), fresh), fresh);
}

TEST(GatewayConfigRender, RefusesWhatWgatedWouldRefuse) {
    auto c = parse(kCommented);
    c.peers[0].allowed_ips.push_back(prefix("10.9.0.1/32"));
    try {
        render_gateway_config(c, kCommented);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_TRUE(contains(e.what(), "gw.yaml:21: peers[0].allowed_ips[2]: '10.9.0.1/32' is outside")) << e.what();
    }
    c = parse(kCommented);
    c.peers[0].name = "has space";
    EXPECT_THROW(render_gateway_config(c, kCommented), ConfigError);
}

TEST(GatewayConfigRender, LargeConfigRendersOnce) {
    GatewayConfig c;
    c.interface.addresses = {*InterfaceAddress::parse("10.8.0.1/16")};
    for (int i = 0; i < 3000; ++i) {
        PeerConfig p;
        p.name = "peer-" + std::to_string(i);
        p.public_key = key_bytes(1);
        p.public_key[0] = static_cast<std::uint8_t>(i);
        p.public_key[1] = static_cast<std::uint8_t>(i >> 8);
        const std::uint8_t b4[4] = {10, 8, static_cast<std::uint8_t>((i + 2) / 256), static_cast<std::uint8_t>((i + 2) % 256)};
        p.allowed_ips = {core::IpPrefix::make(core::IpAddress::v4(b4), 32)};
        c.peers.push_back(p);
    }
    const auto start = std::chrono::steady_clock::now();
    const std::string first = render(c, "");
    auto more = parse(first);
    more.peers.erase(more.peers.begin() + 1500);
    more.peers[10].allowed_ips.clear();
    const std::string second = render(more, first);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    EXPECT_FALSE(contains(second, "name: peer-1500\n"));
    EXPECT_TRUE(contains(second, "name: peer-1499\n"));
    EXPECT_TRUE(contains(second, "  - name: peer-10\n    public_key: " + crypto::key_to_base64(more.peers[10].public_key) +
                                     "\n    allowed_ips: []\n"));
    EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), std::count(second.begin(), second.end(), '\n') + 3);
}

// Random edits, each rendered over the previous text: always reads back.
TEST(GatewayConfigRender, RandomEditsReadBack) {
    std::mt19937 rng(11);
    auto c = parse(kCommented);
    std::string text = kCommented;
    for (int round = 0; round < 200; ++round) {
        switch (rng() % 8) {
            case 0:
                c.interface.listen_port = static_cast<std::uint16_t>(1 + rng() % 65535);
                break;
            case 1:
                c.interface.fwmark = rng() % 2 ? std::optional<std::uint32_t>(rng()) : std::nullopt;
                break;
            case 2: {
                const auto key = static_cast<std::uint8_t>(10 + rng() % 200);
                bool taken = false;
                for (const auto& p : c.peers) taken = taken || p.public_key == key_bytes(key);
                const std::uint8_t b4[4] = {10, 8, 0, key};
                if (!taken)
                    c.peers.insert(c.peers.begin() + static_cast<std::ptrdiff_t>(rng() % (c.peers.size() + 1)),
                                   make_peer(rng() % 3 ? "p" + std::to_string(key) : "", key,
                                             {core::IpPrefix::make(core::IpAddress::v4(b4), 32).to_string()}));
                break;
            }
            case 3:
                if (!c.peers.empty()) c.peers.erase(c.peers.begin() + static_cast<std::ptrdiff_t>(rng() % c.peers.size()));
                break;
            case 4:
                if (!c.peers.empty()) {
                    auto& p = c.peers[rng() % c.peers.size()];
                    p.persistent_keepalive = rng() % 2 ? std::optional<std::uint16_t>(rng() % 100) : std::nullopt;
                    p.disabled = rng() % 2;
                }
                break;
            case 5:
                if (!c.peers.empty()) {
                    auto& p = c.peers[rng() % c.peers.size()];
                    p.endpoint = rng() % 2 ? HostPort::parse("h" + std::to_string(rng() % 9) + ".example:51820")
                                           : std::nullopt;
                    p.name = rng() % 4 ? p.name : "";
                }
                break;
            case 6:
                if (c.peers.size() > 1) std::swap(c.peers[0], c.peers[rng() % c.peers.size()]);
                break;
            default:
                c.gateway.masquerade = !c.gateway.masquerade;
                c.persist = rng() % 2;
                break;
        }
        text = render(c, text);
        ASSERT_FALSE(HasFailure()) << "round " << round;
        // The file's own comments survive every edit.
        ASSERT_TRUE(contains(text, "# Lab gateway.\n# Second header line.\n")) << text;
        ASSERT_TRUE(contains(text, "  # addresses double as the pool\n")) << text;
    }
}

}  // namespace
}  // namespace wgate::config
