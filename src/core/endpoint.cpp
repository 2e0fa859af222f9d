#include "wgate/core/endpoint.hpp"

#include <charconv>
#include <cstring>

namespace wgate::core {

std::size_t Endpoint::source_bytes(std::uint8_t out[18]) const {
    const std::size_t n = address.is_v4() ? 4 : 16;
    std::memcpy(out, address.bytes.data(), n);
    out[n] = static_cast<std::uint8_t>(port >> 8);
    out[n + 1] = static_cast<std::uint8_t>(port);
    return n + 2;
}

std::string Endpoint::to_string() const {
    if (empty()) return "(none)";
    const std::string host = address.to_string();
    return (address.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon + 1 >= text.size()) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) return std::nullopt;
    const auto address = IpAddress::parse(host);
    if (!address || (address->is_v6() && !bracketed) || (address->is_v4() && bracketed)) return std::nullopt;
    Endpoint e;
    e.address = *address;
    e.port = static_cast<std::uint16_t>(port);
    return e;
}

}  // namespace wgate::core
