// Gateway mode's changes to the host: the tunnel's addresses, MTU and link
// state, routes for peers' networks, IPv4/IPv6 forwarding and the nftables
// table with forward and masquerade rules. Every change is recorded in the
// state file (/run/wgate/IFNAME.state) before it is made, so stop() - or the
// next start after a kill -9 - undoes exactly what we did and nothing else.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wgate/core/ip.hpp"
#include "wgate/io/host_state.hpp"

namespace spdlog {
class logger;
}

namespace wgate::io {

struct GatewayHostConfig {
    std::string ifname;
    int ifindex = 0;
    unsigned mtu = 1420;
    std::vector<StateAddress> addresses;  // host bits kept
    std::vector<core::IpPrefix> lan_routes;
    bool masquerade = true;
    std::string egress_interface;  // empty: the interface of the route to the first LAN route
};

class GatewayHost {
public:
    // Undoes what a dead predecessor left for this interface name. Throws
    // std::runtime_error when a live wgated still owns it.
    static CleanupReport clean_leftovers(const std::string& ifname);

    explicit GatewayHost(spdlog::logger& logger);
    ~GatewayHost();
    GatewayHost(const GatewayHost&) = delete;
    GatewayHost& operator=(const GatewayHost&) = delete;

    // Addresses, MTU, link up, forwarding, nftables. Throws on failure; what
    // was done so far is recorded, so stop() undoes it.
    void start(const GatewayHostConfig& config);
    // Makes the routes we own match: one per allowed IP that no interface
    // address covers (default routes excepted: they would take over the host).
    void sync_routes(const std::vector<core::IpPrefix>& allowed_ips);
    // Reinstalls the nftables table (SIGHUP with changed LAN settings).
    void update_nat(const GatewayHostConfig& config);
    // Undoes everything and removes the state file. Idempotent.
    CleanupReport stop();

    const std::string& egress_interface() const { return egress_; }
    bool forwarding_changed() const { return !state_.sysctls.empty(); }

private:
    void record();
    void install_nat(const GatewayHostConfig& config);

    spdlog::logger& logger_;
    HostState state_;
    std::string egress_;
    std::vector<core::IpPrefix> networks_;  // of the interface addresses
    bool started_ = false;
};

}  // namespace wgate::io
