#include "wgate/core/inner_packet.hpp"

namespace wgate::core {

std::optional<InnerHeader> parse_inner_header(std::span<const std::uint8_t> p) {
    if (p.empty()) return std::nullopt;
    const unsigned version = p[0] >> 4;
    InnerHeader h;
    if (version == 4) {
        if (p.size() < 20) return std::nullopt;
        const std::size_t header_length = std::size_t(p[0] & 0x0f) * 4;
        const std::size_t total = std::size_t(p[2]) << 8 | p[3];
        if (header_length < 20 || total < header_length || total > p.size()) return std::nullopt;
        h.source = IpAddress::v4(p.data() + 12);
        h.destination = IpAddress::v4(p.data() + 16);
        h.length = total;
        return h;
    }
    if (version == 6) {
        if (p.size() < 40) return std::nullopt;
        const std::size_t total = 40 + (std::size_t(p[4]) << 8 | p[5]);
        if (total > p.size()) return std::nullopt;
        h.source = IpAddress::v6(p.data() + 8);
        h.destination = IpAddress::v6(p.data() + 24);
        h.length = total;
        return h;
    }
    return std::nullopt;
}

}  // namespace wgate::core
