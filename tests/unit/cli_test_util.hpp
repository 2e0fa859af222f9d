// Fakes for the `wgate` CLI tests: a daemon made of a real core::Device, the
// real UAPI Session and a TestHost (so requests go through the same parser and
// apply_set as in wgated), a canned System for the doctor, and a harness that
// runs run_cli with string streams.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "uapi_test_host.hpp"
#include "wgate/cli/cli.hpp"
#include "wgate/cli/error.hpp"
#include "wgate/control/uapi.hpp"
#include "wgate/core/device.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::test {

using namespace std::chrono_literals;

inline constexpr std::int64_t kCliNow = 1'700'000'000;  // the harness's unix time

class FakeDaemon {
public:
    explicit FakeDaemon(std::uint64_t seed = 11) : random(seed), device(random) {
        server_key = crypto::generate_private_key(random);
        device.set_private_key(server_key);
        host.port = 51820;
        now.mono = 100s;
        now.wall = std::chrono::seconds(kCliNow);
    }

    // Gateway mode with a v4+v6 pool, LAN route, DNS and a public endpoint.
    void make_gateway() {
        host.extension_lines =
            "wgate_mode=gateway\nwgate_address=10.8.0.1/24\nwgate_address=fd42:8::1/64\n"
            "wgate_public_endpoint=vpn.example.com:51820\nwgate_lan_route=192.168.10.0/24\n"
            "wgate_dns=10.8.0.1\nwgate_keepalive=25\nwgate_masquerade=true\nwgate_egress=eth0\n"
            "wgate_config=/etc/wgate/wg0.yaml\n";
    }

    // A request as the socket would carry it.
    std::string exchange(std::string_view request) {
        requests.emplace_back(request);
        if (wireguard_go && request.substr(0, 10) == "get=wgate\n") return "";
        control::Session session(device, host, [this] { return now; }, out);
        std::string reply;
        session.feed(request, reply);
        return reply;
    }

    // The set requests received, without "set=1\n" and the final blank line.
    std::vector<std::string> sets() const {
        std::vector<std::string> list;
        for (const std::string& r : requests) {
            if (r.rfind("set=1\n", 0) == 0) list.push_back(r.substr(6, r.size() - 7));
        }
        return list;
    }

    crypto::PublicKey add_peer(const std::string& lines_after_key) {
        const crypto::PublicKey key = crypto::public_key_of(crypto::generate_private_key(random));
        std::string request = "set=1\npublic_key=" + crypto::key_to_hex(key) + "\n" + lines_after_key;
        if (request.back() != '\n') request += '\n';
        request += '\n';
        std::string reply;
        control::Session session(device, host, [this] { return now; }, out);
        session.feed(request, reply);
        EXPECT_EQ(reply, "errno=0\n\n") << request;
        return key;
    }

    crypto::PublicKey server_public() const { return crypto::public_key_of(server_key); }

    crypto::DeterministicRandom random;
    core::Device device;
    TestHost host;
    core::Outputs out;
    core::Now now;
    crypto::PrivateKey server_key;
    std::vector<std::string> requests;
    bool wireguard_go = false;  // closes the connection on get=wgate
};

class FakeClient final : public cli::ControlClient {
public:
    explicit FakeClient(FakeDaemon& daemon) : daemon_(daemon) {}
    std::string exchange(std::string_view request) override { return daemon_.exchange(request); }

private:
    FakeDaemon& daemon_;
};

// Files and commands the doctor reads, canned.
class FakeSystem final : public cli::System {
public:
    std::optional<std::string> read_file(const std::string& path) override {
        const auto it = files.find(path);
        if (it == files.end()) return std::nullopt;
        return it->second;
    }
    std::optional<std::string> run(const std::vector<std::string>& argv) override {
        std::string line;
        for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
        commands_run.push_back(line);
        const auto it = commands.find(line);
        if (it == commands.end()) return std::nullopt;
        return it->second;
    }
    std::map<std::string, std::string> files;
    std::map<std::string, std::string> commands;  // "ip -j link show dev wg0" -> output
    std::vector<std::string> commands_run;
};

struct CliRun {
    int code = -1;
    std::string out;
    std::string err;
};

class CliHarness {
public:
    CliHarness() : random(5) { running = {"wg0"}; }

    CliRun run(const std::vector<std::string>& args, const std::string& stdin_text = "") {
        std::istringstream in(stdin_text);
        std::ostringstream out, err;
        cli::CliEnv env{in, out, err, random,
                        [this](const std::string& ifname) -> std::unique_ptr<cli::ControlClient> {
                            if (std::find(running.begin(), running.end(), ifname) == running.end()) {
                                throw cli::runtime_error("interface " + ifname + " is not running (nothing answers on "
                                                         "/var/run/wireguard/" + ifname + ".sock): start it");
                            }
                            return std::make_unique<FakeClient>(daemon);
                        },
                        [this] { return running; }, [] { return kCliNow; }, system};
        CliRun r;
        r.code = cli::run_cli(args, env);
        r.out = out.str();
        r.err = err.str();
        return r;
    }

    crypto::DeterministicRandom random;
    FakeDaemon daemon;
    FakeSystem system;
    std::vector<std::string> running;
};

// A private temporary directory, removed with its contents.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "wgate-cli-test.XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Runs a shell command, returns its stdout (and the status through `status`).
inline std::string shell(const std::string& command, int* status = nullptr) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int rc = ::pclose(p);
    if (status) *status = rc;
    return out;
}

inline bool have_tool(const std::string& name) {
    int status = 0;
    shell("command -v " + name + " >/dev/null 2>&1", &status);
    return status == 0;
}

}  // namespace wgate::test
