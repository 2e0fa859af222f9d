#include "wgate/io/nat.hpp"

#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "wgate/io/fd.hpp"

namespace wgate::io {
namespace {

// Interface names go into nft strings: only characters that need no quoting
// care (Linux allows almost anything but '/', ':' and spaces).
void check_ifname(const std::string& name, const char* role) {
    const bool ok = !name.empty() && name.size() < 16 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '+' || c == '@';
    });
    if (!ok) throw std::invalid_argument(std::string("nftables: ") + role + " interface name '" + name +
                                         "' is not usable in rules (use letters, digits, _ - . + @; at most 15)");
}

// Our tables only, and a valid nft identifier (letters, digits, _ - . /).
void check_table(const std::string& table) {
    const bool ours = table.size() > kNatTablePrefix.size() && table.starts_with(kNatTablePrefix) && table.size() <= 64;
    const bool identifier = std::all_of(table.begin(), table.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
    if (!ours || !identifier)
        throw std::invalid_argument("nftables: table name '" + table + "' is not ours: it must be '" +
                                    std::string(kNatTablePrefix) + "' followed by letters, digits, _ - .");
}

// The prefixes of one family, canonical, without duplicates or prefixes inside
// another one (nft refuses overlapping intervals in a set).
std::vector<core::IpPrefix> family_prefixes(const std::vector<core::IpPrefix>& all, core::IpAddress::Family family) {
    std::vector<core::IpPrefix> picked;
    for (const auto& raw : all)
        if (raw.address.family == family) picked.push_back(core::IpPrefix::make(raw.address, raw.cidr));
    std::sort(picked.begin(), picked.end(), [](const auto& a, const auto& b) { return a.cidr < b.cidr || (a.cidr == b.cidr && a < b); });
    std::vector<core::IpPrefix> out;
    for (const auto& p : picked) {
        const bool inside = std::any_of(out.begin(), out.end(), [&](const auto& q) { return q.contains(p.address); });
        if (!inside) out.push_back(p);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string set_of(const std::vector<core::IpPrefix>& prefixes) {
    std::string s = "{ ";
    for (std::size_t i = 0; i < prefixes.size(); ++i) s += (i ? ", " : "") + prefixes[i].to_string();
    return s + " }";
}

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

// nft's "no such table" is ENOENT through strerror(), in our locale.
bool says_missing(const std::string& error) { return error.find(std::strerror(ENOENT)) != std::string::npos; }

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

std::string nat_table_name(std::string_view ifname) { return std::string(kNatTablePrefix) + std::string(ifname); }

Nat::Nat() {
    // libnftables 1.0.6 opens its netfilter socket inside nft_ctx_new() and
    // calls exit() if that fails (no nf_tables in the kernel, no fds left):
    // try the same socket first so we can throw instead of dying uncleanly.
    {
        Fd probe(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
        if (!probe.valid())
            throw NftError(std::string("nftables: cannot open a netfilter netlink socket (") + std::strerror(errno) +
                           "): is nf_tables available in this kernel?");
    }
    ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx_) throw NftError("nftables: cannot create a libnftables context");
    // Capture both streams: nothing goes to our stdout/stderr, errors reach the exception.
    if (nft_ctx_buffer_output(ctx_) != 0 || nft_ctx_buffer_error(ctx_) != 0) {
        nft_ctx_free(ctx_);
        throw NftError("nftables: cannot buffer libnftables output");
    }
}

Nat::~Nat() {
    if (ctx_) nft_ctx_free(ctx_);
}

bool Nat::run_unless_missing(const std::string& commands, bool json, const std::string& what, std::string& output) {
    nft_ctx_output_set_flags(ctx_, json ? NFT_CTX_OUTPUT_JSON : 0);
    const int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
    // Reading a buffer also rewinds it for the next command: always read both.
    output = nft_ctx_get_output_buffer(ctx_);
    const std::string error = trim(nft_ctx_get_error_buffer(ctx_));
    nft_ctx_output_set_flags(ctx_, 0);
    if (rc == 0) return true;
    if (says_missing(error)) return false;
    throw NftError("nftables: " + what + ": " + (error.empty() ? "failed (no message from nft)" : error));
}

std::string Nat::run(const std::string& commands, bool json, const std::string& what) {
    std::string output;
    if (!run_unless_missing(commands, json, what, output))
        throw NftError("nftables: " + what + ": No such file or directory");
    return output;
}

std::string Nat::render(const std::string& table, const NatRules& rules) {
    check_table(table);
    check_ifname(rules.tunnel_ifname, "tunnel");
    if (!rules.egress_ifname.empty()) check_ifname(rules.egress_ifname, "egress");
    const auto v4 = family_prefixes(rules.lan_prefixes, core::IpAddress::Family::v4);
    const auto v6 = family_prefixes(rules.lan_prefixes, core::IpAddress::Family::v6);
    const std::string tun = quoted(rules.tunnel_ifname);

    std::string s = "table inet " + table + " {\n";
    s += "\tchain forward {\n";
    s += "\t\ttype filter hook forward priority filter; policy accept;\n";
    if (!v4.empty()) s += "\t\tiifname " + tun + " ip daddr " + set_of(v4) + " counter accept\n";
    if (!v6.empty()) s += "\t\tiifname " + tun + " ip6 daddr " + set_of(v6) + " counter accept\n";
    s += "\t\toifname " + tun + " ct state established,related counter accept\n";
    s += "\t}\n";
    if (rules.masquerade && (!v4.empty() || !v6.empty())) {
        // iifname works in postrouting for forwarded packets: the input device is kept.
        std::string match = "iifname " + tun;
        if (!rules.egress_ifname.empty()) match += " oifname " + quoted(rules.egress_ifname);
        s += "\tchain postrouting {\n";
        s += "\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
        if (!v4.empty()) s += "\t\t" + match + " ip daddr " + set_of(v4) + " counter masquerade\n";
        if (!v6.empty()) s += "\t\t" + match + " ip6 daddr " + set_of(v6) + " counter masquerade\n";
        s += "\t}\n";
    }
    s += "}\n";
    return s;
}

void Nat::install(const std::string& table, const NatRules& rules) {
    const std::string body = render(table, rules);
    // Declare (no-op if present), delete, recreate: one batch, so the kernel
    // applies all of it or none, and a re-install replaces stale rules.
    const std::string commands = "table inet " + table + "\ndelete table inet " + table + "\n" + body;
    run(commands, false, "installing table inet " + table);
}

bool Nat::remove(const std::string& table) {
    check_table(table);
    const bool existed = exists(table);
    // Declaring first makes the delete succeed whether or not the table exists
    // (nft 1.0.6 has no "destroy").
    run("table inet " + table + "\ndelete table inet " + table + "\n", false, "removing table inet " + table);
    return existed;
}

bool Nat::exists(const std::string& table) {
    check_table(table);
    std::string output;
    return run_unless_missing("list table inet " + table, false, "listing table inet " + table, output);
}

std::string Nat::list_ruleset() { return run("list ruleset", true, "listing the ruleset"); }

std::optional<std::string> Nat::list_table(const std::string& table) {
    check_table(table);
    std::string output;
    if (!run_unless_missing("list table inet " + table, true, "listing table inet " + table, output)) return std::nullopt;
    return output;
}

}  // namespace wgate::io
