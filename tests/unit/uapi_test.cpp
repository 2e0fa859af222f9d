// The UAPI control layer: parse_set, apply_set, format_get and Session, with
// the wire format and validation checked against what wireguard-go 0.0.20220316
// does (see the comments in uapi.hpp).
#include "wgate/control/uapi.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "device_harness.hpp"
#include "uapi_test_host.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::control {
namespace {

using namespace std::chrono_literals;
using crypto::PublicKey;
using test::endpoint;
using test::prefix;

// ---------------------------------------------------------------- helpers

PublicKey key_of_range(std::uint8_t first) {
    PublicKey k;
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(first + i);
    return k;
}

std::string hex(const crypto::Bytes<32>& k) { return crypto::key_to_hex(k); }

const std::string kZeroHex(64, '0');

class FakeHost : public Host {
public:
    std::uint16_t listen_port() const override { return port; }
    std::size_t max_peers() const override { return peer_limit; }
    std::optional<UapiError> set_listen_port(std::uint16_t p) override {
        ++port_calls;
        if (busy_port && *busy_port == p) return UapiError{EADDRINUSE, "address in use"};
        port = p;
        return std::nullopt;
    }
    std::uint32_t fwmark() const override { return mark; }
    std::optional<UapiError> set_fwmark(std::uint32_t m) override {
        if (fail_fwmark) return UapiError{EPERM, "no"};
        mark = m;
        return std::nullopt;
    }
    std::optional<std::string> peer_name(const PublicKey& k) const override {
        const auto it = names.find(k);
        if (it == names.end()) return std::nullopt;
        return it->second;
    }
    void set_peer_name(const PublicKey& k, const std::optional<std::string>& name) override {
        if (name) {
            names[k] = *name;
        } else {
            names.erase(k);
        }
    }

    std::uint16_t port = 0;
    std::uint32_t mark = 0;
    std::optional<std::uint16_t> busy_port;
    bool fail_fwmark = false;
    std::size_t peer_limit = kMaxPeers;
    int port_calls = 0;
    std::map<PublicKey, std::string> names;
};

SetRequest parse_ok(std::string_view text) {
    auto result = parse_set(text);
    if (auto* e = std::get_if<UapiError>(&result)) {
        ADD_FAILURE() << "parse_set failed: " << e->message << "\n" << text;
        return {};
    }
    return std::get<SetRequest>(std::move(result));
}

int parse_errno(std::string_view text) {
    auto result = parse_set(text);
    if (auto* e = std::get_if<UapiError>(&result)) {
        EXPECT_FALSE(e->message.empty());
        return e->errno_value;
    }
    return 0;
}

// A device with a private key, on a fixed clock, plus a host.
struct Fixture : ::testing::Test {
    Fixture() : random(7), device(random) {
        key = crypto::generate_private_key(random);
        device.set_private_key(key);
        now.mono = 100s;
        now.wall = std::chrono::seconds(1'700'000'000);
        peer_a = crypto::public_key_of(crypto::generate_private_key(random));
        peer_b = crypto::public_key_of(crypto::generate_private_key(random));
        peer_c = crypto::public_key_of(crypto::generate_private_key(random));
    }

    std::optional<UapiError> set(std::string_view text) {
        out.clear();
        auto parsed = parse_set(text);
        if (auto* e = std::get_if<UapiError>(&parsed)) return *e;
        return apply_set(device, host, std::get<SetRequest>(parsed), now, out);
    }
    void set_ok(std::string_view text) {
        const auto e = set(text);
        ASSERT_FALSE(e) << e->message;
    }
    std::vector<std::string> ips(const PublicKey& k) const {
        std::vector<std::string> list;
        const core::Peer* p = device.find_peer(k);
        if (!p) return list;
        for (const auto& pf : device.allowed_ips_of(*p)) list.push_back(pf.to_string());
        return list;
    }

    crypto::DeterministicRandom random;
    core::Device device;
    FakeHost host;
    crypto::PrivateKey key;
    core::Now now;
    core::Outputs out;
    PublicKey peer_a{}, peer_b{}, peer_c{};
};

// ---------------------------------------------------------------- parse_set: accepted

TEST(UapiParse, EmptyRequestIsNoOp) {
    const SetRequest r = parse_ok("");
    EXPECT_FALSE(r.private_key);
    EXPECT_FALSE(r.listen_port);
    EXPECT_FALSE(r.fwmark);
    EXPECT_FALSE(r.replace_peers);
    EXPECT_TRUE(r.peers.empty());
}

TEST(UapiParse, DeviceKeys) {
    const std::string sk(64, 'a');
    const SetRequest r = parse_ok("private_key=" + sk + "\nlisten_port=51820\nfwmark=4294967295\nreplace_peers=true\n");
    ASSERT_TRUE(r.private_key);
    EXPECT_EQ(hex(r.private_key->bytes()), sk);
    EXPECT_EQ(r.listen_port, 51820);
    EXPECT_EQ(r.fwmark, 4294967295u);
    EXPECT_TRUE(r.replace_peers);
}

TEST(UapiParse, ZeroPrivateKeyAndNumbersAsGoReadsThem) {
    // strconv.ParseUint: any number of leading zeros is fine.
    const SetRequest r = parse_ok("private_key=" + kZeroHex + "\nlisten_port=00051820\nfwmark=0\n");
    ASSERT_TRUE(r.private_key);
    EXPECT_TRUE(r.private_key->is_zero());
    EXPECT_EQ(r.listen_port, 51820);
    EXPECT_EQ(r.fwmark, 0u);
    EXPECT_EQ(parse_ok("listen_port=" + std::string(300, '0') + "7").listen_port, 7);
    EXPECT_EQ(parse_ok("listen_port=65535").listen_port, 65535);
    EXPECT_EQ(parse_ok("listen_port=0").listen_port, 0);
}

TEST(UapiParse, PeerKeys) {
    const PublicKey a = key_of_range(1);
    const PublicKey psk = key_of_range(100);
    const SetRequest r = parse_ok("public_key=" + hex(a) +
                                  "\nprotocol_version=1\nupdate_only=true\nremove=true\npreshared_key=" + hex(psk) +
                                  "\nendpoint=192.0.2.7:51820\npersistent_keepalive_interval=25\n"
                                  "replace_allowed_ips=true\nallowed_ip=10.1.0.0/16\nallowed_ip=fd00::1/128\n"
                                  "name=laptop\n");
    ASSERT_EQ(r.peers.size(), 1u);
    const PeerChange& p = r.peers[0];
    EXPECT_EQ(p.public_key, a);
    EXPECT_TRUE(p.update_only);
    EXPECT_TRUE(p.remove);
    ASSERT_TRUE(p.preshared_key);
    EXPECT_EQ(p.preshared_key->bytes(), psk);
    ASSERT_TRUE(p.endpoint);
    EXPECT_EQ(p.endpoint->to_string(), "192.0.2.7:51820");
    EXPECT_EQ(p.persistent_keepalive, 25);
    EXPECT_TRUE(p.replace_allowed_ips);
    ASSERT_EQ(p.allowed_ips.size(), 2u);
    EXPECT_EQ(p.allowed_ips[0], prefix("10.1.0.0/16"));
    EXPECT_EQ(p.allowed_ips[1], prefix("fd00::1/128"));
    EXPECT_EQ(p.name, "laptop");
}

TEST(UapiParse, SeveralPeersInOrder) {
    const SetRequest r = parse_ok("public_key=" + hex(key_of_range(1)) + "\nallowed_ip=10.0.0.1/32\npublic_key=" +
                                  hex(key_of_range(33)) + "\npublic_key=" + hex(key_of_range(1)) + "\nremove=true");
    ASSERT_EQ(r.peers.size(), 3u);
    EXPECT_EQ(r.peers[0].public_key, key_of_range(1));
    EXPECT_EQ(r.peers[0].allowed_ips.size(), 1u);
    EXPECT_EQ(r.peers[1].public_key, key_of_range(33));
    EXPECT_TRUE(r.peers[1].allowed_ips.empty());
    EXPECT_TRUE(r.peers[2].remove);
}

TEST(UapiParse, AcceptedValueForms) {
    const std::string pk = "public_key=" + hex(key_of_range(1)) + "\n";
    // Hex in either case (Go's hex.DecodeString).
    std::string upper = hex(key_of_range(0xa0));
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(parse_ok("public_key=" + upper).peers.at(0).public_key, key_of_range(0xa0));
    EXPECT_EQ(parse_ok(pk + "preshared_key=" + kZeroHex).peers.at(0).preshared_key->is_zero(), true);
    // Host bits are dropped; /0 works in both families.
    auto r = parse_ok(pk + "allowed_ip=10.5.5.5/8\nallowed_ip=0.0.0.0/0\nallowed_ip=::/0\nallowed_ip=FD00::ABCD/128\n"
                           "allowed_ip=::ffff:10.9.0.0/120\nallowed_ip=10.0.0.0/0");
    ASSERT_EQ(r.peers.at(0).allowed_ips.size(), 6u);
    EXPECT_EQ(r.peers[0].allowed_ips[0].to_string(), "10.0.0.0/8");
    EXPECT_EQ(r.peers[0].allowed_ips[1].to_string(), "0.0.0.0/0");
    EXPECT_EQ(r.peers[0].allowed_ips[2].to_string(), "::/0");
    EXPECT_EQ(format_prefix(r.peers[0].allowed_ips[3]), "fd00::abcd/128");
    EXPECT_EQ(format_prefix(r.peers[0].allowed_ips[4]), "::ffff:10.9.0.0/120");
    EXPECT_EQ(r.peers[0].allowed_ips[5].to_string(), "0.0.0.0/0");
    // Endpoints: numeric v4, bracketed v6 (also v4-mapped), port 0 and leading zeros.
    EXPECT_EQ(parse_ok(pk + "endpoint=[2001:db8::1]:51820").peers[0].endpoint->to_string(), "[2001:db8::1]:51820");
    EXPECT_EQ(format_endpoint(*parse_ok(pk + "endpoint=[::ffff:1.2.3.4]:80").peers[0].endpoint), "[::ffff:1.2.3.4]:80");
    EXPECT_EQ(parse_ok(pk + "endpoint=1.2.3.4:0").peers[0].endpoint->port, 0);
    EXPECT_EQ(parse_ok(pk + "endpoint=1.2.3.4:00080").peers[0].endpoint->port, 80);
    EXPECT_EQ(parse_ok(pk + "persistent_keepalive_interval=65535").peers[0].persistent_keepalive, 65535);
    EXPECT_EQ(parse_ok(pk + "persistent_keepalive_interval=0").peers[0].persistent_keepalive, 0);
}

TEST(UapiParse, CarriageReturnsAreDropped) {
    // bufio.ScanLines drops a '\r' before the '\n'.
    const SetRequest r = parse_ok("listen_port=1234\r\npublic_key=" + hex(key_of_range(1)) + "\r\nallowed_ip=10.0.0.1/32\r\n");
    EXPECT_EQ(r.listen_port, 1234);
    ASSERT_EQ(r.peers.size(), 1u);
    EXPECT_EQ(r.peers[0].allowed_ips.size(), 1u);
}

TEST(UapiParse, BlankLineEndsTheRequest) {
    const SetRequest r = parse_ok("listen_port=1\n\nthis is not looked at\n");
    EXPECT_EQ(r.listen_port, 1);
    EXPECT_EQ(parse_ok("listen_port=1\r\n\r\nbogus").listen_port, 1);
}

TEST(UapiParse, LastLineNeedsNoNewline) { EXPECT_EQ(parse_ok("listen_port=9").listen_port, 9); }

TEST(UapiParse, LaterDeviceValuesWin) {
    const SetRequest r = parse_ok("listen_port=1\nlisten_port=2\nfwmark=5\nfwmark=0");
    EXPECT_EQ(r.listen_port, 2);
    EXPECT_EQ(r.fwmark, 0u);
}

TEST(UapiParse, ReplaceAllowedIpsDropsTheBlocksEarlierAllowedIps) {
    const SetRequest r = parse_ok("public_key=" + hex(key_of_range(1)) +
                                  "\nallowed_ip=10.0.0.1/32\nreplace_allowed_ips=true\nallowed_ip=10.0.0.2/32");
    ASSERT_EQ(r.peers.at(0).allowed_ips.size(), 1u);
    EXPECT_EQ(r.peers[0].allowed_ips[0], prefix("10.0.0.2/32"));
    EXPECT_TRUE(r.peers[0].replace_allowed_ips);
}

TEST(UapiParse, PeerNames) {
    const std::string pk = "public_key=" + hex(key_of_range(1)) + "\n";
    EXPECT_EQ(parse_ok(pk + "name=Zo\xc3\xab's laptop \xe2\x9c\x93 \xf0\x9f\x92\xbb").peers[0].name,
              "Zo\xc3\xab's laptop \xe2\x9c\x93 \xf0\x9f\x92\xbb");
    EXPECT_EQ(parse_ok(pk + "name=" + std::string(64, 'x')).peers[0].name, std::string(64, 'x'));
    EXPECT_EQ(parse_ok(pk + "name=").peers[0].name, "");  // removes the name
    EXPECT_EQ(parse_ok(pk + "name=a b").peers[0].name, "a b");
    EXPECT_FALSE(parse_ok(pk).peers[0].name);
    for (const std::string& bad : {std::string(65, 'x'), std::string("a=b"), std::string("tab\there"),
                                  std::string("del\x7f"), std::string("nul\0x", 5), std::string("\xff"),
                                  std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"), std::string("\xed\xa0\x80"),
                                  std::string("\xf4\x90\x80\x80"), std::string("\xc2\x80"), std::string("\xe2\x82"),
                                  std::string("\x80"), std::string("\xf8\x88\x80\x80\x80")}) {
        EXPECT_EQ(parse_errno(pk + "name=" + bad), EINVAL) << bad;
        EXPECT_FALSE(valid_peer_name(bad));
    }
}

// ---------------------------------------------------------------- parse_set: rejected

struct Rejected {
    std::string text;
    int errno_value;
};

TEST(UapiParse, RejectsEveryBadKeyAndValue) {
    const std::string pk = "public_key=" + hex(key_of_range(1)) + "\n";
    const std::string k = hex(key_of_range(1));
    const std::vector<Rejected> cases = {
        // structure
        {"listen_port", EPROTO},
        {"x", EPROTO},
        {pk + "allowed_ip", EPROTO},
        {"=x", EINVAL},
        {"bogus=1", EINVAL},
        {"Listen_port=1", EINVAL},
        {" listen_port=1", EINVAL},
        {"listen_port =1", EINVAL},
        {"name=x", EINVAL},  // peer keys before any public_key
        {"protocol_version=1", EINVAL},
        {"update_only=true", EINVAL},
        {"remove=true", EINVAL},
        {"preshared_key=" + kZeroHex, EINVAL},
        {"endpoint=1.2.3.4:5", EINVAL},
        {"persistent_keepalive_interval=1", EINVAL},
        {"replace_allowed_ips=true", EINVAL},
        {"allowed_ip=10.0.0.0/8", EINVAL},
        {pk + "private_key=" + k, EINVAL},  // device keys after one
        {pk + "listen_port=1", EINVAL},
        {pk + "fwmark=1", EINVAL},
        {pk + "replace_peers=true", EINVAL},
        {pk + "bogus=1", EINVAL},
        {pk + "errno=0", EINVAL},
        {pk + "last_handshake_time_sec=0", EINVAL},
        {pk + "tx_bytes=0", EINVAL},
        // keys
        {"private_key=", EINVAL},
        {"private_key=" + k.substr(1), EINVAL},
        {"private_key=" + k + "0", EINVAL},
        {"private_key=" + k.substr(2) + "zz", EINVAL},
        {"private_key=" + k.substr(2) + " 0", EINVAL},
        {"public_key=", EINVAL},
        {"public_key=" + k.substr(1), EINVAL},
        {"public_key=" + k + "00", EINVAL},
        {"public_key=" + k.substr(2) + "g0", EINVAL},
        {pk + "preshared_key=00", EINVAL},
        {pk + "preshared_key=", EINVAL},
        {pk + "preshared_key=" + k.substr(2) + "-1", EINVAL},
        // numbers
        {"listen_port=", EINVAL},
        {"listen_port=65536", EINVAL},
        {"listen_port=-1", EINVAL},
        {"listen_port=+1", EINVAL},
        {"listen_port=0x10", EINVAL},
        {"listen_port= 1", EINVAL},
        {"listen_port=1 ", EINVAL},
        {"listen_port=1.0", EINVAL},
        {"listen_port=1_000", EINVAL},
        {"listen_port=99999999999999999999999999", EINVAL},
        {"fwmark=", EINVAL},
        {"fwmark=4294967296", EINVAL},
        {"fwmark=-1", EINVAL},
        {"fwmark=0x1", EINVAL},
        {pk + "persistent_keepalive_interval=", EINVAL},
        {pk + "persistent_keepalive_interval=65536", EINVAL},
        {pk + "persistent_keepalive_interval=-1", EINVAL},
        {pk + "persistent_keepalive_interval=25s", EINVAL},
        // flags: only "true"
        {"replace_peers=false", EINVAL},
        {"replace_peers=TRUE", EINVAL},
        {"replace_peers=1", EINVAL},
        {"replace_peers=", EINVAL},
        {pk + "remove=false", EINVAL},
        {pk + "remove=1", EINVAL},
        {pk + "update_only=false", EINVAL},
        {pk + "update_only=", EINVAL},
        {pk + "replace_allowed_ips=yes", EINVAL},
        {pk + "replace_allowed_ips=false", EINVAL},
        // protocol_version
        {pk + "protocol_version=2", EINVAL},
        {pk + "protocol_version=0", EINVAL},
        {pk + "protocol_version=01", EINVAL},
        {pk + "protocol_version=", EINVAL},
        {pk + "protocol_version=1 ", EINVAL},
        // endpoints
        {pk + "endpoint=", EINVAL},
        {pk + "endpoint=1.2.3.4", EINVAL},
        {pk + "endpoint=1.2.3.4:", EINVAL},
        {pk + "endpoint=:80", EINVAL},
        {pk + "endpoint=[1.2.3.4]:80", EINVAL},
        {pk + "endpoint=::1:80", EINVAL},
        {pk + "endpoint=[::1]", EINVAL},
        {pk + "endpoint=[::1]:", EINVAL},
        {pk + "endpoint=[]:80", EINVAL},
        {pk + "endpoint=[::1:80", EINVAL},
        {pk + "endpoint=[fe80::1%eth0]:51820", EINVAL},
        {pk + "endpoint=localhost:80", EINVAL},
        {pk + "endpoint=vpn.example.com:51820", EINVAL},
        {pk + "endpoint=1.2.3.4:65536", EINVAL},
        {pk + "endpoint=1.2.3.4:+80", EINVAL},
        {pk + "endpoint=1.2.3.4:-1", EINVAL},
        {pk + "endpoint=01.2.3.4:80", EINVAL},
        {pk + "endpoint=1.2.3:80", EINVAL},
        {pk + "endpoint=1.2.3.4:80 ", EINVAL},
        {pk + "endpoint= 1.2.3.4:80", EINVAL},
        // allowed IPs
        {pk + "allowed_ip=", EINVAL},
        {pk + "allowed_ip=10.0.0.1", EINVAL},
        {pk + "allowed_ip=10.0.0.1/", EINVAL},
        {pk + "allowed_ip=/24", EINVAL},
        {pk + "allowed_ip=10.0.0.1/33", EINVAL},
        {pk + "allowed_ip=::/129", EINVAL},
        {pk + "allowed_ip=10.0.0.0/+24", EINVAL},
        {pk + "allowed_ip=10.0.0.0/024", EINVAL},
        {pk + "allowed_ip=10.0.0.0/-0", EINVAL},
        {pk + "allowed_ip=10.0.0.0/00", EINVAL},
        {pk + "allowed_ip=010.0.0.1/32", EINVAL},
        {pk + "allowed_ip= 10.0.0.1/32", EINVAL},
        {pk + "allowed_ip=10.0.0.1/32 ", EINVAL},
        {pk + "allowed_ip=fe80::1%eth0/128", EINVAL},
        {pk + "allowed_ip=10.0.0.0/8/8", EINVAL},
        {pk + "allowed_ip=10.0.0.0/8,10.0.0.1/32", EINVAL},
        {pk + "allowed_ip=[::1]/128", EINVAL},
        {pk + "allowed_ip=1:2:3:4:5:6:7:8:9/128", EINVAL},
        // an error after good lines
        {"listen_port=1\nfwmark=2\n" + pk + "allowed_ip=10.0.0.0/8\nbogus=1\n", EINVAL},
    };
    for (const auto& c : cases) EXPECT_EQ(parse_errno(c.text), c.errno_value) << c.text;
}

TEST(UapiParse, ParserIsIncremental) {
    SetParser parser;
    EXPECT_FALSE(parser.feed_line("listen_port=5"));
    EXPECT_FALSE(parser.feed_line("public_key=" + hex(key_of_range(3)) + "\r"));
    EXPECT_FALSE(parser.feed_line("allowed_ip=10.0.0.0/8"));
    EXPECT_EQ(parser.request().peers.size(), 1u);
    const SetRequest r = parser.take();
    EXPECT_EQ(r.listen_port, 5);
    EXPECT_EQ(r.peers.at(0).allowed_ips.size(), 1u);
    EXPECT_TRUE(parser.request().peers.empty());  // take() resets
    const auto e = parser.feed_line("allowed_ip=10.0.0.0/8");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value, EINVAL);
}

// ---------------------------------------------------------------- apply_set

using UapiApply = Fixture;

TEST_F(UapiApply, CreatesAPeerWithEverything) {
    const PublicKey psk = key_of_range(100);
    set_ok("listen_port=51999\nfwmark=4660\npublic_key=" + hex(peer_a) + "\npreshared_key=" + hex(psk) +
           "\nendpoint=192.0.2.7:51820\npersistent_keepalive_interval=25\nallowed_ip=10.1.0.0/16\n"
           "allowed_ip=fd00::1/128\nname=laptop\n");
    EXPECT_EQ(host.port, 51999);
    EXPECT_EQ(host.mark, 4660u);
    const core::Peer* p = device.find_peer(peer_a);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->preshared_key().bytes(), psk);
    ASSERT_TRUE(p->endpoint());
    EXPECT_EQ(p->endpoint()->to_string(), "192.0.2.7:51820");
    EXPECT_EQ(p->persistent_keepalive(), 25);
    EXPECT_EQ(ips(peer_a), (std::vector<std::string>{"10.1.0.0/16", "fd00::1/128"}));
    EXPECT_EQ(host.names.at(peer_a), "laptop");
    EXPECT_EQ(device.allowed_ips().lookup(test::ip("10.1.2.3")), p);
    // Keepalive turned on, device up, endpoint known: something goes out at once.
    EXPECT_FALSE(out.to_network.empty());
    EXPECT_TRUE(out.to_network[0].endpoint.same_remote(endpoint("192.0.2.7:51820")));
}

TEST_F(UapiApply, KeepaliveOnlyWhenTurnedOn) {
    set_ok("public_key=" + hex(peer_a) + "\nendpoint=192.0.2.7:51820\npersistent_keepalive_interval=25");
    EXPECT_FALSE(out.to_network.empty());
    set_ok("public_key=" + hex(peer_a) + "\npersistent_keepalive_interval=30");  // already on
    EXPECT_TRUE(out.to_network.empty());
    set_ok("public_key=" + hex(peer_a) + "\npersistent_keepalive_interval=0");
    EXPECT_EQ(device.find_peer(peer_a)->persistent_keepalive(), 0);
    EXPECT_TRUE(out.to_network.empty());
}

TEST_F(UapiApply, NoKeepaliveOnADownDevice) {
    device.set_up(false, now, out);
    set_ok("public_key=" + hex(peer_a) + "\nendpoint=192.0.2.7:51820\npersistent_keepalive_interval=25");
    EXPECT_TRUE(out.to_network.empty());
    EXPECT_EQ(device.find_peer(peer_a)->persistent_keepalive(), 25);
}

TEST_F(UapiApply, PrivateKeyIsClampedAndCanBeRemoved) {
    set_ok("private_key=" + std::string(64, 'a'));
    EXPECT_EQ(hex(device.identity().private_key.bytes()), "a8" + std::string(60, 'a') + "6a");
    EXPECT_TRUE(device.identity().has_key);
    const PublicKey pub = device.identity().public_key;
    // The same key again (unclamped or clamped) changes nothing.
    set_ok("private_key=a8" + std::string(60, 'a') + "6a");
    EXPECT_EQ(device.identity().public_key, pub);
    set_ok("private_key=" + kZeroHex);
    EXPECT_FALSE(device.identity().has_key);
    EXPECT_EQ(format_get(device, host, false).find("private_key="), std::string::npos);
}

TEST_F(UapiApply, NewPrivateKeyRemovesThePeerWithItsPublicKey) {
    crypto::PrivateKey k2 = crypto::generate_private_key(random);
    const PublicKey pub2 = crypto::public_key_of(k2);
    set_ok("public_key=" + hex(pub2) + "\nname=soon-me\npublic_key=" + hex(peer_a));
    ASSERT_NE(device.find_peer(pub2), nullptr);
    set_ok("private_key=" + hex(k2.bytes()));
    EXPECT_EQ(device.find_peer(pub2), nullptr);
    EXPECT_NE(device.find_peer(peer_a), nullptr);
    EXPECT_EQ(host.names.count(pub2), 0u);
}

TEST_F(UapiApply, OwnPublicKeyIsIgnored) {
    const PublicKey own = device.identity().public_key;
    set_ok("public_key=" + hex(own) + "\nallowed_ip=10.0.0.0/8\nname=me\npublic_key=" + hex(peer_a));
    EXPECT_EQ(device.find_peer(own), nullptr);
    EXPECT_EQ(device.peer_count(), 1u);
    EXPECT_TRUE(host.names.empty());
    // Also the key that the same request installs.
    crypto::PrivateKey k2 = crypto::generate_private_key(random);
    set_ok("private_key=" + hex(k2.bytes()) + "\npublic_key=" + hex(crypto::public_key_of(k2)) +
           "\nallowed_ip=10.0.0.0/8");
    EXPECT_EQ(device.peer_count(), 1u);
}

TEST_F(UapiApply, ReplacePeersRemovesAllExistingPeersFirst) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32\nname=a\npublic_key=" + hex(peer_b) +
           "\nallowed_ip=10.0.0.2/32\nname=b");
    set_ok("replace_peers=true\npublic_key=" + hex(peer_b) + "\nallowed_ip=10.0.0.3/32\npublic_key=" + hex(peer_c));
    EXPECT_EQ(device.find_peer(peer_a), nullptr);
    ASSERT_NE(device.find_peer(peer_b), nullptr);
    EXPECT_EQ(ips(peer_b), std::vector<std::string>{"10.0.0.3/32"});  // a fresh peer
    EXPECT_NE(device.find_peer(peer_c), nullptr);
    EXPECT_EQ(device.peers().front()->public_key(), peer_b);  // re-created: new order
    EXPECT_EQ(device.allowed_ips().lookup(test::ip("10.0.0.1")), nullptr);
    // Names of peers that are gone go too; a peer brought back keeps its name.
    EXPECT_EQ(host.names.count(peer_a), 0u);
    EXPECT_EQ(host.names.at(peer_b), "b");
    set_ok("replace_peers=true");
    EXPECT_EQ(device.peer_count(), 0u);
    EXPECT_TRUE(host.names.empty());
}

TEST_F(UapiApply, UpdateOnlySkipsPeersThatDoNotExist) {
    set_ok("public_key=" + hex(peer_a) + "\nupdate_only=true\nallowed_ip=10.0.0.1/32\nname=x");
    EXPECT_EQ(device.find_peer(peer_a), nullptr);
    EXPECT_EQ(device.peer_count(), 0u);
    EXPECT_TRUE(host.names.empty());
    // Wherever update_only stands in the block.
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32\nupdate_only=true");
    EXPECT_EQ(device.peer_count(), 0u);
    EXPECT_EQ(device.allowed_ips().size(), 0u);
    // An existing peer is updated.
    set_ok("public_key=" + hex(peer_a));
    set_ok("public_key=" + hex(peer_a) + "\nupdate_only=true\nallowed_ip=10.0.0.1/32\nendpoint=[2001:db8::5]:4");
    EXPECT_EQ(ips(peer_a), std::vector<std::string>{"10.0.0.1/32"});
    EXPECT_EQ(device.find_peer(peer_a)->endpoint()->to_string(), "[2001:db8::5]:4");
    // A peer created earlier in the same request exists for a later block.
    set_ok("public_key=" + hex(peer_b) + "\npublic_key=" + hex(peer_b) + "\nupdate_only=true\nallowed_ip=10.0.0.2/32");
    EXPECT_EQ(ips(peer_b), std::vector<std::string>{"10.0.0.2/32"});
}

TEST_F(UapiApply, RemoveDeletesThePeer) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32\nname=a\npublic_key=" + hex(peer_b));
    set_ok("public_key=" + hex(peer_a) + "\nremove=true");
    EXPECT_EQ(device.find_peer(peer_a), nullptr);
    EXPECT_NE(device.find_peer(peer_b), nullptr);
    EXPECT_EQ(device.allowed_ips().lookup(test::ip("10.0.0.1")), nullptr);
    EXPECT_EQ(host.names.count(peer_a), 0u);
    // Removing a peer that does not exist changes nothing; nor is it created.
    set_ok("public_key=" + hex(peer_c) + "\nremove=true\nallowed_ip=10.0.0.3/32");
    EXPECT_EQ(device.find_peer(peer_c), nullptr);
    EXPECT_EQ(device.peer_count(), 1u);
    // Other lines of the block do not matter, before or after.
    set_ok("public_key=" + hex(peer_b) + "\nallowed_ip=10.0.0.9/32\nremove=true\nname=zz");
    EXPECT_EQ(device.peer_count(), 0u);
    EXPECT_EQ(device.allowed_ips().size(), 0u);
    EXPECT_TRUE(host.names.empty());
    // Removed and re-added within one request.
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32");
    set_ok("public_key=" + hex(peer_a) + "\nremove=true\npublic_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.2/32");
    EXPECT_EQ(ips(peer_a), std::vector<std::string>{"10.0.0.2/32"});
}

TEST_F(UapiApply, ReplaceAllowedIpsClearsTheListFirst) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32\nallowed_ip=fd00::1/128");
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.5/32");  // adds
    EXPECT_EQ(ips(peer_a), (std::vector<std::string>{"10.0.0.1/32", "fd00::1/128", "10.0.0.5/32"}));
    set_ok("public_key=" + hex(peer_a) + "\nreplace_allowed_ips=true\nallowed_ip=10.0.0.7/32");
    EXPECT_EQ(ips(peer_a), std::vector<std::string>{"10.0.0.7/32"});
    set_ok("public_key=" + hex(peer_a) + "\nreplace_allowed_ips=true");
    EXPECT_TRUE(ips(peer_a).empty());
    EXPECT_EQ(device.allowed_ips().size(), 0u);
}

TEST_F(UapiApply, AllowedIpMovesBetweenPeersAndToTheEndOfTheList) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.7.0.0/24\nallowed_ip=10.8.0.0/24\npublic_key=" +
           hex(peer_b) + "\nallowed_ip=10.9.0.0/24");
    // Another peer takes 10.8.0.0/24 over.
    set_ok("public_key=" + hex(peer_b) + "\nallowed_ip=10.8.0.0/24");
    EXPECT_EQ(ips(peer_a), std::vector<std::string>{"10.7.0.0/24"});
    EXPECT_EQ(ips(peer_b), (std::vector<std::string>{"10.9.0.0/24", "10.8.0.0/24"}));
    // Re-adding a prefix the peer has moves it to the end, as in wireguard-go
    // (verified: X, Y, X lists Y, X) and the kernel.
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.1.0/24\nallowed_ip=10.7.0.0/24");
    EXPECT_EQ(ips(peer_a), (std::vector<std::string>{"10.8.1.0/24", "10.7.0.0/24"}));
}

TEST_F(UapiApply, ZeroPresharedKeyClearsIt) {
    set_ok("public_key=" + hex(peer_a) + "\npreshared_key=" + hex(key_of_range(9)));
    EXPECT_FALSE(device.find_peer(peer_a)->preshared_key().is_zero());
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32");  // untouched when not given
    EXPECT_FALSE(device.find_peer(peer_a)->preshared_key().is_zero());
    set_ok("public_key=" + hex(peer_a) + "\npreshared_key=" + kZeroHex);
    EXPECT_TRUE(device.find_peer(peer_a)->preshared_key().is_zero());
}

TEST_F(UapiApply, EndpointReplacesTheOldOne) {
    set_ok("public_key=" + hex(peer_a) + "\nendpoint=192.0.2.1:1");
    set_ok("public_key=" + hex(peer_a) + "\nendpoint=[2001:db8::1]:2");
    EXPECT_EQ(device.find_peer(peer_a)->endpoint()->to_string(), "[2001:db8::1]:2");
}

TEST_F(UapiApply, NamesAreSetAndRemoved) {
    set_ok("public_key=" + hex(peer_a) + "\nname=first");
    EXPECT_EQ(host.names.at(peer_a), "first");
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32");  // untouched when not given
    EXPECT_EQ(host.names.at(peer_a), "first");
    set_ok("public_key=" + hex(peer_a) + "\nname=second");
    EXPECT_EQ(host.names.at(peer_a), "second");
    set_ok("public_key=" + hex(peer_a) + "\nname=");
    EXPECT_EQ(host.names.count(peer_a), 0u);
}

TEST_F(UapiApply, FailingListenPortChangesNothing) {
    set_ok("listen_port=1000\nfwmark=1\npublic_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.1/32\nname=a");
    const PublicKey before = device.identity().public_key;
    host.busy_port = 2000;
    const auto e = set("private_key=" + std::string(64, 'b') + "\nlisten_port=2000\nfwmark=7\nreplace_peers=true\n" +
                       "public_key=" + hex(peer_b) + "\nallowed_ip=10.0.0.2/32\npublic_key=" + hex(peer_a) +
                       "\nremove=true");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value, EADDRINUSE);
    EXPECT_EQ(host.port, 1000);
    EXPECT_EQ(host.mark, 1u);
    EXPECT_EQ(device.identity().public_key, before);
    EXPECT_EQ(device.peer_count(), 1u);
    EXPECT_EQ(ips(peer_a), std::vector<std::string>{"10.0.0.1/32"});
    EXPECT_EQ(device.find_peer(peer_b), nullptr);
    EXPECT_EQ(host.names.at(peer_a), "a");
    EXPECT_TRUE(out.to_network.empty());
}

TEST_F(UapiApply, FailingFwmarkPutsThePortBack) {
    set_ok("listen_port=1000");
    host.fail_fwmark = true;
    const auto e = set("listen_port=2000\nfwmark=3\npublic_key=" + hex(peer_a));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value, EPERM);
    EXPECT_EQ(host.port, 1000);
    EXPECT_EQ(device.peer_count(), 0u);
}

TEST_F(UapiApply, TooManyPeersIsRefusedBeforeAnythingChanges) {
    auto numbered = [](std::size_t i) {
        PublicKey k = key_of_range(0);
        std::memcpy(k.data(), &i, sizeof i);
        return k;
    };
    SetRequest r;
    r.listen_port = 4000;
    EXPECT_GE(kMaxPeers, 100000u);  // the default: a big gateway fits
    host.peer_limit = 1000;
    r.peers.resize(host.peer_limit + 1);
    for (std::size_t i = 0; i < r.peers.size(); ++i) r.peers[i].public_key = numbered(i);
    const auto e = apply_set(device, host, r, now, out);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value, EINVAL);
    EXPECT_EQ(device.peer_count(), 0u);
    EXPECT_EQ(host.port_calls, 0);
    // Blocks that only update a missing peer create nothing, so they do not count.
    for (std::size_t i = 10; i < r.peers.size(); ++i) r.peers[i].update_only = true;
    EXPECT_FALSE(apply_set(device, host, r, now, out));
    EXPECT_EQ(device.peer_count(), 10u);
    EXPECT_EQ(host.port, 4000);
}

// ---------------------------------------------------------------- format_get

TEST(UapiFormat, AddressesAsGoPrintsThem) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"10.1.2.3", "10.1.2.3"},
        {"0.0.0.0", "0.0.0.0"},
        {"::", "::"},
        {"::1", "::1"},
        {"fd00::1", "fd00::1"},
        {"2001:db8::", "2001:db8::"},
        {"::2:3", "::2:3"},                    // glibc: ::0.2.0.3
        {"::1.2.3.4", "::102:304"},            // glibc: ::1.2.3.4 (wireguard-go printed ::102:304)
        {"::ffff:10.9.0.0", "::ffff:10.9.0.0"},
        {"::ffff:0:0", "::ffff:0.0.0.0"},
        {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},   // the first of two equal runs
        {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},     // the longest run
        {"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"},  // single zero groups stay
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
        {"FE80:0000:0000:0000:0ABC:00DE:F000:0001", "fe80::abc:de:f000:1"},
        {"0:0:1::", "0:0:1::"},
    };
    for (const auto& [in, expected] : cases) EXPECT_EQ(format_address(test::ip(in)), expected) << in;
    EXPECT_EQ(format_endpoint(endpoint("[::2:3]:80")), "[::2:3]:80");
    EXPECT_EQ(format_endpoint(endpoint("192.0.2.1:0")), "192.0.2.1:0");
    EXPECT_EQ(format_prefix(prefix("::/0")), "::/0");
}

TEST(UapiFormat, ErrnoIsNegatedOnTheWire) {
    EXPECT_EQ(format_errno(0), "errno=0\n\n");
    EXPECT_EQ(format_errno(EINVAL), "errno=-22\n\n");
    EXPECT_EQ(format_errno(EADDRINUSE), "errno=-98\n\n");
    EXPECT_EQ(format_errno(EPROTO), "errno=-71\n\n");
}

TEST(UapiFormat, EmptyDevice) {
    crypto::DeterministicRandom random(1);
    core::Device device(random);
    FakeHost host;
    EXPECT_EQ(format_get(device, host, true), "errno=0\n\n");
}

// The configuration of the byte-for-byte comparison with wireguard-go
// 0.0.20220316: this text is what it answered (its peer order is random; this
// was one run). The device is down so that the keepalive does not count bytes
// (wireguard-go's send failed in its empty namespace and counted none).
TEST(UapiFormat, ExactlyWhatWireguardGoPrints) {
    crypto::DeterministicRandom random(1);
    core::Device device(random);
    FakeHost host;
    core::Outputs out;
    device.set_up(false, {}, out);
    const std::string a = hex(key_of_range(1)), b = hex(key_of_range(33)), psk = hex(key_of_range(100));
    auto parsed = parse_set("private_key=" + std::string(64, 'a') +
                            "\nlisten_port=51999\nfwmark=4660\nreplace_peers=true\npublic_key=" + a +
                            "\npreshared_key=" + psk +
                            "\nendpoint=192.0.2.7:51820\npersistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
                            "allowed_ip=10.1.0.0/16\nallowed_ip=fd00::1/128\nallowed_ip=10.2.3.4/32\n"
                            "allowed_ip=::ffff:10.9.0.0/120\nallowed_ip=::2:3/128\npublic_key=" +
                            b + "\n");
    ASSERT_TRUE(std::holds_alternative<SetRequest>(parsed));
    ASSERT_FALSE(apply_set(device, host, std::get<SetRequest>(parsed), {}, out));
    const std::string expected =
        "private_key=a8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6a\n"
        "listen_port=51999\n"
        "fwmark=4660\n"
        "public_key=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n"
        "preshared_key=6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283\n"
        "protocol_version=1\n"
        "endpoint=192.0.2.7:51820\n"
        "last_handshake_time_sec=0\n"
        "last_handshake_time_nsec=0\n"
        "tx_bytes=0\n"
        "rx_bytes=0\n"
        "persistent_keepalive_interval=25\n"
        "allowed_ip=10.1.0.0/16\n"
        "allowed_ip=fd00::1/128\n"
        "allowed_ip=10.2.3.4/32\n"
        "allowed_ip=::ffff:10.9.0.0/120\n"
        "allowed_ip=::2:3/128\n"
        "public_key=2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40\n"
        "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
        "protocol_version=1\n"
        "last_handshake_time_sec=0\n"
        "last_handshake_time_nsec=0\n"
        "tx_bytes=0\n"
        "rx_bytes=0\n"
        "persistent_keepalive_interval=0\n"
        "errno=0\n\n";
    EXPECT_EQ(format_get(device, host, false), expected);
    // No names known: with_names changes nothing.
    EXPECT_EQ(format_get(device, host, true), expected);
    // A name goes right after its public_key, only when asked for.
    host.names[key_of_range(33)] = "lab VM";
    const std::string named = format_get(device, host, true);
    EXPECT_NE(named.find("public_key=" + b + "\nname=lab VM\npreshared_key=" + kZeroHex + "\n"), std::string::npos);
    EXPECT_EQ(format_get(device, host, false), expected);
    // A name the Host holds but that could break a client is not printed.
    host.names[key_of_range(33)] = "bad\nname";
    EXPECT_EQ(format_get(device, host, true), expected);
}

TEST(UapiFormat, HandshakeTimeAndCounters) {
    test::Harness h;
    h.connect();
    h.a_sends();
    ASSERT_TRUE(h.pa->last_handshake());
    FakeHost host;
    const std::string text = format_get(h.a.device, host, false);
    const auto ns = h.pa->last_handshake()->count();
    EXPECT_NE(text.find("last_handshake_time_sec=" + std::to_string(ns / 1'000'000'000) +
                        "\nlast_handshake_time_nsec=" + std::to_string(ns % 1'000'000'000) + "\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("tx_bytes=" + std::to_string(h.pa->tx_bytes()) + "\nrx_bytes=" +
                        std::to_string(h.pa->rx_bytes()) + "\n"),
              std::string::npos);
    EXPECT_GT(h.pa->tx_bytes(), 0u);
    EXPECT_NE(text.find("endpoint=198.51.100.7:51821\n"), std::string::npos);
    EXPECT_NE(text.find("allowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\nerrno=0\n\n"), std::string::npos);
}

// Everything format_get prints reads back through parse_set once the
// read-only keys are left out.
TEST_F(UapiApply, GetOutputReadsBackAsASet) {
    device.set_up(false, now, out);  // no keepalive, so no tx_bytes
    set_ok("listen_port=7\nfwmark=9\npublic_key=" + hex(peer_a) + "\nname=n\npreshared_key=" + hex(key_of_range(5)) +
           "\nendpoint=[2001:db8::7]:9\npersistent_keepalive_interval=3\nallowed_ip=::2:3/128\n"
           "allowed_ip=::ffff:1.2.3.0/120\npublic_key=" +
           hex(peer_b));
    const std::string text = format_get(device, host, true);
    std::string lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty() || line.starts_with("errno=") || line.starts_with("last_handshake") ||
            line.starts_with("tx_bytes") || line.starts_with("rx_bytes"))
            continue;
        lines += line + "\n";
    }
    const SetRequest r = parse_ok(lines);
    crypto::DeterministicRandom random2(9);
    core::Device copy(random2);
    FakeHost host2;
    copy.set_up(false, now, out);
    ASSERT_FALSE(apply_set(copy, host2, r, now, out));
    EXPECT_EQ(format_get(copy, host2, true), text);
}

// ---------------------------------------------------------------- Session

struct UapiSession : Fixture {
    Session make(SessionLimits limits = {}) {
        return Session(device, host, [this] { return now; }, out, limits);
    }
};

TEST_F(UapiSession, GetAnswersFormatGet) {
    set_ok("listen_port=5\npublic_key=" + hex(peer_a) + "\nname=x");
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed("get=1\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, format_get(device, host, true));
    EXPECT_NE(reply.find("\nname=x\n"), std::string::npos);
}

TEST_F(UapiSession, NamesInGet1CanBeTurnedOffButGetWgateAlwaysHasThem) {
    set_ok("public_key=" + hex(peer_a) + "\nname=x");
    SessionLimits limits;
    limits.names_in_get = false;
    Session s = make(limits);
    std::string reply;
    EXPECT_EQ(s.feed("get=1\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, format_get(device, host, false));
    reply.clear();
    EXPECT_EQ(s.feed("get=wgate\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, format_get(device, host, true, true));
}

TEST_F(UapiSession, SetAppliesAtTheBlankLine) {
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed("set=1\nlisten_port=777\npublic_key=" + hex(peer_a) + "\n", reply), Session::Status::keep_open);
    EXPECT_TRUE(reply.empty());
    EXPECT_EQ(host.port, 0);  // nothing yet
    EXPECT_EQ(s.sets_applied(), 0u);
    EXPECT_EQ(s.feed("\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=0\n\n");
    EXPECT_EQ(s.sets_applied(), 1u);
    EXPECT_EQ(host.port, 777);
    EXPECT_NE(device.find_peer(peer_a), nullptr);
}

TEST_F(UapiSession, ByteByByteGivesTheSameResult) {
    const std::string request = "set=1\nlisten_port=4242\nfwmark=3\npublic_key=" + hex(peer_a) +
                                "\r\nallowed_ip=10.0.0.0/8\nallowed_ip=fd00::/64\nendpoint=[2001:db8::1]:51820\n\n"
                                "get=1\n\nset=1\nbogus=1\n\nget=wgate\n\n";
    Session s = make();
    std::string reply;
    for (const char c : request) ASSERT_EQ(s.feed(std::string_view(&c, 1), reply), Session::Status::keep_open);
    const std::string get = format_get(device, host, true);
    EXPECT_EQ(reply, "errno=0\n\n" + get + "errno=-22\n\n" + format_get(device, host, true, true));
    EXPECT_EQ(host.port, 4242);
    EXPECT_EQ(ips(peer_a), (std::vector<std::string>{"10.0.0.0/8", "fd00::/64"}));
    // And in chunks of every size.
    for (std::size_t chunk = 2; chunk < request.size(); chunk += 7) {
        crypto::DeterministicRandom r(3);
        core::Device d(r);
        FakeHost h;
        Session s2(d, h, [this] { return now; }, out);
        std::string rep;
        for (std::size_t i = 0; i < request.size(); i += chunk)
            ASSERT_EQ(s2.feed(std::string_view(request).substr(i, chunk), rep), Session::Status::keep_open);
        const std::string get2 = format_get(d, h, true);
        EXPECT_EQ(rep, "errno=0\n\n" + get2 + "errno=-22\n\n" + format_get(d, h, true, true)) << chunk;
        EXPECT_EQ(h.port, 4242);
    }
}

TEST_F(UapiSession, TwoRequestsInOneFeed) {
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed("set=1\nlisten_port=1\n\nset=1\nlisten_port=2\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=0\n\nerrno=0\n\n");
    EXPECT_EQ(host.port, 2);
}

TEST_F(UapiSession, EmptySetIsFine) {
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed("set=1\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=0\n\n");
}

TEST_F(UapiSession, BadCommandsCloseWithoutAnswer) {
    for (const std::string_view input : {"get=2\n", "set=2\n", "get=1\r\n", "set=1\r\n", "GET=1\n", "\n", "get\n",
                                    " get=1\n", "hello world\n", "get=wgate2\n"}) {
        Session s = make();
        std::string reply;
        EXPECT_EQ(s.feed(input, reply), Session::Status::close) << input;
        EXPECT_TRUE(reply.empty()) << input;
        EXPECT_TRUE(s.closed());
        EXPECT_EQ(s.feed("get=1\n\n", reply), Session::Status::close);
        EXPECT_TRUE(reply.empty());
    }
    // A command line that can never be valid is refused before its newline.
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed(std::string(100, 'g'), reply), Session::Status::close);
    EXPECT_TRUE(reply.empty());
}

TEST_F(UapiSession, GetWithTrailingByteAnswersEinval) {
    Session s = make();
    std::string reply;
    // The byte after "get=1\n" must be '\n'; that one byte is consumed.
    EXPECT_EQ(s.feed("get=1\nxget=1\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=-22\n\n" + format_get(device, host, true));
}

TEST_F(UapiSession, BadValueAnswersAtOnceAndChangesNothing) {
    set_ok("listen_port=10");
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed("set=1\nlisten_port=11\npublic_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.0/33\n", reply),
              Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=-22\n\n");
    // The rest of the request is read and dropped, even bad lines.
    EXPECT_EQ(s.feed("allowed_ip=also bad\nno equals sign\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=-22\n\n");
    EXPECT_EQ(host.port, 10);
    EXPECT_EQ(device.peer_count(), 0u);
    // The connection is still usable.
    reply.clear();
    EXPECT_EQ(s.feed("get=1\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, format_get(device, host, true));
}

TEST_F(UapiSession, ApplyErrorIsAnswered) {
    host.busy_port = 53;
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed("set=1\nlisten_port=53\npublic_key=" + hex(peer_a) + "\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=-98\n\n");
    EXPECT_EQ(device.peer_count(), 0u);
    EXPECT_EQ(s.sets_applied(), 0u);
}

TEST_F(UapiSession, LineWithoutEqualsAnswersEprotoAndCloses) {
    Session s = make();
    std::string reply;
    EXPECT_EQ(s.feed("set=1\nlisten_port=1\nnonsense\nfwmark=1\n\n", reply), Session::Status::close);
    EXPECT_EQ(reply, "errno=-71\n\n");
    EXPECT_EQ(host.port, 0);
    EXPECT_EQ(s.feed("get=1\n\n", reply), Session::Status::close);
    EXPECT_EQ(reply, "errno=-71\n\n");
}

TEST_F(UapiSession, OverLongLineAnswersEioAndCloses) {
    SessionLimits limits;
    limits.max_line_bytes = 100;
    {
        Session s = make(limits);
        std::string reply;
        EXPECT_EQ(s.feed("set=1\nname=" + std::string(200, 'x') + "\n\n", reply), Session::Status::close);
        EXPECT_EQ(reply, "errno=-5\n\n");
    }
    {
        // Refused before the newline arrives: nothing over the limit is buffered.
        Session s = make(limits);
        std::string reply;
        EXPECT_EQ(s.feed("set=1\nlisten_port=", reply), Session::Status::keep_open);
        EXPECT_EQ(s.feed(std::string(99, '1'), reply), Session::Status::close);
        EXPECT_EQ(reply, "errno=-5\n\n");
    }
    {
        Session s = make(limits);  // exactly at the limit is fine
        std::string reply;
        const std::string line = "listen_port=" + std::string(99 - 12 - 4, '0') + "1234\n";
        ASSERT_EQ(line.size(), 100u);
        EXPECT_EQ(s.feed("set=1\n" + line + "\n", reply), Session::Status::keep_open);
        EXPECT_EQ(reply, "errno=0\n\n");
        EXPECT_EQ(host.port, 1234);
    }
}

TEST_F(UapiSession, OversizeRequestAnswersEmsgsizeAndCloses) {
    SessionLimits limits;
    limits.max_request_bytes = 1000;
    Session s = make(limits);
    std::string reply;
    std::string body = "public_key=" + hex(peer_a) + "\n";
    for (int i = 0; i < 60; ++i) body += "allowed_ip=10.0.0." + std::to_string(i) + "/32\n";
    const Session::Status status = s.feed("set=1\n" + body + "\n", reply);
    EXPECT_EQ(status, Session::Status::close);
    EXPECT_EQ(reply, "errno=-90\n\n");
    EXPECT_EQ(device.peer_count(), 0u);
}

TEST_F(UapiSession, SixteenMebibytesPass) {
    // `wg setconf` with 130,000 allowed IPs is about 4 MB; the default limit
    // takes four times that and more.
    Session s = make();
    std::string reply;
    ASSERT_EQ(s.feed("set=1\n", reply), Session::Status::keep_open);
    std::string chunk = "public_key=" + hex(peer_a) + "\n";
    while (chunk.size() < (1u << 20)) chunk += "protocol_version=1\n";
    for (int i = 0; i < 17; ++i) ASSERT_EQ(s.feed(chunk, reply), Session::Status::keep_open) << i;
    EXPECT_EQ(s.feed("\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=0\n\n");
    EXPECT_EQ(device.peer_count(), 1u);
}

TEST_F(UapiSession, FinishAppliesAnUnterminatedSetLikeWireguardGo) {
    {
        Session s = make();
        std::string reply;
        EXPECT_EQ(s.feed("set=1\nlisten_port=51777\npublic_key=" + hex(peer_a) + "\nallowed_ip=10.0.0.0/8", reply),
                  Session::Status::keep_open);
        EXPECT_EQ(s.finish(reply), Session::Status::close);
        EXPECT_EQ(reply, "errno=0\n\n");
        EXPECT_EQ(host.port, 51777);
        EXPECT_EQ(ips(peer_a), std::vector<std::string>{"10.0.0.0/8"});
    }
    {
        Session s = make();
        std::string reply;
        EXPECT_EQ(s.feed("set=1\nlisten_port=bad", reply), Session::Status::keep_open);
        EXPECT_EQ(s.finish(reply), Session::Status::close);
        EXPECT_EQ(reply, "errno=-22\n\n");
        EXPECT_EQ(host.port, 51777);
    }
    {
        // An unfinished command or get is dropped without an answer.
        Session s = make();
        std::string reply;
        EXPECT_EQ(s.feed("get=1\n", reply), Session::Status::keep_open);
        EXPECT_EQ(s.finish(reply), Session::Status::close);
        EXPECT_TRUE(reply.empty());
        Session s2 = make();
        EXPECT_EQ(s2.feed("get=1", reply), Session::Status::keep_open);
        EXPECT_EQ(s2.finish(reply), Session::Status::close);
        EXPECT_TRUE(reply.empty());
    }
}

TEST_F(UapiSession, KeepaliveGoesIntoTheSessionsOutputs) {
    Session s = make();
    std::string reply;
    out.clear();
    EXPECT_EQ(s.feed("set=1\npublic_key=" + hex(peer_a) + "\nendpoint=192.0.2.9:1\npersistent_keepalive_interval=5\n\n",
                     reply),
              Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=0\n\n");
    EXPECT_FALSE(out.to_network.empty());
}

// ---------------------------------------------------------------- large configurations

TEST_F(UapiApply, OnePeerWith130000AllowedIps) {
    std::string text = "replace_peers=true\npublic_key=" + hex(peer_a) + "\nreplace_allowed_ips=true\n";
    for (int i = 0; i < 130000; ++i) {
        text += "allowed_ip=10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                std::to_string(i & 255) + "/32\n";
    }
    const SetRequest r = parse_ok(text);
    ASSERT_EQ(r.peers.size(), 1u);
    ASSERT_EQ(r.peers[0].allowed_ips.size(), 130000u);
    ASSERT_FALSE(apply_set(device, host, r, now, out));
    const auto list = device.allowed_ips_of(*device.find_peer(peer_a));
    ASSERT_EQ(list.size(), 130000u);
    EXPECT_EQ(list.front().to_string(), "10.0.0.0/32");
    EXPECT_EQ(list.back().to_string(), "10.1.251.207/32");  // 129999 = 1*65536 + 251*256 + 207
    EXPECT_EQ(device.allowed_ips().lookup(test::ip("10.1.0.5")), device.find_peer(peer_a));
    const std::string get = format_get(device, host, false);
    EXPECT_EQ(static_cast<std::size_t>(std::count(get.begin(), get.end(), '\n')), 1u + 8u + 130000u + 2u);
}

TEST_F(UapiSession, FortyPeersWith52AllowedIpsEach) {
    std::vector<PublicKey> keys;
    std::string text = "set=1\nreplace_peers=true\n";
    for (int p = 0; p < 40; ++p) {
        keys.push_back(crypto::public_key_of(crypto::generate_private_key(random)));
        text += "public_key=" + hex(keys.back()) + "\nreplace_allowed_ips=true\n";
        for (int i = 0; i < 26; ++i) {
            text += "allowed_ip=10." + std::to_string(p) + "." + std::to_string(i) + ".0/24\n";
            text += "allowed_ip=fd00:" + std::to_string(p + 1) + "::" + std::to_string(i) + "/128\n";
        }
    }
    text += "\n";
    Session s = make();
    std::string reply;
    for (std::size_t i = 0; i < text.size(); i += 4096)
        ASSERT_EQ(s.feed(std::string_view(text).substr(i, 4096), reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=0\n\n");
    ASSERT_EQ(device.peer_count(), 40u);
    EXPECT_EQ(device.allowed_ips().size(), 40u * 52u);
    for (int p = 0; p < 40; ++p) {
        const auto list = ips(keys[static_cast<std::size_t>(p)]);
        ASSERT_EQ(list.size(), 52u);
        EXPECT_EQ(list[0], "10." + std::to_string(p) + ".0.0/24");
        EXPECT_EQ(list[51], "fd00:" + std::to_string(p + 1) + "::25/128");  // "25" is hex there
    }
    // wg's get of the whole thing.
    reply.clear();
    EXPECT_EQ(s.feed("get=1\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(static_cast<std::size_t>(std::count(reply.begin(), reply.end(), '\n')), 1u + 40u * (8u + 52u) + 2u);
}

// ---------------------------------------------------------------- wgate extension: reason keys

TEST(ReasonKeys, AreUniqueSnakeCaseAndRoundTrip) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < core::kReasonCount; ++i) {
        const auto r = static_cast<core::Reason>(i);
        const std::string key = core::key_of(r);
        EXPECT_TRUE(seen.insert(key).second) << key;
        for (const char c : key) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << key;
        EXPECT_EQ(core::reason_from_key(key), r);
    }
    EXPECT_STREQ(core::key_of(core::Reason::bad_mac1), "bad_mac1");
    EXPECT_STREQ(core::key_of(core::Reason::unknown_peer), "unknown_peer");
    EXPECT_FALSE(core::reason_from_key("no_such_reason"));
}

// ---------------------------------------------------------------- wgate extension: get=wgate

struct UapiExtension : ::testing::Test {
    UapiExtension() : random(9), device(random) {
        device.set_private_key(crypto::generate_private_key(random));
        now.mono = 100s;
        now.wall = std::chrono::seconds(1'700'000'000);
        peer_a = crypto::public_key_of(crypto::generate_private_key(random));
        peer_b = crypto::public_key_of(crypto::generate_private_key(random));
    }
    std::optional<UapiError> set(std::string_view text) {
        out.clear();
        auto parsed = parse_set(text);
        if (auto* e = std::get_if<UapiError>(&parsed)) return *e;
        return apply_set(device, host, std::get<SetRequest>(parsed), now, out);
    }
    void set_ok(std::string_view text) {
        const auto e = set(text);
        ASSERT_FALSE(e) << e->message;
    }
    std::string get_wgate() { return format_get(device, host, true, true); }
    std::vector<std::string> ips(const PublicKey& k) const {
        std::vector<std::string> list;
        if (const core::Peer* p = device.find_peer(k)) {
            for (const auto& pf : device.allowed_ips_of(*p)) list.push_back(pf.to_string());
        }
        return list;
    }

    crypto::DeterministicRandom random;
    core::Device device;
    test::TestHost host;
    core::Now now;
    core::Outputs out;
    PublicKey peer_a{}, peer_b{};
};

TEST_F(UapiExtension, Get1IsUnchangedByTheExtension) {
    host.extension_lines = "wgate_mode=gateway\nwgate_address=10.8.0.1/24\n";
    set_ok("listen_port=51820\npublic_key=" + hex(peer_a) + "\nname=laptop\nallowed_ip=10.8.0.2/32\n"
           "public_key=" + hex(peer_b) + "\nallowed_ip=10.8.0.3/32");
    set_ok("public_key=" + hex(peer_b) + "\nwgate_disabled=true");
    const std::string get1 = format_get(device, host, true);
    EXPECT_EQ(get1.find("wgate_"), std::string::npos);
    EXPECT_EQ(get1.find(hex(peer_b)), std::string::npos);  // disabled peers are invisible to wg
    // And what get=1 printed before the extension existed: the default arguments.
    EXPECT_EQ(get1, format_get(device, host, true, false));
}

TEST_F(UapiExtension, PlainHostGetsModePlainMtuAndDropCounters) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    // A datagram too short for any message (device-wide) and a TUN packet for
    // a peer without an endpoint (tied to that peer).
    const std::vector<std::uint8_t> junk = {1, 2, 3};
    device.on_datagram(core::ReceivedDatagram{endpoint("192.0.2.9:4000"), junk}, now, out);
    const auto packet = test::ipv4_packet("10.8.0.1", "10.8.0.2");
    device.on_tun_packet(packet, now, out);
    const std::string get = get_wgate();
    const auto mode = get.find("wgate_mode=plain\n");
    const auto mtu = get.find("wgate_mtu=1420\n");
    const auto dropped = get.find("wgate_dropped=bad_length:1\n");
    const auto no_endpoint = get.find("wgate_dropped=no_endpoint:1\n");
    const auto first_peer = get.find("public_key=");
    ASSERT_NE(mode, std::string::npos) << get;
    ASSERT_NE(mtu, std::string::npos) << get;
    ASSERT_NE(dropped, std::string::npos) << get;
    ASSERT_NE(no_endpoint, std::string::npos) << get;
    EXPECT_LT(mode, mtu);
    EXPECT_LT(mtu, first_peer);
    EXPECT_LT(dropped, first_peer);
    // Per peer, before its allowed IPs.
    const auto rejection = get.find("wgate_last_rejection=no_endpoint\n");
    ASSERT_NE(rejection, std::string::npos) << get;
    EXPECT_GT(rejection, first_peer);
    EXPECT_LT(rejection, get.find("allowed_ip=10.8.0.2/32"));
    EXPECT_EQ(get.substr(get.size() - 9), "errno=0\n\n");
}

TEST_F(UapiExtension, GatewayLinesComeAfterTheInterfaceAndBeforeThePeers) {
    host.extension_lines =
        "wgate_mode=gateway\nwgate_address=10.8.0.1/24\nwgate_address=fd42:8::1/64\n"
        "wgate_public_endpoint=vpn.example.com:51820\nwgate_lan_route=192.168.10.0/24\nwgate_dns=10.8.0.1\n"
        "wgate_keepalive=25\nwgate_masquerade=true\nwgate_egress=eth0\nwgate_config=/etc/wgate/wg0.yaml\n"
        "wgate_mtu=1380\n";
    set_ok("listen_port=51820\npublic_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    const std::string get = get_wgate();
    const std::string expected_start = "private_key=";
    EXPECT_EQ(get.compare(0, expected_start.size(), expected_start), 0);
    const auto port = get.find("listen_port=51820\n");
    const auto lines = get.find(host.extension_lines);
    ASSERT_NE(lines, std::string::npos) << get;
    EXPECT_LT(port, lines);
    EXPECT_LT(lines, get.find("public_key="));
    EXPECT_EQ(get.find("wgate_mode=plain"), std::string::npos);  // the host said gateway
    EXPECT_EQ(get.find("wgate_mtu=1420"), std::string::npos);    // and gave its own MTU
}

TEST_F(UapiExtension, HostLinesCannotEndTheAnswerEarly) {
    host.extension_lines = "wgate_mode=gateway\n\n\nnot a line\nwgate_egress=eth0";  // blank lines, no '=', no '\n'
    const std::string get = get_wgate();
    EXPECT_EQ(get.find("\n\n"), get.size() - 2) << get;
    EXPECT_NE(get.find("wgate_egress=eth0\n"), std::string::npos);
    EXPECT_EQ(get.find("not a line"), std::string::npos);
}

// ---------------------------------------------------------------- wgate extension: disabled peers

TEST_F(UapiExtension, ParsesWgateDisabled) {
    auto r = parse_set("public_key=" + hex(peer_a) + "\nwgate_disabled=true\npublic_key=" + hex(peer_b) +
                       "\nwgate_disabled=false");
    ASSERT_TRUE(std::holds_alternative<SetRequest>(r));
    const auto& req = std::get<SetRequest>(r);
    EXPECT_EQ(req.peers[0].disabled, std::optional<bool>(true));
    EXPECT_EQ(req.peers[1].disabled, std::optional<bool>(false));
    EXPECT_EQ(std::get<UapiError>(parse_set("public_key=" + hex(peer_a) + "\nwgate_disabled=yes")).errno_value, EINVAL);
    EXPECT_EQ(std::get<UapiError>(parse_set("wgate_disabled=true")).errno_value, EINVAL);  // a device key it is not
}

TEST_F(UapiExtension, DisableKeepsTheWholeConfigurationWithTheHost) {
    const std::string psk(64, '7');
    set_ok("public_key=" + hex(peer_a) + "\nname=laptop\npreshared_key=" + psk +
           "\nendpoint=192.0.2.7:4000\npersistent_keepalive_interval=25\nallowed_ip=10.8.0.2/32\nallowed_ip=fd42::2/128");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true");
    EXPECT_EQ(device.find_peer(peer_a), nullptr);
    EXPECT_TRUE(host.last_disable_had_current);
    const PeerChange* kept = host.kept(peer_a);
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(kept->name, std::optional<std::string>("laptop"));
    ASSERT_TRUE(kept->preshared_key);
    EXPECT_EQ(hex(kept->preshared_key->bytes()), psk);
    ASSERT_TRUE(kept->endpoint);
    EXPECT_EQ(kept->endpoint->to_string(), "192.0.2.7:4000");
    EXPECT_EQ(kept->persistent_keepalive, std::optional<std::uint16_t>(25));
    ASSERT_EQ(kept->allowed_ips.size(), 2u);
    EXPECT_TRUE(kept->replace_allowed_ips);
    EXPECT_EQ(host.names.count(peer_a), 0u);

    // get=wgate lists it after the live peers, in the documented order.
    set_ok("public_key=" + hex(peer_b) + "\nallowed_ip=10.8.0.3/32");
    const std::string get = get_wgate();
    const std::string block = "public_key=" + hex(peer_a) + "\nname=laptop\nwgate_disabled=true\npreshared_key=" + psk +
                              "\nendpoint=192.0.2.7:4000\npersistent_keepalive_interval=25\n"
                              "allowed_ip=10.8.0.2/32\nallowed_ip=fd42::2/128\nerrno=0\n\n";
    ASSERT_GE(get.size(), block.size());
    EXPECT_EQ(get.substr(get.size() - block.size()), block) << get;
    EXPECT_LT(get.find(hex(peer_b)), get.find(hex(peer_a)));
}

TEST_F(UapiExtension, EnableRestoresTheConfigurationThenAppliesTheBlock) {
    set_ok("public_key=" + hex(peer_a) + "\nname=laptop\npersistent_keepalive_interval=25\nallowed_ip=10.8.0.2/32");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=false\nallowed_ip=fd42::2/128");
    const core::Peer* p = device.find_peer(peer_a);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->persistent_keepalive(), 25);
    EXPECT_EQ(ips(peer_a), (std::vector<std::string>{"10.8.0.2/32", "fd42::2/128"}));
    EXPECT_EQ(host.names.at(peer_a), "laptop");
    EXPECT_EQ(host.kept(peer_a), nullptr);
}

TEST_F(UapiExtension, RenamingADisabledPeerChangesWhatTheHostKeeps) {
    set_ok("public_key=" + hex(peer_a) + "\nname=old\nallowed_ip=10.8.0.2/32");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true\nname=new");
    EXPECT_EQ(device.find_peer(peer_a), nullptr);
    EXPECT_FALSE(host.last_disable_had_current);
    ASSERT_NE(host.kept(peer_a), nullptr);
    EXPECT_EQ(host.kept(peer_a)->name, std::optional<std::string>("new"));
    EXPECT_EQ(host.kept(peer_a)->allowed_ips.size(), 1u);
    EXPECT_EQ(host.disabled.size(), 1u);
}

TEST_F(UapiExtension, RemoveForgetsADisabledPeer) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true");
    set_ok("public_key=" + hex(peer_a) + "\nremove=true");
    EXPECT_TRUE(host.disabled.empty());
    EXPECT_EQ(device.find_peer(peer_a), nullptr);
}

TEST_F(UapiExtension, PlainBlocksReEnableButUpdateOnlySkips) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true");
    set_ok("public_key=" + hex(peer_a) + "\nupdate_only=true\nallowed_ip=10.8.0.9/32");
    EXPECT_EQ(device.find_peer(peer_a), nullptr);
    ASSERT_NE(host.kept(peer_a), nullptr);
    EXPECT_EQ(host.kept(peer_a)->allowed_ips.size(), 1u);
    // A block that would create the peer brings the kept one back (with its addresses).
    set_ok("public_key=" + hex(peer_a) + "\npersistent_keepalive_interval=5");
    ASSERT_NE(device.find_peer(peer_a), nullptr);
    EXPECT_EQ(ips(peer_a), std::vector<std::string>{"10.8.0.2/32"});
    EXPECT_EQ(host.kept(peer_a), nullptr);
}

TEST_F(UapiExtension, ReplacePeersLeavesDisabledPeersAlone) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true");
    set_ok("replace_peers=true\npublic_key=" + hex(peer_b) + "\nallowed_ip=10.8.0.3/32");
    EXPECT_NE(host.kept(peer_a), nullptr);
    EXPECT_EQ(device.peer_count(), 1u);
}

TEST_F(UapiExtension, DisablingANewKeyKeepsANewDisabledPeerUnlessUpdateOnly) {
    set_ok("public_key=" + hex(peer_a) + "\nupdate_only=true\nwgate_disabled=true\nallowed_ip=10.8.0.2/32");
    EXPECT_TRUE(host.disabled.empty());
    set_ok("public_key=" + hex(peer_a) + "\nwgate_disabled=true\nallowed_ip=10.8.0.2/32\nname=spare");
    ASSERT_NE(host.kept(peer_a), nullptr);
    EXPECT_EQ(host.kept(peer_a)->name, std::optional<std::string>("spare"));
    EXPECT_EQ(device.peer_count(), 0u);
}

TEST_F(UapiExtension, DefaultHostRefusesDisablingAndNothingChanges) {
    host.supports_disable = false;
    set_ok("listen_port=1000\npublic_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    const auto e = set("listen_port=2000\npublic_key=" + hex(peer_b) + "\nallowed_ip=10.8.0.3/32\npublic_key=" +
                       hex(peer_a) + "\nwgate_disabled=true");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value, EOPNOTSUPP);
    EXPECT_EQ(host.port, 1000);
    EXPECT_NE(device.find_peer(peer_a), nullptr);
    EXPECT_EQ(device.find_peer(peer_b), nullptr);
}

TEST_F(UapiExtension, AFailingDisableUndoesTheEarlierOnesOfTheRequest) {
    const PublicKey peer_c = crypto::public_key_of(crypto::generate_private_key(random));
    set_ok("listen_port=1000\nfwmark=1\npublic_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32\npublic_key=" +
           hex(peer_b) + "\nallowed_ip=10.8.0.3/32\npublic_key=" + hex(peer_c) + "\nname=c\nallowed_ip=10.8.0.4/32");
    set_ok("public_key=" + hex(peer_c) + "\nwgate_disabled=true");  // already disabled before the request
    host.refuse_disable = peer_b;
    const auto e = set("listen_port=2000\nfwmark=2\npublic_key=" + hex(peer_a) + "\nwgate_disabled=true\npublic_key=" +
                       hex(peer_c) + "\nwgate_disabled=true\nname=renamed\npublic_key=" + hex(peer_b) +
                       "\nwgate_disabled=true");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value, EPERM);
    EXPECT_EQ(host.port, 1000);
    EXPECT_EQ(host.mark, 1u);
    EXPECT_NE(device.find_peer(peer_a), nullptr);
    EXPECT_NE(device.find_peer(peer_b), nullptr);
    EXPECT_EQ(host.kept(peer_a), nullptr);
    ASSERT_NE(host.kept(peer_c), nullptr);
    EXPECT_EQ(host.kept(peer_c)->name, std::optional<std::string>("c"));
}

TEST_F(UapiExtension, ADisabledPeersBlockMustBeItsOnlyBlock) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    const auto e = set("public_key=" + hex(peer_a) + "\nwgate_disabled=true\npublic_key=" + hex(peer_a) +
                       "\nallowed_ip=10.8.0.9/32");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errno_value, EINVAL);
    EXPECT_EQ(host.disable_calls, 0);
    EXPECT_NE(device.find_peer(peer_a), nullptr);
}

TEST_F(UapiExtension, DisablingFreesAPeerSlotForTheLimit) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    SetRequest r;
    PeerChange& c = r.peers.emplace_back();
    c.public_key = peer_a;
    c.disabled = true;
    ASSERT_FALSE(apply_set(device, host, r, now, out));
    EXPECT_EQ(device.peer_count(), 0u);
}

TEST_F(UapiExtension, MergeAndSnapshotHelpers) {
    set_ok("public_key=" + hex(peer_a) + "\nname=n\nendpoint=192.0.2.1:9\nallowed_ip=10.8.0.2/32\nallowed_ip=10.8.0.3/32");
    PeerChange config = snapshot_peer(device, *device.find_peer(peer_a), host);
    EXPECT_EQ(config.public_key, peer_a);
    EXPECT_FALSE(config.preshared_key);
    EXPECT_FALSE(config.persistent_keepalive);
    PeerChange change;
    change.public_key = peer_a;
    change.allowed_ips = {test::prefix("10.8.0.2/32")};  // moves to the end
    change.persistent_keepalive = 0;
    change.name = "";
    change.preshared_key.emplace();  // all zero: none
    merge_peer_change(config, change);
    ASSERT_EQ(config.allowed_ips.size(), 2u);
    EXPECT_EQ(config.allowed_ips[0].to_string(), "10.8.0.3/32");
    EXPECT_EQ(config.allowed_ips[1].to_string(), "10.8.0.2/32");
    EXPECT_FALSE(config.name);
    EXPECT_FALSE(config.preshared_key);
    EXPECT_FALSE(config.persistent_keepalive);
    PeerChange replace;
    replace.replace_allowed_ips = true;
    merge_peer_change(config, replace);
    EXPECT_TRUE(config.allowed_ips.empty());
}

TEST_F(UapiExtension, SessionGetWgateAndDisableOverTheWire) {
    set_ok("public_key=" + hex(peer_a) + "\nallowed_ip=10.8.0.2/32");
    Session s(device, host, [this] { return now; }, out);
    std::string reply;
    EXPECT_EQ(s.feed("set=1\npublic_key=" + hex(peer_a) + "\nwgate_disabled=true\n\nget=wgate\n\n", reply),
              Session::Status::keep_open);
    EXPECT_EQ(reply.substr(0, 9), "errno=0\n\n");
    EXPECT_NE(reply.find("wgate_disabled=true\n"), std::string::npos);
    reply.clear();
    host.supports_disable = false;
    set_ok("public_key=" + hex(peer_b) + "\nallowed_ip=10.8.0.3/32");
    EXPECT_EQ(s.feed("set=1\npublic_key=" + hex(peer_b) + "\nwgate_disabled=true\n\n", reply), Session::Status::keep_open);
    EXPECT_EQ(reply, "errno=-95\n\n");
}

}  // namespace
}  // namespace wgate::control
