// Client configs (render) and wg-quick files (parse, for import).
#include "wgate/cli/client_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_util.hpp"
#include "wgate/cli/error.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::cli {
namespace {

core::IpPrefix pf(const char* s) { return *core::IpPrefix::parse(s); }

crypto::PublicKey key_from(const char* b64) { return *crypto::key_from_base64(b64); }

const char* kClientPriv = "YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk=";
const char* kGatewayPub = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const char* kPsk = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=";

ClientConfig sample(bool psk) {
    ClientConfig c;
    c.private_key = crypto::PrivateKey(key_from(kClientPriv));
    c.addresses = {pf("10.8.0.2/32"), pf("fd42:8::2/128")};
    c.dns = {*core::IpAddress::parse("10.8.0.1")};
    c.gateway_public_key = key_from(kGatewayPub);
    if (psk) c.preshared_key = crypto::PresharedKey(key_from(kPsk));
    c.endpoint = "vpn.example.com:51820";
    c.allowed_ips = client_allowed_ips({pf("10.8.0.0/24"), pf("fd42:8::/64")}, {pf("192.168.10.0/24")}, false);
    c.persistent_keepalive = 25;
    return c;
}

TEST(CliClientConfig, RendersAWgQuickFile) {
    std::string text = render_client_config(sample(true));
    EXPECT_EQ(text,
              "[Interface]\n"
              "PrivateKey = YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk=\n"
              "Address = 10.8.0.2/32, fd42:8::2/128\n"
              "DNS = 10.8.0.1\n"
              "\n"
              "[Peer]\n"
              "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
              "PresharedKey = FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\n"
              "Endpoint = vpn.example.com:51820\n"
              "AllowedIPs = 10.8.0.0/24, fd42:8::/64, 192.168.10.0/24\n"
              "PersistentKeepalive = 25\n");
    wipe_string(text);
    EXPECT_TRUE(text.empty());
}

TEST(CliClientConfig, OptionalLinesAndFullTunnel) {
    ClientConfig c = sample(false);
    c.dns.clear();
    c.persistent_keepalive = 0;
    c.allowed_ips = client_allowed_ips({pf("10.8.0.0/24")}, {}, true);
    const std::string text = render_client_config(c);
    EXPECT_EQ(text.find("DNS"), std::string::npos);
    EXPECT_EQ(text.find("PresharedKey"), std::string::npos);
    EXPECT_EQ(text.find("PersistentKeepalive"), std::string::npos);
    EXPECT_NE(text.find("AllowedIPs = 0.0.0.0/0, ::/0\n"), std::string::npos);
}

TEST(CliClientConfig, AllowedIpsDropDuplicates) {
    const auto list = client_allowed_ips({pf("10.8.0.0/24")}, {pf("10.8.0.0/24"), pf("192.168.1.0/24")}, false);
    ASSERT_EQ(list.size(), 2u);
}

// wg-quick itself must accept the file: `wg-quick strip` parses it (it needs a
// file name that is a valid interface name).
TEST(CliClientConfig, WgQuickStripAcceptsIt) {
    if (!test::have_tool("wg-quick")) GTEST_SKIP() << "wg-quick not installed";
    test::TempDir dir;
    const std::string path = dir.file("wgtest0.conf");
    for (const bool psk : {false, true}) {
        {
            std::ofstream f(path);
            f << render_client_config(sample(psk));
        }
        int status = 0;
        const std::string stripped = test::shell("wg-quick strip " + path + " 2>&1", &status);
        ASSERT_EQ(status, 0) << stripped;
        EXPECT_NE(stripped.find("PrivateKey = YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk="), std::string::npos);
        EXPECT_EQ(stripped.find("Address"), std::string::npos);  // wg-quick's own keys are stripped
        EXPECT_EQ(stripped.find("DNS"), std::string::npos);
        // And `wg` parses what is left.
        const std::string check =
            test::shell("wg-quick strip " + path + " > " + dir.file("s.conf") + " && echo ok", &status);
        EXPECT_EQ(check, "ok\n");
    }
}

// ---------------------------------------------------------------- parsing

TEST(CliWgQuick, KernelConfigWithSeveralPeers) {
    const std::string text =
        "[Interface]\n"
        "Address = 10.0.0.1/24\n"
        "ListenPort = 51820\n"
        "PrivateKey = YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk=   # the server\n"
        "PostUp = iptables -A FORWARD -i %i -j ACCEPT\n"
        "SaveConfig = false\n"
        "\n"
        "# alice\n"
        "[Peer]\n"
        "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
        "AllowedIPs = 10.0.0.2/32\n"
        "AllowedIPs = fd00::2/128\n"
        "\n"
        "[peer]\n"
        "publickey=FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\n"
        "PresharedKey = YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk=\n"
        "allowedips = 10.0.0.3/32,10.0.0.4\n"
        "Endpoint = 198.51.100.7:51820\n"
        "PersistentKeepalive = off\n";
    const WgQuickFile f = parse_wg_quick(text, "wg0.conf");
    EXPECT_TRUE(f.has_interface);
    ASSERT_TRUE(f.interface_public_key);
    EXPECT_EQ(*f.interface_public_key, crypto::public_key_of(crypto::PrivateKey(key_from(kClientPriv))));
    EXPECT_EQ(f.listen_port, std::optional<std::uint16_t>(51820));
    EXPECT_EQ(f.interface_addresses, std::vector<std::string>{"10.0.0.1/24"});
    ASSERT_EQ(f.peers.size(), 2u);
    EXPECT_EQ(f.peers[0].name, "alice");
    EXPECT_EQ(f.peers[0].public_key, key_from(kGatewayPub));
    EXPECT_EQ(f.peers[0].allowed_ips.size(), 2u);
    EXPECT_EQ(f.peers[0].line, 9);
    EXPECT_EQ(f.peers[1].name, "");
    EXPECT_TRUE(f.peers[1].preshared_key);
    EXPECT_EQ(f.peers[1].endpoint, "198.51.100.7:51820");
    ASSERT_EQ(f.peers[1].allowed_ips.size(), 2u);
    EXPECT_EQ(to_text(f.peers[1].allowed_ips[1]), "10.0.0.4/32");
    EXPECT_EQ(f.peers[1].persistent_keepalive, std::optional<std::uint16_t>(0));
    EXPECT_TRUE(f.warnings.empty());
}

TEST(CliWgQuick, RouterOsExportComments) {
    // As copied from a RouterOS 7 WireGuard setup: the peer's comment above
    // each [Peer], CRLF line ends.
    const std::string text =
        "# RouterOS 7.14 wireguard1\r\n"
        "[Interface]\r\n"
        "ListenPort = 13231\r\n"
        "\r\n"
        "# comment: laptop-anna\r\n"
        "[Peer]\r\n"
        "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\r\n"
        "AllowedIPs = 192.168.100.2/32\r\n"
        "#comment=phone bob\r\n"
        "[Peer]\r\n"
        "PublicKey = FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\r\n"
        "AllowedIPs = 192.168.100.3/32\r\n";
    const WgQuickFile f = parse_wg_quick(text, "routeros.conf");
    ASSERT_EQ(f.peers.size(), 2u);
    EXPECT_EQ(f.peers[0].name, "laptop-anna");
    EXPECT_EQ(f.peers[1].name, "phone bob");
}

TEST(CliWgQuick, NameForms) {
    auto name_of = [](const std::string& before, const std::string& after = "") {
        const std::string text = before + "[Peer]\n" + after +
                                 "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 10.0.0.2/32\n";
        return parse_wg_quick(text, "x.conf").peers.at(0).name;
    };
    EXPECT_EQ(name_of("# Name = laptop\n"), "laptop");
    EXPECT_EQ(name_of("# name: laptop\n"), "laptop");
    EXPECT_EQ(name_of("# friendly_name = laptop\n"), "laptop");
    EXPECT_EQ(name_of("### begin laptop ###\n"), "laptop");             // PiVPN
    EXPECT_EQ(name_of("### end other ###\n### begin laptop ###\n"), "laptop");
    EXPECT_EQ(name_of("# laptop\n\n"), "laptop");                       // a blank line between is fine
    EXPECT_EQ(name_of("# a plain note\n# Name = laptop\n"), "laptop");  // the explicit form wins
    EXPECT_EQ(name_of("", "# Name = laptop\n"), "laptop");              // at the top of its section
    EXPECT_EQ(name_of("", "# laptop\n"), "laptop");
    EXPECT_EQ(name_of("# Table = off\n"), "");                          // another setting, not a name
    EXPECT_EQ(name_of(""), "");
}

TEST(CliWgQuick, CommentsAfterKeysNameTheNextPeer) {
    const std::string text =
        "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 10.0.0.2/32\n# bob\n"
        "[Peer]\n# ignored: bob was named above\nPublicKey = FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\n";
    const WgQuickFile f = parse_wg_quick(text, "x.conf");
    ASSERT_EQ(f.peers.size(), 2u);
    EXPECT_EQ(f.peers[0].name, "");
    EXPECT_EQ(f.peers[1].name, "bob");
}

TEST(CliWgQuick, ErrorsNameFileAndLine) {
    auto error_of = [](const std::string& text) -> std::string {
        try {
            parse_wg_quick(text, "bad.conf");
        } catch (const CliError& e) {
            EXPECT_EQ(e.exit_code(), kExitRuntime);
            return e.what();
        }
        return "no error";
    };
    EXPECT_EQ(error_of("[Peer]\nPublicKey = nope\n").rfind("bad.conf:2: PublicKey is not a valid WireGuard key", 0), 0u);
    EXPECT_EQ(error_of("[Peer]\nAllowedIPs = 10.0.0.1/32\n").rfind("bad.conf:1: this [Peer] has no PublicKey", 0), 0u);
    EXPECT_EQ(error_of("PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n").rfind("bad.conf:1: ", 0), 0u);
    EXPECT_EQ(error_of("[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 10.0.0/33\n")
                  .rfind("bad.conf:3: AllowedIPs entry", 0),
              0u);
    EXPECT_EQ(error_of("[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nEndpoint = nohost\n")
                  .rfind("bad.conf:3: Endpoint", 0),
              0u);
    EXPECT_EQ(error_of("[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
                       "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n")
                  .rfind("bad.conf:4: a second [Peer]", 0),
              0u);
    EXPECT_EQ(error_of("[Nope]\n").rfind("bad.conf:1: unknown section", 0), 0u);
    EXPECT_EQ(error_of("[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nPersistentKeepalive = x\n")
                  .rfind("bad.conf:3: PersistentKeepalive", 0),
              0u);
}

TEST(CliWgQuick, UnknownKeysAreWarnings) {
    const WgQuickFile f = parse_wg_quick(
        "[Interface]\nFoo = 1\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nBar = 2\n", "w.conf");
    ASSERT_EQ(f.warnings.size(), 2u);
    EXPECT_EQ(f.warnings[0], "w.conf:2: unknown [Interface] key Foo ignored");
}

TEST(CliWgQuick, ReadsBackWhatWeRender) {
    const std::string text = render_client_config(sample(true));
    const WgQuickFile f = parse_wg_quick(text, "c.conf");
    ASSERT_EQ(f.peers.size(), 1u);
    EXPECT_EQ(f.peers[0].public_key, key_from(kGatewayPub));
    EXPECT_EQ(f.peers[0].endpoint, "vpn.example.com:51820");
    EXPECT_EQ(f.peers[0].allowed_ips.size(), 3u);
    EXPECT_EQ(f.interface_addresses.size(), 2u);
}

}  // namespace
}  // namespace wgate::cli
