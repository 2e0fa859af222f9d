// run_cli: every subcommand's parsing, errors and exit codes, against a fake
// daemon that runs the real UAPI code (control::Session on a core::Device).
#include "wgate/cli/cli.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_test_util.hpp"
#include "wgate/cli/client_config.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::cli {
namespace {

using test::CliHarness;
using test::CliRun;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

unsigned mode_of(const std::string& path) {
    struct stat st{};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// The value of "Key = value" in a wg-quick text.
std::string ini_value(const std::string& text, const std::string& key) {
    const auto at = text.find(key + " = ");
    if (at == std::string::npos) return {};
    const auto start = at + key.size() + 3;
    return text.substr(start, text.find('\n', start) - start);
}

struct Cli : ::testing::Test {
    CliHarness cli;
    const core::Peer* peer(const std::string& name) {
        for (const auto& [key, n] : cli.daemon.host.names) {
            if (n == name) return cli.daemon.device.find_peer(key);
        }
        return nullptr;
    }
    void expect_usage(const std::vector<std::string>& args, const std::string& message) {
        const CliRun r = cli.run(args);
        EXPECT_EQ(r.code, kExitUsage) << r.err;
        EXPECT_TRUE(contains(r.err, message)) << r.err;
    }
    void expect_runtime(const std::vector<std::string>& args, const std::string& message) {
        const CliRun r = cli.run(args);
        EXPECT_EQ(r.code, kExitRuntime) << r.err;
        EXPECT_TRUE(contains(r.err, message)) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    }
};

// ---------------------------------------------------------------- parsing and help

TEST_F(Cli, HelpOnEveryCommand) {
    const std::vector<std::vector<std::string>> commands = {
        {},           {"genkey"},          {"pubkey"},        {"genpsk"},         {"show"},          {"peer"},
        {"peer", "add"}, {"peer", "remove"}, {"peer", "list"}, {"peer", "rename"}, {"peer", "disable"},
        {"peer", "enable"}, {"export"},      {"import"},        {"doctor"}};
    for (const auto& command : commands) {
        std::vector<std::string> args = command;
        args.push_back("--help");
        const CliRun r = cli.run(args);
        std::string path = "wgate";
        for (const auto& c : command) path += " " + c;
        EXPECT_EQ(r.code, 0) << path;
        EXPECT_TRUE(contains(r.out, "Usage: " + path)) << path << ":\n" << r.out;
        EXPECT_TRUE(r.err.empty()) << r.err;
    }
    EXPECT_TRUE(cli.daemon.requests.empty());
    EXPECT_TRUE(contains(cli.run({"peer", "add", "-h"}).out, "--qr-png FILE"));
    EXPECT_EQ(cli.run({"--version"}).out, "wgate 0.1.0\n");
}

TEST_F(Cli, UsageErrorsExitOne) {
    expect_usage({}, "A subcommand is required");
    expect_usage({"bogus"}, "unknown command 'bogus'");
    expect_usage({"peer"}, "A subcommand is required");
    expect_usage({"peer", "bogus"}, "unknown command 'peer bogus'");
    expect_usage({"peer", "add"}, "name is required");
    expect_usage({"peer", "add", "x", "--bogus"}, "--bogus");
    expect_usage({"peer", "add", "x", "--keepalive", "abc"}, "--keepalive");
    expect_usage({"peer", "add", "x", "--keepalive", "70000"}, "not in range");
    expect_usage({"peer", "rename", "x"}, "new_name is required");
    expect_usage({"import"}, "file is required");
    expect_usage({"genkey", "extra"}, "extra");
    const CliRun r = cli.run({"peer", "add"});
    EXPECT_TRUE(contains(r.err, "Run 'wgate peer add --help' for usage."));
    EXPECT_TRUE(cli.daemon.requests.empty());
}

TEST_F(Cli, ValuesCheckedBeforeTheDaemonChanges) {
    expect_usage({"peer", "add", "bad=name"}, "invalid peer name 'bad=name'");
    expect_usage({"peer", "add", std::string(65, 'n')}, "at most 64 bytes");
    expect_usage({"peer", "add", "x", "--ip", "10.8.0.0/24"}, "is not one host address");
    expect_usage({"peer", "add", "x", "--ip", "auto,10.8.0.3"}, "'auto' cannot be combined");
    expect_usage({"peer", "add", "x", "--endpoint", "nohost"}, "--endpoint: 'nohost' is not HOST:PORT");
    expect_usage({"peer", "add", "x", "--endpoint", "[::1:51820"}, "is not HOST:PORT");
    expect_usage({"peer", "rename", "x", "a=b"}, "invalid peer name");
    expect_usage({"doctor", "--endpoint", "x:0"}, "is not HOST:PORT");
    expect_usage({"show", "wg1", "-i", "wg0"}, "two interfaces given");
    EXPECT_TRUE(cli.daemon.sets().empty());
}

// ---------------------------------------------------------------- choosing the daemon

TEST_F(Cli, InterfaceSelection) {
    cli.running = {};
    expect_runtime({"show"}, "no wgated interface is running");
    cli.running = {"wg0", "wg1"};
    const CliRun several = cli.run({"peer", "list"});
    EXPECT_EQ(several.code, kExitUsage);
    EXPECT_TRUE(contains(several.err, "several interfaces are running (wg0, wg1): pick one with -i IFNAME"));
    EXPECT_EQ(cli.run({"-i", "wg1", "peer", "list"}).code, 0);
    EXPECT_EQ(cli.run({"peer", "list", "-i", "wg1"}).code, 0);  // the global option after the command too
    EXPECT_EQ(cli.run({"show", "wg1"}).code, 0);
    expect_runtime({"-i", "wg5", "show"}, "interface wg5 is not running");
    expect_usage({"-i", "much_too_long_name", "show"}, "not a valid interface name");
    cli.running = {"wg0"};
    cli.daemon.wireguard_go = true;
    expect_runtime({"show"}, "wg0 is not served by wgated");
}

// ---------------------------------------------------------------- keys

TEST_F(Cli, KeyCommands) {
    const CliRun k = cli.run({"genkey"});
    ASSERT_EQ(k.code, 0);
    ASSERT_EQ(k.out.size(), 45u);
    const CliRun p = cli.run({"pubkey"}, k.out);
    ASSERT_EQ(p.code, 0);
    const auto priv = crypto::key_from_base64(k.out.substr(0, 44));
    ASSERT_TRUE(priv);
    EXPECT_EQ(p.out, crypto::key_to_base64(crypto::public_key_of(crypto::PrivateKey(*priv))) + "\n");
    const CliRun bad = cli.run({"pubkey"}, "not a key\n");
    EXPECT_EQ(bad.code, kExitUsage);
    EXPECT_EQ(bad.err, "wgate: Key is not the correct length or format\n");
    const CliRun psk = cli.run({"genpsk"});
    EXPECT_EQ(psk.code, 0);
    EXPECT_EQ(psk.out.size(), 45u);
    EXPECT_NE(psk.out, k.out);
    EXPECT_TRUE(cli.daemon.requests.empty());  // no daemon needed
}

// ---------------------------------------------------------------- peer add (gateway)

TEST_F(Cli, PeerAddWritesTheClientConfigAndKeepsTheKeyAway) {
    cli.daemon.make_gateway();
    const CliRun r = cli.run({"peer", "add", "laptop"});
    ASSERT_EQ(r.code, 0) << r.err;
    const core::Peer* p = peer("laptop");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(ini_value(r.out, "Address"), "10.8.0.2/32, fd42:8::2/128");
    EXPECT_EQ(ini_value(r.out, "DNS"), "10.8.0.1");
    EXPECT_EQ(ini_value(r.out, "PublicKey"), crypto::key_to_base64(cli.daemon.server_public()));
    EXPECT_EQ(ini_value(r.out, "Endpoint"), "vpn.example.com:51820");
    EXPECT_EQ(ini_value(r.out, "AllowedIPs"), "10.8.0.0/24, fd42:8::/64, 192.168.10.0/24");
    EXPECT_EQ(ini_value(r.out, "PersistentKeepalive"), "25");
    EXPECT_FALSE(contains(r.out, "PresharedKey"));
    // The private key in the config is the peer's, and the daemon never saw it.
    const std::string priv_b64 = ini_value(r.out, "PrivateKey");
    const auto priv = crypto::key_from_base64(priv_b64);
    ASSERT_TRUE(priv);
    EXPECT_EQ(crypto::public_key_of(crypto::PrivateKey(*priv)), p->public_key());
    for (const std::string& request : cli.daemon.requests) {
        EXPECT_FALSE(contains(request, priv_b64));
        EXPECT_FALSE(contains(request, crypto::key_to_hex(*priv)));
    }
    EXPECT_EQ(cli.daemon.device.allowed_ips_of(*p).size(), 2u);
    EXPECT_TRUE(contains(r.err, "Added peer 'laptop'"));
    EXPECT_TRUE(contains(r.err, "wgate and wgated do not keep it"));
    // The second client gets the next addresses.
    const CliRun second = cli.run({"peer", "add", "phone", "--psk", "--keepalive", "0", "--full-tunnel"});
    ASSERT_EQ(second.code, 0) << second.err;
    EXPECT_EQ(ini_value(second.out, "Address"), "10.8.0.3/32, fd42:8::3/128");
    EXPECT_EQ(ini_value(second.out, "AllowedIPs"), "0.0.0.0/0, ::/0");
    EXPECT_FALSE(contains(second.out, "PersistentKeepalive"));
    const core::Peer* phone = peer("phone");
    ASSERT_NE(phone, nullptr);
    EXPECT_EQ(ini_value(second.out, "PresharedKey"), crypto::key_to_base64(phone->preshared_key().bytes()));
}

TEST_F(Cli, PeerAddErrors) {
    cli.daemon.make_gateway();
    ASSERT_EQ(cli.run({"peer", "add", "laptop"}).code, 0);
    const std::size_t sets = cli.daemon.sets().size();
    expect_runtime({"peer", "add", "laptop"}, "the name 'laptop' is already used on wg0");
    expect_runtime({"peer", "add", "x", "--ip", "10.9.0.5"}, "10.9.0.5 is outside the address pool (10.8.0.0/24, fd42:8::/64)");
    expect_runtime({"peer", "add", "x", "--ip", "10.8.0.2"}, "10.8.0.2 is already used by peer laptop");
    expect_runtime({"peer", "add", "x", "--ip", "10.8.0.1"}, "the gateway's own address");
    EXPECT_EQ(cli.daemon.sets().size(), sets);
    // A config too long for a QR code is refused before the daemon changes.
    std::string many;
    for (int i = 0; i < 200; ++i) {
        if (i) many += ',';
        many += "172.16.";
        many += std::to_string(i);
        many += ".0/24";
    }
    expect_runtime({"peer", "add", "x", "--qr", "--allowed-ips", many}, "too long for a QR code");
    EXPECT_EQ(cli.daemon.sets().size(), sets);
    const CliRun ok = cli.run({"peer", "add", "x", "--ip", "10.8.0.77,fd42:8::77"});
    ASSERT_EQ(ok.code, 0) << ok.err;
    EXPECT_EQ(ini_value(ok.out, "Address"), "10.8.0.77/32, fd42:8::77/128");
}

TEST_F(Cli, PoolExhausted) {
    cli.daemon.host.extension_lines = "wgate_mode=gateway\nwgate_address=10.8.0.1/30\nwgate_public_endpoint=gw:1\n";
    ASSERT_EQ(cli.run({"peer", "add", "one"}).code, 0);
    expect_runtime({"peer", "add", "two"}, "the address pool 10.8.0.0/30 is exhausted");
}

TEST_F(Cli, PeerAddToFilesAndQr) {
    cli.daemon.make_gateway();
    test::TempDir dir;
    const std::string conf = dir.file("laptop.conf"), png = dir.file("laptop.png");
    const CliRun r = cli.run({"peer", "add", "laptop", "--out", conf, "--qr-png", png});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_EQ(mode_of(conf), 0600u);
    EXPECT_EQ(mode_of(png), 0600u);
    const std::string text = read_file(conf);
    EXPECT_EQ(text.rfind("[Interface]\nPrivateKey = ", 0), 0u);
    EXPECT_EQ(read_file(png).substr(1, 3), "PNG");
    EXPECT_TRUE(contains(r.err, conf + " (mode 0600)"));
    if (test::have_tool("zbarimg")) {
        EXPECT_EQ(test::shell("zbarimg --raw -q " + png), text + "\n");
    }
    // An existing file: refused before the daemon changes.
    const std::size_t sets = cli.daemon.sets().size();
    expect_runtime({"peer", "add", "other", "--out", conf}, conf + " already exists");
    EXPECT_EQ(cli.daemon.sets().size(), sets);
    EXPECT_EQ(peer("other"), nullptr);
    EXPECT_EQ(read_file(conf), text);
    // --qr prints only the code (it holds the whole config).
    const CliRun qr = cli.run({"peer", "add", "phone", "--qr"});
    ASSERT_EQ(qr.code, 0) << qr.err;
    EXPECT_FALSE(contains(qr.out, "PrivateKey"));
    EXPECT_TRUE(contains(qr.out, "\u2588"));
    EXPECT_TRUE(contains(qr.err, "the QR code printed above"));
}

// ---------------------------------------------------------------- peer add (plain mode)

TEST_F(Cli, PeerAddInPlainMode) {
    expect_runtime({"peer", "add", "laptop"}, "this interface has no address pool: start wgated with --config, or pass --ip");
    expect_runtime({"peer", "add", "laptop", "--ip", "10.8.0.2"}, "pass --endpoint HOST:PORT");
    expect_runtime({"peer", "add", "laptop", "--ip", "10.8.0.2", "--endpoint", "192.0.2.1:51820"},
                   "pass --allowed-ips CIDR,... or --full-tunnel");
    EXPECT_TRUE(cli.daemon.sets().empty());
    cli.system.commands["ip -j addr show dev wg0"] =
        R"([{"ifname":"wg0","addr_info":[{"family":"inet","local":"10.8.0.1","prefixlen":24},)"
        R"({"family":"inet6","local":"fe80::1","prefixlen":64}]}])";
    const CliRun r = cli.run({"peer", "add", "laptop", "--ip", "10.8.0.2/32", "--endpoint", "192.0.2.1:51820"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(ini_value(r.out, "Address"), "10.8.0.2/32");
    EXPECT_EQ(ini_value(r.out, "AllowedIPs"), "10.8.0.0/24");
    EXPECT_EQ(ini_value(r.out, "Endpoint"), "192.0.2.1:51820");
    const CliRun explicit_ips = cli.run({"peer", "add", "phone", "--ip", "10.8.0.3", "--endpoint", "[2001:db8::1]:51820",
                                         "--allowed-ips", "10.8.0.0/24,10.1.0.0/16", "--dns", "10.8.0.1"});
    ASSERT_EQ(explicit_ips.code, 0) << explicit_ips.err;
    EXPECT_EQ(ini_value(explicit_ips.out, "AllowedIPs"), "10.8.0.0/24, 10.1.0.0/16");
    EXPECT_EQ(ini_value(explicit_ips.out, "DNS"), "10.8.0.1");
}

// ---------------------------------------------------------------- remove, list, rename, disable, enable

TEST_F(Cli, RemoveByNameOrKey) {
    cli.daemon.make_gateway();
    const auto a = cli.daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32");
    const auto b = cli.daemon.add_peer("name=phone\nallowed_ip=10.8.0.3/32");
    const CliRun r = cli.run({"peer", "remove", "laptop"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "Removed peer 'laptop'"));
    EXPECT_EQ(cli.daemon.device.find_peer(a), nullptr);
    ASSERT_EQ(cli.run({"peer", "remove", crypto::key_to_base64(b)}).code, 0);
    EXPECT_EQ(cli.daemon.device.peer_count(), 0u);
    expect_runtime({"peer", "remove", "ghost"}, "no peer named or with public key 'ghost' on wg0");
}

TEST_F(Cli, ListAsTableAndJson) {
    EXPECT_TRUE(contains(cli.run({"peer", "list"}).out, "No peers on wg0"));
    cli.daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32");
    const CliRun table = cli.run({"peer", "list"});
    EXPECT_EQ(table.code, 0);
    EXPECT_EQ(table.out.rfind("NAME", 0), 0u);
    EXPECT_TRUE(contains(table.out, "laptop"));
    EXPECT_TRUE(contains(table.out, "never"));
    const CliRun json = cli.run({"peer", "list", "--json"});
    const auto j = nlohmann::json::parse(json.out);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["name"], "laptop");
    EXPECT_EQ(j[0]["allowed_ips"][0], "10.8.0.2/32");
}

TEST_F(Cli, Rename) {
    cli.daemon.make_gateway();
    const auto a = cli.daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32");
    cli.daemon.add_peer("name=phone\nallowed_ip=10.8.0.3/32");
    ASSERT_EQ(cli.run({"peer", "rename", "laptop", "anna-laptop"}).code, 0);
    EXPECT_EQ(cli.daemon.host.names.at(a), "anna-laptop");
    EXPECT_TRUE(contains(cli.daemon.sets().back(), "update_only=true\nname=anna-laptop\n"));
    expect_runtime({"peer", "rename", "anna-laptop", "phone"}, "the name 'phone' is already used");
    expect_runtime({"peer", "rename", "nobody", "x"}, "no peer named");
    // A disabled peer is renamed where the daemon keeps it.
    ASSERT_EQ(cli.run({"peer", "disable", "anna-laptop"}).code, 0);
    ASSERT_EQ(cli.run({"peer", "rename", "anna-laptop", "old-laptop"}).code, 0);
    ASSERT_NE(cli.daemon.host.kept(a), nullptr);
    EXPECT_EQ(cli.daemon.host.kept(a)->name, std::optional<std::string>("old-laptop"));
}

TEST_F(Cli, DisableAndEnable) {
    cli.daemon.make_gateway();
    const auto a = cli.daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32\npersistent_keepalive_interval=25");
    const CliRun d = cli.run({"peer", "disable", "laptop"});
    ASSERT_EQ(d.code, 0) << d.err;
    EXPECT_TRUE(contains(d.out, "Disabled peer 'laptop'"));
    EXPECT_EQ(cli.daemon.device.find_peer(a), nullptr);
    const CliRun list = cli.run({"peer", "list"});
    EXPECT_TRUE(contains(list.out, "disabled"));
    EXPECT_TRUE(contains(cli.run({"peer", "disable", "laptop"}).out, "already disabled"));
    // Its addresses stay taken: the next client does not get them.
    const CliRun next = cli.run({"peer", "add", "phone"});
    EXPECT_EQ(ini_value(next.out, "Address"), "10.8.0.3/32, fd42:8::3/128");
    ASSERT_EQ(cli.run({"peer", "enable", "laptop"}).code, 0);
    const core::Peer* p = cli.daemon.device.find_peer(a);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->persistent_keepalive(), 25);
    EXPECT_EQ(cli.daemon.host.names.at(a), "laptop");
    EXPECT_TRUE(contains(cli.run({"peer", "enable", "laptop"}).out, "already enabled"));
}

TEST_F(Cli, DisableNeedsGatewayMode) {
    cli.daemon.host.supports_disable = false;
    cli.daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32");
    expect_runtime({"peer", "disable", "laptop"}, "disabling peers needs gateway mode: start wgated with --config FILE");
}

// ---------------------------------------------------------------- export

TEST_F(Cli, ExportNeedsTheClientsKey) {
    cli.daemon.make_gateway();
    ASSERT_EQ(cli.run({"peer", "add", "laptop", "--psk"}).code, 0);
    const std::string original = cli.run({"peer", "add", "phone"}).out;
    const CliRun why = cli.run({"export", "phone"});
    EXPECT_EQ(why.code, kExitUsage);
    EXPECT_TRUE(contains(why.err, "cannot export 'phone': the gateway never receives or keeps a client's private key"));
    EXPECT_TRUE(contains(why.err, "--private-key-file FILE"));
    expect_runtime({"export", "ghost"}, "no peer named");

    test::TempDir dir;
    const std::string key_file = dir.file("phone.key");
    {
        std::ofstream f(key_file);
        f << ini_value(original, "PrivateKey") << "\n";
    }
    ::chmod(key_file.c_str(), 0644);
    expect_runtime({"export", "phone", "--private-key-file", key_file}, "is readable by others");
    ::chmod(key_file.c_str(), 0600);
    const CliRun r = cli.run({"export", "phone", "--private-key-file", key_file});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, original);  // the same config as when it was added
    // From stdin, as the old config file.
    const CliRun from_stdin = cli.run({"export", "phone", "--private-key-file", "-"}, original);
    EXPECT_EQ(from_stdin.out, original);
    // Someone else's key.
    const CliRun wrong = cli.run({"export", "laptop", "--private-key-file", key_file});
    EXPECT_EQ(wrong.code, kExitRuntime);
    EXPECT_TRUE(contains(wrong.err, "belongs to"));
    expect_usage({"export", "phone", "--private-key-file", "-"}, "holds no private key");
}

TEST_F(Cli, ExportKeepsThePresharedKey) {
    cli.daemon.make_gateway();
    const std::string original = cli.run({"peer", "add", "laptop", "--psk"}).out;
    test::TempDir dir;
    const std::string out = dir.file("again.conf");
    const CliRun r = cli.run({"export", "laptop", "--private-key-file", "-", "--out", out}, original);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(read_file(out), original);
    EXPECT_EQ(mode_of(out), 0600u);
}

// ---------------------------------------------------------------- import

const char* kKernelConf =
    "[Interface]\n"
    "PrivateKey = YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk=\n"
    "ListenPort = 51820\n"
    "Address = 10.8.0.1/24\n"
    "\n"
    "# Name = anna\n"
    "[Peer]\n"
    "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
    "PresharedKey = FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\n"
    "AllowedIPs = 10.8.0.10/32\n"
    "\n"
    "# bob\n"
    "[Peer]\n"
    "PublicKey = FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\n"
    "AllowedIPs = 10.8.0.11/32\n"
    "Endpoint = 198.51.100.7:51820\n"
    "PersistentKeepalive = 25\n";

TEST_F(Cli, ImportAddsNamedPeersAtOnce) {
    cli.daemon.make_gateway();
    test::TempDir dir;
    const std::string file = dir.file("wg0.conf");
    { std::ofstream(file) << kKernelConf; }
    const CliRun dry = cli.run({"import", file, "--dry-run"});
    ASSERT_EQ(dry.code, 0) << dry.err;
    EXPECT_TRUE(contains(dry.out, "Would import 2 peers"));
    EXPECT_TRUE(cli.daemon.sets().empty());

    const CliRun r = cli.run({"import", file});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "Imported 2 peers into wg0"));
    EXPECT_TRUE(contains(r.err, "[Interface] section"));
    ASSERT_EQ(cli.daemon.sets().size(), 1u);  // one atomic request
    const core::Peer* anna = peer("anna");
    const core::Peer* bob = peer("bob");
    ASSERT_NE(anna, nullptr);
    ASSERT_NE(bob, nullptr);
    EXPECT_FALSE(anna->preshared_key().is_zero());
    EXPECT_EQ(bob->endpoint()->to_string(), "198.51.100.7:51820");
    EXPECT_EQ(bob->persistent_keepalive(), 25);

    expect_runtime({"import", file}, "already exists on wg0 (anna)");
    const CliRun skip = cli.run({"import", file, "--skip-existing"});
    EXPECT_EQ(skip.code, 0);
    EXPECT_TRUE(contains(skip.out, "Nothing to import"));
}

TEST_F(Cli, ImportChecksAgainstTheGateway) {
    cli.daemon.make_gateway();
    test::TempDir dir;
    const std::string outside = dir.file("outside.conf");
    {
        std::ofstream(outside) << "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 192.168.50.2/32\n";
    }
    expect_runtime({"import", outside}, "outside.conf:1: AllowedIPs 192.168.50.2/32 is outside the address pool");
    cli.daemon.add_peer("name=bob\nallowed_ip=10.8.0.50/32");
    const std::string clash = dir.file("clash.conf");
    {
        std::ofstream(clash) << "# bob\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 10.8.0.9/32\n";
    }
    expect_runtime({"import", clash}, "the name 'bob' is already used");
    const std::string overlap = dir.file("overlap.conf");
    {
        std::ofstream(overlap) << "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 10.8.0.48/29\n";
    }
    expect_runtime({"import", overlap}, "overlaps 10.8.0.50/32 of peer bob");
    const std::string empty = dir.file("empty.conf");
    { std::ofstream(empty) << "[Interface]\nListenPort = 1\n"; }
    expect_runtime({"import", empty}, "has no [Peer] section");
    expect_runtime({"import", dir.file("missing.conf")}, "cannot read");
    const std::string broken = dir.file("broken.conf");
    { std::ofstream(broken) << "[Peer]\nPublicKey = short\n"; }
    expect_runtime({"import", broken}, "broken.conf:2: PublicKey is not a valid WireGuard key");
    EXPECT_EQ(cli.daemon.sets().size(), 0u);
}

TEST_F(Cli, ImportFromStdinInPlainMode) {
    const CliRun r = cli.run({"import", "-"}, kKernelConf);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cli.daemon.device.peer_count(), 2u);
}

// ---------------------------------------------------------------- show and doctor

TEST_F(Cli, ShowTextAndJson) {
    cli.daemon.make_gateway();
    cli.daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32");
    const CliRun text = cli.run({"show"});
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_EQ(text.out.rfind("interface: wg0\n", 0), 0u);
    EXPECT_TRUE(contains(text.out, "  name: laptop\n"));
    EXPECT_TRUE(contains(text.out, "mode: gateway"));
    const CliRun json = cli.run({"show", "--json"});
    const auto j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j["public_key"], crypto::key_to_base64(cli.daemon.server_public()));
    EXPECT_EQ(j["peers"][0]["name"], "laptop");
    EXPECT_FALSE(contains(json.out, crypto::key_to_hex(cli.daemon.server_key.bytes())));
}

TEST_F(Cli, DoctorExitsTwoOnAFailure) {
    cli.daemon.add_peer("name=laptop\nallowed_ip=10.8.0.2/32");
    cli.system.files["/proc/sys/net/ipv4/ip_forward"] = "1\n";
    cli.system.files["/proc/net/udp"] = "header\n";  // nothing bound
    const CliRun r = cli.run({"doctor"});
    EXPECT_EQ(r.code, kExitRuntime);
    EXPECT_TRUE(contains(r.out, "[FAIL] listen-port: nothing is bound to UDP port 51820")) << r.out;
    EXPECT_TRUE(contains(r.out, "       fix: "));
    const CliRun json = cli.run({"doctor", "--json"});
    const auto j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j["interface"], "wg0");
    EXPECT_FALSE(j["findings"].empty());
    cli.system.files["/proc/net/udp"] = "header\n  1: 00000000:CA6C 00000000:0000 07 0:0 0:0 0 0 0 1 2 0 0\n";
    cli.system.commands["nft -j list ruleset"] = R"({"nftables":[]})";
    cli.system.commands["ip -j link show dev wg0"] = R"([{"ifname":"wg0","flags":["UP"],"mtu":1420}])";
    const CliRun fine = cli.run({"doctor"});
    EXPECT_EQ(fine.code, 0) << fine.out;
}

}  // namespace
}  // namespace wgate::cli
