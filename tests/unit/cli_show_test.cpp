// wgate show / peer list rendering, and reading a get=wgate answer.
#include "wgate/cli/show.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_test_util.hpp"
#include "wgate/cli/error.hpp"
#include "wgate/crypto/base64.hpp"

namespace wgate::cli {
namespace {

const std::string kPriv = "a8dbd1a1f4b87d2c7e8b0f7c2d4e6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e4a";
const std::string kPubA = "c5320103 9adba14b e71f886d a1d8dbe9 eebded08 cb111b75 34007899 9aa9f038";
const std::string kPubB = "1690b2870b3d731c16a15e3110bb5f26f8c937ecd05513c84a59515a07a8a551";

std::string hex_compact(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
    return s;
}

// A gateway with two live peers (one handshaked, one never, with a
// rejection) and one disabled peer.
std::string gateway_reply() {
    return "private_key=" + kPriv + "\nlisten_port=51820\n"
           "wgate_mode=gateway\nwgate_address=10.8.0.1/24\nwgate_address=fd42:8::1/64\n"
           "wgate_public_endpoint=vpn.example.com:51820\nwgate_lan_route=192.168.10.0/24\nwgate_dns=10.8.0.1\n"
           "wgate_keepalive=25\nwgate_masquerade=true\nwgate_egress=eth0\nwgate_config=/etc/wgate/wg0.yaml\n"
           "wgate_mtu=1420\nwgate_dropped=bad_mac1:3\nwgate_dropped=no_route:1\nwgate_future_key=ignored\n"
           "public_key=" + kPubB + "\nname=phone\npreshared_key=" + std::string(64, '0') +
           "\nprotocol_version=1\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
           "persistent_keepalive_interval=0\nwgate_last_rejection=bad_mac1\nallowed_ip=10.8.0.3/32\n"
           "public_key=" + hex_compact(kPubA) + "\nname=laptop\npreshared_key=" + std::string(63, '0') + "1"
           "\nprotocol_version=1\nendpoint=198.51.100.7:40212\nlast_handshake_time_sec=" +
           std::to_string(test::kCliNow - 72) +
           "\nlast_handshake_time_nsec=5\ntx_bytes=4782043\nrx_bytes=1290\npersistent_keepalive_interval=25\n"
           "allowed_ip=10.8.0.2/32\nallowed_ip=fd42:8::2/128\n"
           "public_key=" + std::string(62, '0') + "aa\nname=old tablet\nwgate_disabled=true\nallowed_ip=10.8.0.4/32\n"
           "errno=0\n\n";
}

TEST(CliShowUnits, BytesAsWg) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1024), "1.00 KiB");
    EXPECT_EQ(format_bytes(1290), "1.26 KiB");
    EXPECT_EQ(format_bytes(4782043), "4.56 MiB");
    EXPECT_EQ(format_bytes(5ULL << 30), "5.00 GiB");
    EXPECT_EQ(format_bytes(3ULL << 40), "3.00 TiB");
}

TEST(CliShowUnits, DurationsAsWg) {
    EXPECT_EQ(format_duration(0), "0 seconds");
    EXPECT_EQ(format_duration(1), "1 second");
    EXPECT_EQ(format_duration(12), "12 seconds");
    EXPECT_EQ(format_duration(72), "1 minute, 12 seconds");
    EXPECT_EQ(format_duration(3600), "1 hour");
    EXPECT_EQ(format_duration(2 * 86400 + 2 * 3600 + 60), "2 days, 2 hours, 1 minute");
    EXPECT_EQ(format_duration(365ULL * 86400 + 1), "1 year, 1 second");
    EXPECT_EQ(format_ago(100, 112), "12 seconds ago");
    EXPECT_EQ(format_ago(100, 100), "Now");
    EXPECT_EQ(format_ago(200, 100).rfind("in the future", 0), 0u);
}

TEST(CliShow, ParsesTheGatewayAnswer) {
    const DeviceInfo d = parse_get_reply(gateway_reply(), "wg0");
    EXPECT_TRUE(d.wgated);
    EXPECT_TRUE(d.gateway());
    ASSERT_TRUE(d.public_key);
    EXPECT_EQ(d.listen_port, 51820);
    ASSERT_EQ(d.addresses.size(), 2u);
    EXPECT_EQ(d.public_endpoint, "vpn.example.com:51820");
    EXPECT_EQ(d.lan_routes.size(), 1u);
    EXPECT_EQ(d.keepalive, std::optional<std::uint16_t>(25));
    EXPECT_EQ(d.masquerade, std::optional<bool>(true));
    EXPECT_EQ(d.egress, "eth0");
    EXPECT_EQ(d.config_path, "/etc/wgate/wg0.yaml");
    EXPECT_EQ(d.dropped.at("bad_mac1"), 3u);
    ASSERT_EQ(d.peers.size(), 3u);
    EXPECT_EQ(d.peers[0].name, "phone");
    EXPECT_FALSE(d.peers[0].preshared_key);  // all zero: none
    EXPECT_EQ(d.peers[0].last_rejection, "bad_mac1");
    EXPECT_TRUE(d.peers[1].preshared_key);
    EXPECT_EQ(d.peers[1].allowed_ips.size(), 2u);
    EXPECT_TRUE(d.peers[2].disabled);
    EXPECT_EQ(d.find_peer("laptop"), &d.peers[1]);
    EXPECT_EQ(d.find_peer(key_text(d.peers[0].public_key)), &d.peers[0]);
    EXPECT_EQ(d.find_peer("nobody"), nullptr);
    EXPECT_EQ(d.used_prefixes().size(), 4u);
}

TEST(CliShow, RefusesErrorsAndGarbage) {
    EXPECT_THROW(parse_get_reply("errno=-22\n\n"), CliError);
    EXPECT_THROW(parse_get_reply("listen_port=1\n"), CliError);  // no errno
    EXPECT_THROW(parse_get_reply("listen_port=x\nerrno=0\n\n"), CliError);
    EXPECT_THROW(parse_get_reply("garbage\nerrno=0\n\n"), CliError);
    const DeviceInfo plain = parse_get_reply("listen_port=1\nerrno=0\n\n");
    EXPECT_FALSE(plain.wgated);
    EXPECT_EQ(plain.mode, "plain");
}

TEST(CliShow, TextLikeWgShowWithNames) {
    const DeviceInfo d = parse_get_reply(gateway_reply(), "wg0");
    const std::string text = render_show(d, test::kCliNow);
    const std::string pub_a = key_text(d.peers[1].public_key);
    const std::string expected_laptop = "\npeer: " + pub_a +
                                        "\n"
                                        "  name: laptop\n"
                                        "  preshared key: (hidden)\n"
                                        "  endpoint: 198.51.100.7:40212\n"
                                        "  allowed ips: 10.8.0.2/32, fd42:8::2/128\n"
                                        "  latest handshake: 1 minute, 12 seconds ago\n"
                                        "  transfer: 1.26 KiB received, 4.56 MiB sent\n"
                                        "  persistent keepalive: every 25 seconds\n";
    EXPECT_NE(text.find(expected_laptop), std::string::npos) << text;
    EXPECT_EQ(text.rfind("interface: wg0\n  public key: ", 0), 0u) << text;
    EXPECT_NE(text.find("  private key: (hidden)\n  listening port: 51820\n  mode: gateway (/etc/wgate/wg0.yaml)\n"
                        "  addresses: 10.8.0.1/24, fd42:8::1/64\n  public endpoint: vpn.example.com:51820\n"
                        "  lan routes: 192.168.10.0/24\n  dns: 10.8.0.1\n  masquerade: on (egress eth0)\n"
                        "  mtu: 1420\n  dropped: bad_mac1 3, no_route 1\n"),
              std::string::npos)
        << text;
    // The handshaked peer first (as wg sorts), then the never-handshaked one, then disabled.
    const auto laptop = text.find("name: laptop"), phone = text.find("name: phone"), old = text.find("name: old tablet");
    EXPECT_LT(laptop, phone);
    EXPECT_LT(phone, old);
    EXPECT_NE(text.find("  last rejection: bad_mac1 (mac1 invalid"), std::string::npos) << text;
    EXPECT_NE(text.find("  state: disabled (wgate peer enable old tablet)\n"), std::string::npos) << text;
    EXPECT_EQ(text.find(kPriv), std::string::npos);
}

TEST(CliShow, PeerListTable) {
    const DeviceInfo d = parse_get_reply(gateway_reply(), "wg0");
    const std::string table = render_peer_list(d, test::kCliNow);
    std::istringstream lines(table);
    std::string header, first;
    std::getline(lines, header);
    std::getline(lines, first);
    EXPECT_EQ(header.rfind("NAME", 0), 0u);
    EXPECT_NE(header.find("PUBLIC KEY"), std::string::npos);
    EXPECT_EQ(first.rfind("phone ", 0), 0u);
    EXPECT_NE(first.find("never"), std::string::npos);
    EXPECT_NE(table.find("1 minute, 12 seconds ago"), std::string::npos);
    EXPECT_NE(table.find("disabled"), std::string::npos);
    // Columns line up: "PUBLIC KEY" starts where every key starts.
    EXPECT_EQ(header.find("PUBLIC KEY"), first.find(key_text(d.peers[0].public_key)));
}

TEST(CliShow, JsonForScriptsWithoutSecrets) {
    const DeviceInfo d = parse_get_reply(gateway_reply(), "wg0");
    const nlohmann::json j = device_json(d);
    EXPECT_EQ(j["interface"], "wg0");
    EXPECT_EQ(j["mode"], "gateway");
    EXPECT_EQ(j["listen_port"], 51820);
    EXPECT_EQ(j["addresses"][1], "fd42:8::1/64");
    EXPECT_EQ(j["dropped"]["bad_mac1"], 3);
    ASSERT_EQ(j["peers"].size(), 3u);
    EXPECT_EQ(j["peers"][1]["name"], "laptop");
    EXPECT_EQ(j["peers"][1]["preshared_key"], true);
    EXPECT_EQ(j["peers"][1]["latest_handshake"], test::kCliNow - 72);
    EXPECT_EQ(j["peers"][1]["rx_bytes"], 1290);
    EXPECT_TRUE(j["peers"][0]["latest_handshake"].is_null());
    EXPECT_EQ(j["peers"][0]["last_rejection"], "bad_mac1");
    EXPECT_EQ(j["peers"][2]["disabled"], true);
    const std::string dumped = j.dump();
    EXPECT_EQ(dumped.find(kPriv), std::string::npos);
    EXPECT_EQ(dumped.find(std::string(63, '0') + "1"), std::string::npos);  // the PSK as hex
}

}  // namespace
}  // namespace wgate::cli
