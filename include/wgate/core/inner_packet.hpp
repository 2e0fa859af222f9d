// The IP header of a tunnelled packet, checked before we route or accept it.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "wgate/core/ip.hpp"

namespace wgate::core {

struct InnerHeader {
    IpAddress source;
    IpAddress destination;
    std::size_t length = 0;  // from the header; <= the buffer, padding excluded
};

// A valid IPv4 header (version, IHL >= 5, total length within the buffer and
// covering the header) or IPv6 header (payload length within the buffer).
std::optional<InnerHeader> parse_inner_header(std::span<const std::uint8_t> packet);

}  // namespace wgate::core
