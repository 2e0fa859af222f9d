// Synchronous rtnetlink (NETLINK_ROUTE) requests through libmnl: addresses,
// MTU, link state, routes, route lookups. Used by gateway mode to configure
// the tunnel interface and by `wgate doctor` for read-only queries.
//
// Every request waits for the kernel's answer; failures throw std::system_error
// whose message says what was attempted and, when the kernel gave one, its
// extended-ACK text ("netlink: adding route 10.1.0.0/16 dev 5: Nexthop device
// is not up: Network is down").
//
// The socket belongs to the network namespace that was current when the
// Netlink object was made.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "wgate/core/ip.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace wgate::io {

// The routing-protocol number stamped on the routes we add (rtm_protocol), so
// that routes are recognisably ours (`ip route show proto 87`) and a delete
// can never remove someone else's route with the same prefix. Unassigned in
// linux/rtnetlink.h and iproute2's rt_protos.
inline constexpr std::uint8_t kRouteProtocol = 87;
inline constexpr std::uint32_t kMainTable = 254;  // RT_TABLE_MAIN

// An address as configured on an interface: host bits kept (10.0.0.1/24).
struct InterfaceAddress {
    core::IpAddress address;
    unsigned cidr = 0;
    int ifindex = 0;
    std::uint32_t flags = 0;  // IFA_F_* (IFA_F_NODAD, IFA_F_TENTATIVE, ...)

    // The subnet the address covers (10.0.0.0/24).
    core::IpPrefix subnet() const { return core::IpPrefix::make(address, cidr); }
};

struct RouteInfo {
    core::IpPrefix destination;
    int ifindex = 0;            // 0 for multipath or blackhole routes
    core::IpAddress gateway;    // empty: on-link
    core::IpAddress source;     // preferred source (RTA_PREFSRC); may be empty
    std::uint32_t table = kMainTable;
    std::uint8_t protocol = 0;  // RTPROT_*, kRouteProtocol for ours
    std::uint8_t type = 0;      // RTN_UNICAST, RTN_LOCAL, ...
    std::uint8_t scope = 0;
    std::uint32_t metric = 0;
};

// The answer of a route lookup (`ip route get`).
struct RouteLookup {
    int ifindex = 0;
    core::IpAddress gateway;  // empty: destination is on-link
    core::IpAddress source;   // the source address the kernel would pick
};

struct LinkInfo {
    int ifindex = 0;
    std::string name;
    unsigned mtu = 0;
    bool up = false;        // IFF_UP (administrative)
    bool running = false;   // IFF_RUNNING (carrier)
    std::uint32_t flags = 0;
};

class Netlink {
public:
    // Opens and binds the socket. Opening needs no privilege; changes without
    // CAP_NET_ADMIN fail later with EPERM.
    Netlink();
    ~Netlink();
    Netlink(Netlink&& other) noexcept;
    Netlink& operator=(Netlink&& other) noexcept;
    Netlink(const Netlink&) = delete;
    Netlink& operator=(const Netlink&) = delete;

    // --- links ---------------------------------------------------------
    // 0 / empty / nullopt when there is no such interface.
    int ifindex_of(const std::string& name);
    std::string name_of(int ifindex);
    std::optional<LinkInfo> link(int ifindex);
    std::vector<LinkInfo> list_links();
    void set_mtu(int ifindex, unsigned mtu);
    void set_up(int ifindex, bool up);
    // Returns false when the interface was already gone.
    bool delete_link(int ifindex);

    // --- addresses -----------------------------------------------------
    // `address` keeps its host bits (10.0.0.1, cidr 24). IPv6 addresses get
    // IFA_F_NODAD so they are usable at once (no duplicate detection on a
    // tunnel). Returns false when the address was already there (EEXIST).
    bool add_address(int ifindex, const core::IpAddress& address, unsigned cidr);
    // Returns false when the address was not there.
    bool delete_address(int ifindex, const core::IpAddress& address, unsigned cidr);
    // Addresses of one interface; ifindex 0 lists every interface's.
    std::vector<InterfaceAddress> list_addresses(int ifindex);

    // --- routes --------------------------------------------------------
    // A device route (no gateway, scope link) with our protocol number.
    // Returns false when a route for that prefix (same metric, same table)
    // already existed, whoever owns it: the caller should then not treat it as
    // its own.
    bool add_route(const core::IpPrefix& prefix, int ifindex, std::uint32_t table = kMainTable,
                   std::uint8_t protocol = kRouteProtocol);
    // Deletes only a route that matches prefix, device, table and protocol, so
    // a route someone else added for the same prefix survives. Returns false
    // when there was no such route. ifindex 0 matches any device.
    bool delete_route(const core::IpPrefix& prefix, int ifindex, std::uint32_t table = kMainTable,
                      std::uint8_t protocol = kRouteProtocol);
    // Routes in every table (main, local, others) whose output device is
    // ifindex; ifindex 0 lists all. Both families.
    std::vector<RouteInfo> list_routes(int ifindex);
    // Which interface, gateway and source the kernel would use to reach
    // `destination` (RTM_GETROUTE). Throws (ENETUNREACH, ...) when unreachable.
    RouteLookup route_get(const core::IpAddress& destination);

private:
    using Callback = int (*)(const nlmsghdr*, void*);
    // Sends the request in buf_ and reads until ACK / DONE, calling `cb` for each data message.
    // Returns 0 or the positive errno the kernel answered; `kernel_message` gets the extended ACK text.
    int transact(nlmsghdr* request, Callback cb, void* data, std::string& kernel_message);
    // As transact, but throws with "netlink: <what>" unless the error is one of `tolerated`.
    int request(nlmsghdr* request, const std::string& what, std::initializer_list<int> tolerated = {},
                Callback cb = nullptr, void* data = nullptr);
    nlmsghdr* new_message(std::uint16_t type, std::uint16_t flags);

    mnl_socket* socket_ = nullptr;
    std::uint32_t portid_ = 0;
    std::uint32_t seq_ = 0;
    std::vector<char> send_buf_;
    std::vector<char> recv_buf_;
};

// Which of `allowed_ips` need a route on the tunnel: those not already inside
// the subnet of one of the interface's `addresses` (the kernel's prefix route
// covers them). Duplicates are dropped, order kept. Default routes (/0) are
// left out on purpose: on a gateway they would steal the host's own default
// route; the caller decides (and should say) what to do with them.
std::vector<core::IpPrefix> uncovered_prefixes(const std::vector<InterfaceAddress>& addresses,
                                               const std::vector<core::IpPrefix>& allowed_ips);

}  // namespace wgate::io
