// The client address pool: the networks of the gateway's tunnel addresses
// (10.8.0.1/24 -> 10.8.0.0/24). A new peer gets the lowest address of each
// family that is neither the gateway's nor inside any peer's allowed IPs,
// enabled or disabled.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wgate/core/ip.hpp"

namespace wgate::cli {

// A tunnel address with its prefix length and host bits kept ("10.8.0.1/24").
struct InterfaceAddress {
    core::IpAddress address;
    unsigned cidr = 0;

    core::IpPrefix network() const { return core::IpPrefix::make(address, cidr); }
    std::string to_string() const;
    // "10.8.0.1/24", "fd42:8::1/64"; the prefix length is required.
    static std::optional<InterfaceAddress> parse(std::string_view text);
    friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

// A host prefix (/32 or /128) for each family the pools have (IPv4 first).
// `used` holds every peer's allowed IPs; the gateway's own addresses, the
// network address and (IPv4) the broadcast address are never handed out.
// The IPv6 address takes the IPv4 one's host number when that is free
// (10.8.0.5 and fd42::5). Throws CliError (runtime) naming the exhausted pool
// and what to do; or when there is no pool at all.
std::vector<core::IpPrefix> allocate_addresses(const std::vector<InterfaceAddress>& pools,
                                               const std::vector<core::IpPrefix>& used);

// Whether `prefix` lies inside one of the pools' networks.
bool inside_pool(const std::vector<InterfaceAddress>& pools, const core::IpPrefix& prefix);

// Whether two prefixes overlap (one contains the other).
bool overlaps(const core::IpPrefix& a, const core::IpPrefix& b);

// The text of an address or prefix as the UAPI prints it (RFC 5952 for IPv6).
std::string to_text(const core::IpAddress& address);
std::string to_text(const core::IpPrefix& prefix);

// "a, b, c" of addresses or prefixes, as wg-quick files and `wg show` list them.
template <class T>
std::string join(const std::vector<T>& items) {
    std::string s;
    for (const T& item : items) {
        if (!s.empty()) s += ", ";
        s += to_text(item);
    }
    return s;
}

}  // namespace wgate::cli
