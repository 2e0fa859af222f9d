#include "wgate/io/gateway_host.hpp"

#include <algorithm>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "wgate/io/nat.hpp"
#include "wgate/io/netlink.hpp"
#include "wgate/io/sysctl.hpp"

namespace wgate::io {
namespace {

bool covered(const core::IpPrefix& p, const std::vector<core::IpPrefix>& networks) {
    return std::any_of(networks.begin(), networks.end(), [&](const core::IpPrefix& n) {
        return n.address.family == p.address.family && n.cidr <= p.cidr && n.contains(p.address);
    });
}

}  // namespace

CleanupReport GatewayHost::clean_leftovers(const std::string& ifname) {
    const auto path = host_state_path(ifname);
    const auto state = read_host_state(path);
    if (!state) return {};
    if (owner_alive(*state))
        throw std::runtime_error("wgated (pid " + std::to_string(state->pid) + ") already manages " + ifname +
                                 ": stop it first, or pick another interface name");
    auto report = undo_host_state(*state);
    remove_host_state(path);
    return report;
}

GatewayHost::GatewayHost(spdlog::logger& logger) : logger_(logger) {}

GatewayHost::~GatewayHost() { stop(); }

void GatewayHost::record() { write_host_state(host_state_path(state_.ifname), state_); }

void GatewayHost::start(const GatewayHostConfig& config) {
    state_ = new_host_state(config.ifname);
    state_.ifindex = config.ifindex;
    state_.owns_link = true;
    started_ = true;
    record();

    Netlink nl;
    nl.set_mtu(config.ifindex, config.mtu);
    bool v4 = false, v6 = false;
    for (const auto& a : config.addresses) {
        state_.addresses.push_back(a);
        record();
        nl.add_address(config.ifindex, a.address, a.cidr);
        networks_.push_back(core::IpPrefix::make(a.address, a.cidr));
        (a.address.is_v4() ? v4 : v6) = true;
    }
    nl.set_up(config.ifindex, true);

    for (const auto& r : config.lan_routes) (r.address.is_v4() ? v4 : v6) = true;
    ForwardingGuard guard(v4, v6, [this](const std::vector<SysctlChange>& changes) {
        state_.sysctls = changes;
        record();
    });
    state_.sysctls = guard.changes();
    guard.release();  // undone through the state, like everything else
    record();
    for (const auto& c : state_.sysctls) logger_.info("Set {} = {} (was {})", c.key, c.new_value, c.old_value);

    install_nat(config);
}

void GatewayHost::install_nat(const GatewayHostConfig& config) {
    egress_ = config.egress_interface;
    if (egress_.empty() && !config.lan_routes.empty()) {
        Netlink nl;
        const auto lookup = nl.route_get(config.lan_routes.front().address);
        if (lookup.ifindex) egress_ = nl.name_of(lookup.ifindex);
    }
    if (config.lan_routes.empty()) return;
    state_.nft_table = nat_table_name(config.ifname);
    record();
    Nat nat;
    nat.install(state_.nft_table, NatRules{config.ifname, config.lan_routes, egress_, config.masquerade});
    logger_.info("Installed nftables table inet {} (masquerade {}, egress {})", state_.nft_table,
                 config.masquerade ? "on" : "off", egress_.empty() ? "any" : egress_);
}

void GatewayHost::update_nat(const GatewayHostConfig& config) { install_nat(config); }

void GatewayHost::sync_routes(const std::vector<core::IpPrefix>& allowed_ips) {
    std::vector<core::IpPrefix> wanted;
    for (const auto& p : allowed_ips) {
        if (p.cidr == 0 || covered(p, networks_)) continue;
        if (std::find(wanted.begin(), wanted.end(), p) == wanted.end()) wanted.push_back(p);
    }
    Netlink nl;
    // Remove ours that are no longer wanted.
    for (auto it = state_.routes.begin(); it != state_.routes.end();) {
        if (std::find(wanted.begin(), wanted.end(), it->prefix) == wanted.end()) {
            nl.delete_route(it->prefix, state_.ifindex, it->table);
            logger_.info("Removed route {}", it->prefix.to_string());
            it = state_.routes.erase(it);
            record();
        } else {
            ++it;
        }
    }
    for (const auto& p : wanted) {
        const bool known = std::any_of(state_.routes.begin(), state_.routes.end(),
                                       [&](const StateRoute& r) { return r.prefix == p; });
        if (known) continue;
        state_.routes.push_back({p, kMainTable});
        record();
        if (nl.add_route(p, state_.ifindex)) {
            logger_.info("Added route {} dev {}", p.to_string(), state_.ifname);
        } else {
            // Someone else's route for this prefix: not ours to remove later.
            logger_.info("Route {} exists already; leaving it alone", p.to_string());
            state_.routes.pop_back();
            record();
        }
    }
}

CleanupReport GatewayHost::stop() {
    if (!started_) return {};
    started_ = false;
    auto report = undo_host_state(state_);
    remove_host_state(host_state_path(state_.ifname));
    for (const auto& d : report.done) logger_.info("Cleanup: {}", d);
    for (const auto& f : report.failed) logger_.error("Cleanup failed: {}", f);
    return report;
}

}  // namespace wgate::io
