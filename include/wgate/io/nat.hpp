// Forwarding and masquerade rules in an nftables table of our own
// (`inet wgate-IFNAME`), through libnftables. Only tables whose name starts
// with "wgate-" are ever created, replaced or deleted, so a wrong name in a
// config can never remove someone else's rules.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "wgate/core/ip.hpp"

struct nft_ctx;

namespace wgate::io {

inline constexpr std::string_view kNatTablePrefix = "wgate-";

// "wg0" -> "wgate-wg0".
std::string nat_table_name(std::string_view ifname);

// nftables refused a command; what() carries nft's own message.
class NftError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct NatRules {
    std::string tunnel_ifname;                 // traffic from the peers enters here
    std::vector<core::IpPrefix> lan_prefixes;  // what the peers may reach (v4 and v6)
    std::string egress_ifname;                 // masquerade only out of this one; empty: any
    bool masquerade = true;
};

class Nat {
public:
    // One libnftables context; its netlink socket lives in the network
    // namespace current at construction. Throws NftError (instead of
    // libnftables' own exit() when the kernel has no nf_tables).
    Nat();
    ~Nat();
    Nat(const Nat&) = delete;
    Nat& operator=(const Nat&) = delete;

    // Creates or atomically replaces `table_name` (family inet):
    //  - chain forward (filter, hook forward, policy accept): accepts what
    //    comes from the tunnel to the LAN prefixes, and established/related
    //    traffic back into the tunnel;
    //  - chain postrouting (nat, hook postrouting, priority srcnat), only when
    //    masquerading: masquerades tunnel traffic to the LAN prefixes.
    // Rules count packets (`counter`) so `wgate doctor` can show them.
    // One nft transaction: on failure the previous table stays as it was.
    void install(const std::string& table_name, const NatRules& rules);
    void install(const std::string& table_name, const std::string& tunnel_ifname,
                 const std::vector<core::IpPrefix>& lan_prefixes, const std::string& egress_ifname, bool masquerade) {
        install(table_name, NatRules{tunnel_ifname, lan_prefixes, egress_ifname, masquerade});
    }
    // Deletes the table; no error if absent. Returns whether it existed.
    bool remove(const std::string& table_name);
    bool exists(const std::string& table_name);

    // Read-only, for the doctor: the whole ruleset, and one table, as nft's JSON
    // (the same as `nft -j list ...`). list_table gives nullopt if absent.
    std::string list_ruleset();
    std::optional<std::string> list_table(const std::string& table_name);

    // The nft script install() runs (without the leading replace lines); pure,
    // for logs and tests. Throws std::invalid_argument for names nft could
    // misread (quotes, spaces) or a table outside our prefix.
    static std::string render(const std::string& table_name, const NatRules& rules);

private:
    // Runs a command buffer; returns nft's output or throws NftError with its error text.
    std::string run(const std::string& commands, bool json, const std::string& what);
    // As run, but false (instead of throwing) when nft says the table does not exist.
    bool run_unless_missing(const std::string& commands, bool json, const std::string& what, std::string& output);

    nft_ctx* ctx_ = nullptr;
};

}  // namespace wgate::io
