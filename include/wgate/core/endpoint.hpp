// Where a peer is: its UDP address and port, plus the local address it last
// reached us on, so replies leave from that address ("sticky source").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wgate/core/ip.hpp"

namespace wgate::core {

struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;
    IpAddress local;                 // empty: let the OS choose
    std::uint32_t local_ifindex = 0; // v6 link-local / v4 pktinfo interface

    bool empty() const { return address.empty(); }
    // The remote side only: a peer roams when this changes.
    bool same_remote(const Endpoint& o) const { return address == o.address && port == o.port; }
    void clear_local() { local = {}; local_ifindex = 0; }

    // Stable bytes identifying the remote address and port (for cookies).
    std::size_t source_bytes(std::uint8_t out[18]) const;
    // "192.0.2.1:51820", "[2001:db8::1]:51820"
    std::string to_string() const;
    // Numeric host:port only (IPv6 in brackets); no name resolution here.
    static std::optional<Endpoint> parse(std::string_view text);
};

}  // namespace wgate::core
