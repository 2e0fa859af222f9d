#include "wgate/cli/doctor.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "wgate/core/events.hpp"

namespace wgate::cli {
namespace {

using nlohmann::json;

// WireGuard's overhead per packet: outer IP header, UDP header (8), data
// header (16) and Poly1305 tag (16).
constexpr unsigned kOverheadV4 = 20 + 8 + 32;
constexpr unsigned kOverheadV6 = 40 + 8 + 32;

constexpr int kMaxJumpDepth = 16;

// ---------------------------------------------------------------- nftables

enum class Tri { no, maybe, yes };

Tri negate(Tri t) { return t == Tri::yes ? Tri::no : t == Tri::no ? Tri::yes : Tri::maybe; }

struct Ruleset {
    const json* root = nullptr;
    // (family, table, chain) -> rules in order
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<const json*>> rules;
    std::vector<const json*> chains;
    std::map<std::tuple<std::string, std::string, std::string>, const json*> sets;
};

std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Ruleset index_ruleset(const json& root) {
    Ruleset rs;
    rs.root = &root;
    const auto it = root.find("nftables");
    if (it == root.end() || !it->is_array()) return rs;
    for (const json& item : *it) {
        if (!item.is_object()) continue;
        if (const auto c = item.find("chain"); c != item.end() && c->is_object()) {
            rs.chains.push_back(&*c);
        } else if (const auto r = item.find("rule"); r != item.end() && r->is_object()) {
            rs.rules[{str(*r, "family"), str(*r, "table"), str(*r, "chain")}].push_back(&*r);
        } else if (const auto s = item.find("set"); s != item.end() && s->is_object()) {
            rs.sets[{str(*s, "family"), str(*s, "table"), str(*s, "name")}] = &*s;
        }
    }
    return rs;
}

// Whether `value` (a number, a range, a set, "@named") holds port / protocol `want`.
Tri holds(const Ruleset& rs, const std::string& family, const std::string& table, const json& value, unsigned want,
          const char* want_name) {
    if (value.is_number_unsigned() || value.is_number_integer()) return value.get<long long>() == want ? Tri::yes : Tri::no;
    if (value.is_string()) {
        const std::string s = value.get<std::string>();
        if (!s.empty() && s[0] == '@') {
            const auto it = rs.sets.find({family, table, s.substr(1)});
            if (it == rs.sets.end()) return Tri::maybe;
            const auto elem = it->second->find("elem");
            if (elem == it->second->end()) return Tri::no;
            return holds(rs, family, table, json{{"set", *elem}}, want, want_name);
        }
        if (want_name && s == want_name) return Tri::yes;
        // A service or protocol name we cannot map: be honest about it.
        const bool numeric = !s.empty() && s.size() < 10 &&
                             std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!numeric) return Tri::maybe;
        return std::stoul(s) == want ? Tri::yes : Tri::no;
    }
    if (value.is_array()) return holds(rs, family, table, json{{"set", value}}, want, want_name);
    if (value.is_object()) {
        if (const auto r = value.find("range"); r != value.end() && r->is_array() && r->size() == 2) {
            if (!(*r)[0].is_number() || !(*r)[1].is_number()) return Tri::maybe;
            return (*r)[0].get<long long>() <= want && want <= (*r)[1].get<long long>() ? Tri::yes : Tri::no;
        }
        if (const auto set = value.find("set"); set != value.end()) {
            if (!set->is_array()) return holds(rs, family, table, *set, want, want_name);
            Tri result = Tri::no;
            for (const json& e : *set) {
                json element = e;
                if (e.is_object() && e.contains("elem") && e["elem"].is_object() && e["elem"].contains("val"))
                    element = e["elem"]["val"];
                const Tri t = holds(rs, family, table, element, want, want_name);
                if (t == Tri::yes) return Tri::yes;
                if (t == Tri::maybe) result = Tri::maybe;
            }
            return result;
        }
    }
    return Tri::maybe;
}

Tri apply_op(const std::string& op, Tri membership) {
    if (op == "==" || op == "in" || op.empty()) return membership;
    if (op == "!=") return negate(membership);
    return Tri::maybe;
}

// Could a new UDP datagram to `port` from outside match this "match" expression?
Tri match_udp(const Ruleset& rs, const std::string& family, const std::string& table, const json& m, unsigned port) {
    const std::string op = str(m, "op");
    const auto left = m.find("left");
    const auto right = m.find("right");
    if (left == m.end() || right == m.end() || !left->is_object()) return Tri::maybe;
    if (const auto p = left->find("payload"); p != left->end() && p->is_object()) {
        const std::string protocol = str(*p, "protocol");
        const std::string field = str(*p, "field");
        if (protocol == "udp" || protocol == "th") {
            if (field == "dport") return apply_op(op, holds(rs, family, table, *right, port, nullptr));
            return Tri::maybe;
        }
        if (protocol == "tcp" || protocol == "sctp" || protocol == "dccp" || protocol == "icmp" ||
            protocol == "icmpv6" || protocol == "udplite" || protocol == "esp" || protocol == "ah")
            return op == "!=" ? Tri::maybe : Tri::no;  // a header this datagram does not have
        if ((protocol == "ip" && field == "protocol") || (protocol == "ip6" && field == "nexthdr"))
            return apply_op(op, holds(rs, family, table, *right, 17, "udp"));
        return Tri::maybe;
    }
    if (const auto meta = left->find("meta"); meta != left->end() && meta->is_object()) {
        const std::string key = str(*meta, "key");
        if (key == "l4proto") return apply_op(op, holds(rs, family, table, *right, 17, "udp"));
        if ((key == "iifname" || key == "iif") && right->is_string() && right->get<std::string>() == "lo")
            return apply_op(op, Tri::no);  // the datagram comes from outside, not from lo
        return Tri::maybe;
    }
    if (const auto ct = left->find("ct"); ct != left->end() && ct->is_object() && str(*ct, "key") == "state") {
        // A client's first handshake is a new connection.
        Tri has_new = Tri::no;
        const json values = right->is_array() ? *right : json::array({*right});
        for (const json& v : values) {
            if (v.is_string() && v.get<std::string>() == "new") has_new = Tri::yes;
        }
        return apply_op(op, has_new);
    }
    return Tri::maybe;
}

struct Verdict {
    enum Kind { none, accept, drop, jump, go, ret } kind = none;
    std::string target;
};

Verdict verdict_of(const json& expr) {
    Verdict v;
    for (const json& e : expr) {
        if (!e.is_object()) continue;
        if (e.contains("accept")) v = {Verdict::accept, {}};
        else if (e.contains("drop") || e.contains("reject")) v = {Verdict::drop, {}};
        else if (e.contains("return")) v = {Verdict::ret, {}};
        else if (const auto j = e.find("jump"); j != e.end()) v = {Verdict::jump, str(*j, "target")};
        else if (const auto g = e.find("goto"); g != e.end()) v = {Verdict::go, str(*g, "target")};
    }
    return v;
}

struct ChainResult {
    enum Kind { fell_through, accepted, blocked } kind = fell_through;
    bool maybe_accepted = false;  // an accept with conditions we could not evaluate came first
    FirewallBlock block;
};

std::string handle_of(const json& rule) {
    const auto h = rule.find("handle");
    return h != rule.end() && h->is_number() ? std::to_string(h->get<long long>()) : "?";
}

ChainResult eval_chain(const Ruleset& rs, const std::string& family, const std::string& table, const std::string& chain,
                       unsigned port, int depth, std::vector<FirewallBlock>& maybes) {
    ChainResult result;
    if (depth > kMaxJumpDepth) return result;
    const auto it = rs.rules.find({family, table, chain});
    if (it == rs.rules.end()) return result;
    const std::string where = "table " + family + " " + table + " chain " + chain;
    for (const json* rule : it->second) {
        const auto expr = rule->find("expr");
        if (expr == rule->end() || !expr->is_array()) continue;
        Tri t = Tri::yes;
        for (const json& e : *expr) {
            if (!e.is_object()) continue;
            const auto m = e.find("match");
            if (m == e.end()) continue;
            const Tri one = match_udp(rs, family, table, *m, port);
            if (one == Tri::no) {
                t = Tri::no;
                break;
            }
            if (one == Tri::maybe) t = Tri::maybe;
        }
        if (t == Tri::no) continue;
        const Verdict v = verdict_of(*expr);
        const std::string handle = handle_of(*rule);
        const std::string fix = "nft delete rule " + family + " " + table + " " + chain + " handle " + handle +
                                ", or accept the port before it: nft insert rule " + family + " " + table + " " +
                                chain + " udp dport " + std::to_string(port) + " accept";
        switch (v.kind) {
            case Verdict::none:
                break;
            case Verdict::accept:
                if (t == Tri::yes) {
                    result.kind = ChainResult::accepted;
                    return result;
                }
                result.maybe_accepted = true;
                break;
            case Verdict::drop: {
                FirewallBlock b{where, "rule handle " + handle + " drops UDP port " + std::to_string(port), fix,
                                t == Tri::yes && !result.maybe_accepted};
                if (t == Tri::yes) {
                    if (!b.certain) b.what += " (unless an earlier rule with conditions accepted it)";
                    result.kind = ChainResult::blocked;
                    result.block = b;
                    return result;
                }
                b.what += " for some packets (the rule has conditions the doctor cannot evaluate)";
                maybes.push_back(b);
                break;
            }
            case Verdict::jump:
            case Verdict::go: {
                ChainResult sub = eval_chain(rs, family, table, v.target, port, depth + 1, maybes);
                if (t == Tri::yes) {
                    result.maybe_accepted = result.maybe_accepted || sub.maybe_accepted;
                    if (sub.kind != ChainResult::fell_through) {
                        if (sub.kind == ChainResult::blocked && result.maybe_accepted) sub.block.certain = false;
                        return sub;
                    }
                    if (v.kind == Verdict::go) return result;  // goto does not come back
                } else {
                    if (sub.kind == ChainResult::blocked) {
                        sub.block.certain = false;
                        maybes.push_back(sub.block);
                    }
                    if (sub.kind == ChainResult::accepted) result.maybe_accepted = true;
                }
                break;
            }
            case Verdict::ret:
                if (t == Tri::yes) return result;
                break;
        }
    }
    return result;
}

// ---------------------------------------------------------------- host facts

std::optional<bool> read_flag(System& system, const std::string& path) {
    const auto text = system.read_file(path);
    if (!text || text->empty()) return std::nullopt;
    return (*text)[0] != '0';
}

std::optional<json> run_json(System& system, const std::vector<std::string>& argv) {
    const auto out = system.run(argv);
    if (!out) return std::nullopt;
    try {
        return json::parse(*out);
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

std::optional<LinkFacts> link_facts(System& system, const std::string& name) {
    const auto j = run_json(system, {"ip", "-j", "link", "show", "dev", name});
    if (!j || !j->is_array() || j->empty() || !(*j)[0].is_object()) return std::nullopt;
    const json& l = (*j)[0];
    LinkFacts f;
    f.name = str(l, "ifname");
    if (l.contains("mtu") && l["mtu"].is_number()) f.mtu = l["mtu"].get<unsigned>();
    if (const auto flags = l.find("flags"); flags != l.end() && flags->is_array()) {
        for (const json& fl : *flags) f.up = f.up || (fl.is_string() && fl.get<std::string>() == "UP");
    }
    return f;
}

// The route's own MTU ("ip route ... mtu 1400"), when it has one.
std::optional<unsigned> route_mtu(const json& route) {
    if (route.contains("mtu") && route["mtu"].is_number()) return route["mtu"].get<unsigned>();
    if (const auto m = route.find("metrics"); m != route.end() && m->is_array()) {
        for (const json& e : *m) {
            if (e.is_object() && e.contains("mtu") && e["mtu"].is_number()) return e["mtu"].get<unsigned>();
        }
    }
    return std::nullopt;
}

// "[2001:db8::1]:51820" / "192.0.2.1:51820" -> the address.
std::optional<core::IpAddress> endpoint_address(const std::string& endpoint) {
    const auto colon = endpoint.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string host = endpoint.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    return core::IpAddress::parse(host);
}

std::optional<unsigned> endpoint_port(const std::string& endpoint) {
    const auto colon = endpoint.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    try {
        const unsigned long p = std::stoul(endpoint.substr(colon + 1));
        if (p == 0 || p > 65535) return std::nullopt;
        return static_cast<unsigned>(p);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void find_egress(const DeviceInfo& device, System& system, HostFacts& facts) {
    auto use_route = [&](const json& route, bool v6, const std::string& how) {
        const std::string dev = str(route, "dev");
        if (dev.empty()) return false;
        auto link = link_facts(system, dev);
        if (!link) return false;
        if (const auto mtu = route_mtu(route); mtu && *mtu < link->mtu) link->mtu = *mtu;
        facts.egress = link;
        facts.egress_ipv6 = v6;
        facts.egress_source = how;
        return true;
    };
    if (!device.egress.empty()) {
        if (auto link = link_facts(system, device.egress)) {
            facts.egress = link;
            facts.egress_source = "the configured egress interface";
            facts.egress_ipv6 = false;
            return;
        }
    }
    for (const PeerInfo& p : device.peers) {
        if (p.disabled || p.endpoint.empty()) continue;
        const auto address = endpoint_address(p.endpoint);
        if (!address) continue;
        const auto j = run_json(system, {"ip", "-j", "route", "get", to_text(*address)});
        if (j && j->is_array() && !j->empty() &&
            use_route((*j)[0], address->is_v6(), "the route to peer " + p.label() + " (" + p.endpoint + ")"))
            return;
    }
    for (const bool v6 : {false, true}) {
        std::vector<std::string> argv = {"ip"};
        if (v6) argv.push_back("-6");
        argv.insert(argv.end(), {"-j", "route", "show", "default"});
        const auto j = run_json(system, argv);
        if (j && j->is_array() && !j->empty() &&
            use_route((*j)[0], v6, v6 ? "the IPv6 default route" : "the default route"))
            return;
    }
}

// ---------------------------------------------------------------- checks

Finding ok(std::string check, std::string message) { return {Severity::ok, std::move(check), std::move(message), {}}; }
Finding warn(std::string check, std::string message, std::string fix) {
    return {Severity::warn, std::move(check), std::move(message), std::move(fix)};
}
Finding fail(std::string check, std::string message, std::string fix) {
    return {Severity::fail, std::move(check), std::move(message), std::move(fix)};
}

bool uses_ipv6(const DeviceInfo& d) {
    for (const auto& a : d.addresses) {
        if (a.address.is_v6()) return true;
    }
    for (const auto& p : d.peers) {
        for (const auto& ip : p.allowed_ips) {
            if (ip.address.is_v6()) return true;
        }
    }
    return false;
}

std::string reason_fix(const std::string& reason, const DeviceInfo& d) {
    const std::string pub = d.public_key ? key_text(*d.public_key) : "the gateway's public key";
    if (reason == "bad_mac1")
        return "a client uses a different public key for this gateway: its [Peer] PublicKey must be " + pub +
               "; give it a fresh config (wgate export NAME --private-key-file KEY, or remove and add the peer)";
    if (reason == "unknown_peer")
        return "a client whose public key is not configured here is knocking: its private key does not belong to "
               "any peer (check `wg pubkey < client.key` against `wgate peer list`), or add it with wgate peer add";
    if (reason == "replayed_timestamp")
        return "the client's handshakes are not newer than an earlier one: check the client's clock, or a replay";
    if (reason == "bad_handshake" || reason == "decrypt_failed")
        return "the keys do not fit: check the client's keys and that both sides use the same PresharedKey (or none)";
    if (reason == "no_private_key") return "the interface has no private key: wg set " + d.ifname + " private-key FILE";
    if (reason == "rate_limited") return "the gateway is under load and rate-limits handshakes: try again later";
    return "see LOG_LEVEL=verbose in the daemon's log for every rejected packet";
}

const char* kHandshakeReasons[] = {"bad_mac1",       "unknown_peer", "bad_handshake", "replayed_timestamp",
                                   "no_private_key", "rate_limited", "decrypt_failed"};

}  // namespace

const char* to_string(Severity s) {
    switch (s) {
        case Severity::ok: return "ok";
        case Severity::warn: return "warn";
        case Severity::fail: return "fail";
    }
    return "?";
}

std::optional<std::string> RealSystem::read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::optional<std::string> RealSystem::run(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return std::nullopt;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, STDERR_FILENO);
        std::vector<char*> args;
        for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    return out;
}

std::set<unsigned> parse_proc_net_udp(const std::string& text) {
    std::set<unsigned> ports;
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local;
        if (!(fields >> slot >> local)) continue;
        const auto colon = local.rfind(':');
        if (colon == std::string::npos) continue;
        try {
            ports.insert(static_cast<unsigned>(std::stoul(local.substr(colon + 1), nullptr, 16)));
        } catch (const std::exception&) {
        }
    }
    return ports;
}

std::vector<FirewallBlock> nft_blocks_udp_port(const json& ruleset, unsigned port) {
    const Ruleset rs = index_ruleset(ruleset);
    std::vector<const json*> base;
    for (const json* c : rs.chains) {
        const std::string hook = str(*c, "hook");
        const std::string family = str(*c, "family");
        if ((hook == "input" || hook == "prerouting") && (family == "inet" || family == "ip" || family == "ip6"))
            base.push_back(c);
    }
    std::vector<FirewallBlock> blocks;
    std::vector<FirewallBlock> maybes;
    for (const json* c : base) {
        const std::string family = str(*c, "family"), table = str(*c, "table"), name = str(*c, "name");
        const ChainResult r = eval_chain(rs, family, table, name, port, 0, maybes);
        if (r.kind == ChainResult::blocked) {
            blocks.push_back(r.block);
        } else if (r.kind == ChainResult::fell_through && str(*c, "policy") == "drop") {
            blocks.push_back(FirewallBlock{
                "table " + family + " " + table + " chain " + name,
                "policy drop, and no rule accepts UDP port " + std::to_string(port) +
                    (r.maybe_accepted ? " for every source (some accept rules have conditions)" : ""),
                "nft insert rule " + family + " " + table + " " + name + " udp dport " + std::to_string(port) +
                    " accept",
                !r.maybe_accepted});
        }
    }
    for (FirewallBlock& m : maybes) {
        const bool dup = std::any_of(blocks.begin(), blocks.end(),
                                     [&](const FirewallBlock& b) { return b.where == m.where && b.what == m.what; });
        if (!dup) blocks.push_back(std::move(m));
    }
    return blocks;
}

bool nft_has_masquerade(const json& ruleset) {
    const Ruleset rs = index_ruleset(ruleset);
    for (const auto& [where, rules] : rs.rules) {
        for (const json* rule : rules) {
            const auto expr = rule->find("expr");
            if (expr == rule->end() || !expr->is_array()) continue;
            for (const json& e : *expr) {
                if (e.is_object() && (e.contains("masquerade") || e.contains("snat"))) return true;
            }
        }
    }
    return false;
}

HostFacts gather_facts(const DeviceInfo& device, System& system) {
    HostFacts facts;
    facts.ipv4_forwarding = read_flag(system, "/proc/sys/net/ipv4/ip_forward");
    facts.ipv6_forwarding = read_flag(system, "/proc/sys/net/ipv6/conf/all/forwarding");
    facts.tunnel = link_facts(system, device.ifname);
    const auto udp4 = system.read_file("/proc/net/udp");
    const auto udp6 = system.read_file("/proc/net/udp6");
    if (udp4 || udp6) {
        facts.udp_ports_known = true;
        for (const auto* text : {&udp4, &udp6}) {
            if (!*text) continue;
            const auto ports = parse_proc_net_udp(**text);
            facts.udp_ports.insert(ports.begin(), ports.end());
        }
    }
    if (const auto ruleset = run_json(system, {"nft", "-j", "list", "ruleset"})) {
        facts.nft_known = true;
        if (device.listen_port) facts.firewall_blocks = nft_blocks_udp_port(*ruleset, device.listen_port);
        facts.masquerade_rule = nft_has_masquerade(*ruleset);
    }
    find_egress(device, system, facts);
    return facts;
}

std::vector<Finding> run_checks(const DeviceInfo& d, const HostFacts& f, const std::string& expected_endpoint) {
    std::vector<Finding> out;
    const std::string ifname = d.ifname;
    const bool gateway = d.gateway();

    // The daemon itself.
    if (!d.public_key) {
        out.push_back(fail("private-key", ifname + " has no private key: it cannot do any handshake",
                           "wg set " + ifname + " private-key FILE (gateway mode: interface.private_key_file)"));
    } else {
        out.push_back(ok("private-key", ifname + " has a private key (public key " + key_text(*d.public_key) + ")"));
    }

    // The tunnel interface in this namespace.
    if (!f.tunnel) {
        out.push_back(warn("interface", ifname + " is not in this network namespace, or `ip` is missing",
                           "run wgate doctor in the namespace of " + ifname + " (ip netns exec NS wgate doctor)"));
    } else if (!f.tunnel->up) {
        out.push_back(fail("interface", ifname + " is down: nothing is routed into the tunnel",
                           "ip link set " + ifname + " up"));
    } else {
        out.push_back(ok("interface", ifname + " is up (mtu " + std::to_string(f.tunnel->mtu) + ")"));
    }

    // Forwarding: without it peers reach this host only.
    const Severity forward_severity = gateway ? Severity::fail : Severity::warn;
    const std::string why = gateway ? "peers cannot reach the LAN" : "peers can reach this host only, nothing behind it";
    if (f.ipv4_forwarding && !*f.ipv4_forwarding) {
        out.push_back({forward_severity, "forwarding", "IPv4 forwarding is disabled (net.ipv4.ip_forward=0): " + why,
                       "sysctl -w net.ipv4.ip_forward=1 (and net.ipv4.ip_forward=1 in /etc/sysctl.d/99-wgate.conf)"});
    } else if (f.ipv4_forwarding) {
        out.push_back(ok("forwarding", "IPv4 forwarding is enabled"));
    }
    if (uses_ipv6(d) && f.ipv6_forwarding && !*f.ipv6_forwarding) {
        out.push_back({forward_severity, "forwarding",
                       "IPv6 forwarding is disabled (net.ipv6.conf.all.forwarding=0): " + why + " over IPv6",
                       "sysctl -w net.ipv6.conf.all.forwarding=1 (and in /etc/sysctl.d/99-wgate.conf)"});
    }

    // Masquerade or a return route.
    std::string tunnel_nets;
    for (const auto& a : d.addresses) tunnel_nets += (tunnel_nets.empty() ? "" : ", ") + to_text(a.network());
    if (tunnel_nets.empty()) tunnel_nets = "the tunnel subnet";
    if (gateway && d.masquerade.value_or(false)) {
        if (f.nft_known && !f.masquerade_rule) {
            out.push_back(fail("masquerade", "masquerade is configured but no masquerade rule is installed",
                               "see wgated's log for the nftables error, then restart it (nft list table inet wgate-" +
                                   ifname + " shows its rules)"));
        } else if (f.nft_known) {
            out.push_back(ok("masquerade", "traffic from the tunnel is masqueraded"));
        }
    } else if (gateway) {
        out.push_back(warn("masquerade",
                           "masquerade is off: LAN hosts answer " + tunnel_nets + " only if their router routes it back here",
                           "on the LAN router: ip route add " + tunnel_nets + " via <this host's LAN address>; or set "
                           "gateway.masquerade: true"));
    } else if (f.nft_known && !f.masquerade_rule) {
        out.push_back(warn("masquerade",
                           "no masquerade rule: hosts behind this one see tunnel source addresses and answer them only "
                           "with a return route",
                           "nft add table ip nat; nft add chain ip nat post '{ type nat hook postrouting priority srcnat; }'; "
                           "nft add rule ip nat post iifname " + ifname + " masquerade; or route " + tunnel_nets +
                               " back to this host on the LAN router (gateway mode does this: wgated --config)"));
    }

    // The listen port.
    if (d.listen_port == 0) {
        out.push_back(fail("listen-port", ifname + " has no listen port: clients cannot reach it",
                           "wg set " + ifname + " listen-port 51820 (gateway mode: interface.listen_port)"));
    } else if (f.udp_ports_known && !f.udp_ports.count(d.listen_port)) {
        out.push_back(fail("listen-port",
                           "nothing is bound to UDP port " + std::to_string(d.listen_port) +
                               " in this network namespace, although " + ifname + " listens on it",
                           "wgated's socket stays in the namespace it was started in: run the doctor there, or restart "
                           "wgated in this namespace (ip netns exec NS wgated " + ifname + ")"));
    } else if (f.udp_ports_known) {
        out.push_back(ok("listen-port", "UDP port " + std::to_string(d.listen_port) + " is bound"));
    }
    const std::string endpoint = expected_endpoint.empty() ? d.public_endpoint : expected_endpoint;
    if (!endpoint.empty() && d.listen_port != 0) {
        const auto port = endpoint_port(endpoint);
        if (port && *port != d.listen_port) {
            out.push_back(warn("listen-port",
                               "clients dial " + endpoint + " but " + ifname + " listens on port " +
                                   std::to_string(d.listen_port),
                               "forward UDP " + std::to_string(*port) + " to " + std::to_string(d.listen_port) +
                                   " on the NAT router, or listen on " + std::to_string(*port) + ": wg set " + ifname +
                                   " listen-port " + std::to_string(*port)));
        }
    }

    // The firewall of this host.
    if (!f.nft_known) {
        out.push_back(warn("firewall", "could not read the nftables ruleset (is nft installed? are you root?)",
                           "run as root with nftables installed: sudo wgate doctor"));
    } else if (f.firewall_blocks.empty()) {
        if (d.listen_port) out.push_back(ok("firewall", "nftables lets UDP port " + std::to_string(d.listen_port) + " in"));
    } else {
        for (const FirewallBlock& b : f.firewall_blocks) {
            out.push_back({b.certain ? Severity::fail : Severity::warn, "firewall", b.where + ": " + b.what, b.fix});
        }
    }

    // Allowed IPs: overlaps between peers, and the gateway's own addresses.
    bool overlap = false;
    for (std::size_t i = 0; i < d.peers.size(); ++i) {
        for (std::size_t j = i + 1; j < d.peers.size(); ++j) {
            for (const auto& a : d.peers[i].allowed_ips) {
                for (const auto& b : d.peers[j].allowed_ips) {
                    if (!overlaps(a, b)) continue;
                    overlap = true;
                    const PeerInfo& wide = a.cidr <= b.cidr ? d.peers[i] : d.peers[j];
                    const PeerInfo& narrow = a.cidr <= b.cidr ? d.peers[j] : d.peers[i];
                    const auto& wide_ip = a.cidr <= b.cidr ? a : b;
                    const auto& narrow_ip = a.cidr <= b.cidr ? b : a;
                    out.push_back(fail("allowed-ips",
                                       "allowed IPs of " + wide.label() + " (" + to_text(wide_ip) + ") and " +
                                           narrow.label() + " (" + to_text(narrow_ip) + ") overlap: traffic for " +
                                           to_text(narrow_ip) + " goes to " + narrow.label() + " only" +
                                           (wide.disabled || narrow.disabled ? " (one of them is disabled)" : ""),
                                       "give each peer its own addresses: wg set " + ifname + " peer " +
                                           key_text(wide.public_key) + " allowed-ips <its own /32>"));
                }
            }
        }
        for (const auto& ip : d.peers[i].allowed_ips) {
            for (const auto& own : d.addresses) {
                if (!ip.contains(own.address) || ip.cidr == 0) continue;
                overlap = true;
                out.push_back(warn("allowed-ips",
                                   "allowed IPs of " + d.peers[i].label() + " (" + to_text(ip) +
                                       ") contain the gateway's own address " + to_text(own.address),
                                   "give the peer only its own address: wg set " + ifname + " peer " +
                                       key_text(d.peers[i].public_key) + " allowed-ips <its own /32>"));
            }
        }
    }
    if (!overlap) out.push_back(ok("allowed-ips", "no peers' allowed IPs overlap"));

    // MTU against the egress path.
    const unsigned tunnel_mtu = f.tunnel && f.tunnel->mtu ? f.tunnel->mtu : d.mtu.value_or(0);
    if (f.egress && f.egress->mtu && tunnel_mtu) {
        const unsigned overhead = f.egress_ipv6 ? kOverheadV6 : kOverheadV4;
        if (tunnel_mtu + overhead > f.egress->mtu) {
            const unsigned fit = f.egress->mtu > overhead ? f.egress->mtu - overhead : 0;
            out.push_back(fail("mtu",
                               "tunnel MTU " + std::to_string(tunnel_mtu) + " + " + std::to_string(overhead) +
                                   " bytes of WireGuard overhead exceeds the MTU " + std::to_string(f.egress->mtu) +
                                   " of " + f.egress->name + " (" + f.egress_source +
                                   "): large packets are fragmented or lost",
                               "ip link set " + ifname + " mtu " + std::to_string(fit) +
                                   (gateway ? " (and interface.mtu: " + std::to_string(fit) + " in the config)" : "") +
                                   "; clients: MTU = " + std::to_string(fit) + " in [Interface]"));
        } else {
            out.push_back(ok("mtu", "tunnel MTU " + std::to_string(tunnel_mtu) + " fits " + f.egress->name + " (mtu " +
                                        std::to_string(f.egress->mtu) + ")"));
        }
    }

    // Peers that never completed a handshake.
    std::string device_reasons;
    std::string first_reason;
    for (const char* r : kHandshakeReasons) {
        const auto it = d.dropped.find(r);
        if (it == d.dropped.end() || it->second == 0) continue;
        device_reasons += (device_reasons.empty() ? "" : ", ") + std::string(r) + " x" + std::to_string(it->second);
        if (first_reason.empty()) first_reason = r;
    }
    bool all_ok = true;
    for (const PeerInfo& p : d.peers) {
        if (p.disabled || p.last_handshake_sec != 0) continue;
        all_ok = false;
        if (!p.last_rejection.empty()) {
            out.push_back(fail("handshake",
                               "peer " + p.label() + " has never completed a handshake; last rejection: " +
                                   p.last_rejection,
                               reason_fix(p.last_rejection, d)));
        } else if (!device_reasons.empty()) {
            out.push_back(fail("handshake",
                               "peer " + p.label() + " has never completed a handshake; the daemon rejected handshakes: " +
                                   device_reasons,
                               reason_fix(first_reason, d)));
        } else {
            out.push_back(warn("handshake",
                               "peer " + p.label() + " has never completed a handshake, and no handshake attempt was "
                               "rejected: none arrived",
                               "check that the client is up and dials " +
                                   (endpoint.empty() ? std::string("this host's public address") : endpoint) +
                                   ", and that NAT forwarding and firewalls on the way let UDP " +
                                   std::to_string(d.listen_port) + " through"));
        }
    }
    if (all_ok) out.push_back(ok("handshake", d.peers.empty() ? "no peers yet" : "every enabled peer has completed a handshake"));
    return out;
}

std::string render_findings(const std::vector<Finding>& findings) {
    std::string s;
    int fails = 0, warns = 0;
    for (const Finding& f : findings) {
        const char* tag = f.severity == Severity::ok ? "[ok]  " : f.severity == Severity::warn ? "[warn]" : "[FAIL]";
        s += std::string(tag) + " " + f.check + ": " + f.message + "\n";
        if (!f.fix.empty()) s += "       fix: " + f.fix + "\n";
        fails += f.severity == Severity::fail;
        warns += f.severity == Severity::warn;
    }
    s += std::to_string(fails) + (fails == 1 ? " problem, " : " problems, ") + std::to_string(warns) +
         (warns == 1 ? " warning\n" : " warnings\n");
    return s;
}

json findings_json(const std::vector<Finding>& findings) {
    json list = json::array();
    for (const Finding& f : findings) {
        list.push_back({{"severity", to_string(f.severity)},
                        {"check", f.check},
                        {"message", f.message},
                        {"fix", f.fix.empty() ? json(nullptr) : json(f.fix)}});
    }
    return list;
}

}  // namespace wgate::cli
