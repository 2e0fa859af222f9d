// `wgate doctor`: what usually breaks a lab gateway, each finding with how to
// fix it. Read-only: facts come from the daemon (get=wgate), /proc/sys,
// /proc/net/udp{,6}, `ip -j` and `nft -j list ruleset`, gathered through a
// System so that the checks are pure functions tested on canned facts.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "wgate/cli/uapi_client.hpp"

namespace wgate::cli {

enum class Severity { ok, warn, fail };
const char* to_string(Severity s);

struct Finding {
    Severity severity = Severity::ok;
    std::string check;    // "forwarding", "listen-port", "firewall", "masquerade", "allowed-ips", "mtu", "handshake", ...
    std::string message;  // what is wrong (or fine)
    std::string fix;      // how to fix it; "" when ok
};

// Where the doctor looks. The real one reads files and runs commands.
class System {
public:
    virtual ~System() = default;
    virtual std::optional<std::string> read_file(const std::string& path) = 0;
    // Runs argv (no shell) and returns its stdout when it exits 0.
    virtual std::optional<std::string> run(const std::vector<std::string>& argv) = 0;
};

class RealSystem final : public System {
public:
    std::optional<std::string> read_file(const std::string& path) override;
    std::optional<std::string> run(const std::vector<std::string>& argv) override;
};

struct LinkFacts {
    std::string name;
    unsigned mtu = 0;
    bool up = false;
};

// An nftables rule that drops or rejects the listen port, or a drop policy.
struct FirewallBlock {
    std::string where;    // "table inet filter chain input"
    std::string what;     // "rule handle 7: udp dport 51820 drop", "policy drop"
    std::string fix;
    bool certain = true;  // false: the rule has conditions the doctor cannot evaluate
};

struct HostFacts {
    std::optional<bool> ipv4_forwarding;  // nullopt: unknown
    std::optional<bool> ipv6_forwarding;
    std::optional<LinkFacts> tunnel;      // the tunnel interface in this namespace
    std::set<unsigned> udp_ports;         // locally bound UDP ports (v4 and v6)
    bool udp_ports_known = false;
    bool nft_known = false;               // `nft -j list ruleset` answered
    std::vector<FirewallBlock> firewall_blocks;
    bool masquerade_rule = false;         // any masquerade/snat rule in a postrouting chain
    // The egress path: interface and MTU, from the daemon's wgate_egress or a
    // route lookup towards the peers' endpoints / the default route.
    std::optional<LinkFacts> egress;
    bool egress_ipv6 = false;             // the path found is IPv6 (80 bytes overhead, else 60)
    std::string egress_source;            // how it was found, for the message
};

HostFacts gather_facts(const DeviceInfo& device, System& system);

// Pure: the findings for these facts, in a fixed order. `expected_endpoint`
// overrides the daemon's public endpoint (plain mode has none).
std::vector<Finding> run_checks(const DeviceInfo& device, const HostFacts& facts,
                                const std::string& expected_endpoint = {});

// Parts of gather_facts, for tests.
std::set<unsigned> parse_proc_net_udp(const std::string& text);
// Blocks of UDP `port` in the input hook chains of `nft -j list ruleset`.
std::vector<FirewallBlock> nft_blocks_udp_port(const nlohmann::json& ruleset, unsigned port);
bool nft_has_masquerade(const nlohmann::json& ruleset);

// "[ok]   forwarding: ...\n       fix: ...\n"; a summary line at the end.
std::string render_findings(const std::vector<Finding>& findings);
nlohmann::json findings_json(const std::vector<Finding>& findings);

}  // namespace wgate::cli
