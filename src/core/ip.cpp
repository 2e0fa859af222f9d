#include "wgate/core/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace wgate::core {
namespace {

// Only what may appear in a plain textual address. Filtering first keeps
// scope ids ("%eth0"), brackets, ports after a v4 address, whitespace and
// embedded NULs away from inet_pton, which would otherwise stop at a NUL.
bool is_address_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
           c == ':';
}

}  // namespace

IpAddress IpAddress::v4(const std::uint8_t* b4) {
    IpAddress a;
    a.family = Family::v4;
    std::memcpy(a.bytes.data(), b4, 4);
    return a;
}

IpAddress IpAddress::v6(const std::uint8_t* b16) {
    IpAddress a;
    a.family = Family::v6;
    std::memcpy(a.bytes.data(), b16, 16);
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // INET6_ADDRSTRLEN includes the terminating NUL.
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), is_address_char)) return std::nullopt;

    char buffer[INET6_ADDRSTRLEN];
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';

    IpAddress a;
    // A colon means IPv6 (including "::ffff:1.2.3.4", which stays IPv6 as in
    // WireGuard); inet_pton for AF_INET accepts only the four-part dotted quad.
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buffer, a.bytes.data()) != 1) return std::nullopt;
        a.family = Family::v4;
    } else {
        if (inet_pton(AF_INET6, buffer, a.bytes.data()) != 1) return std::nullopt;
        a.family = Family::v6;
    }
    return a;
}

std::string IpAddress::to_string() const {
    if (empty()) return {};
    char buffer[INET6_ADDRSTRLEN];
    const int af = is_v4() ? AF_INET : AF_INET6;
    if (inet_ntop(af, bytes.data(), buffer, sizeof buffer) == nullptr) return {};
    return buffer;
}

IpPrefix IpPrefix::make(const IpAddress& address, unsigned cidr) {
    IpPrefix p;
    p.address = address;
    p.cidr = static_cast<std::uint8_t>(std::min(cidr, address.bit_length()));
    // Clear every bit from position cidr on, over all 16 bytes, so that a v4
    // address with stray bytes past the fourth is normalised as well.
    for (unsigned i = 0; i < p.address.bytes.size(); ++i) {
        const unsigned first_bit = i * 8;
        if (first_bit >= p.cidr) {
            p.address.bytes[i] = 0;
        } else if (first_bit + 8 > p.cidr) {
            const unsigned kept = p.cidr - first_bit;  // 1..7
            p.address.bytes[i] &= static_cast<std::uint8_t>(0xFFu << (8 - kept));
        }
    }
    return p;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    const auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    if (slash == std::string_view::npos) return make(*address, address->bit_length());

    // Plain decimal, at most three digits (128 is the widest); no sign, no
    // spaces, no trailing junk, no second slash.
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    unsigned cidr = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        cidr = cidr * 10 + static_cast<unsigned>(c - '0');
    }
    if (cidr > address->bit_length()) return std::nullopt;
    return make(*address, cidr);
}

bool IpPrefix::contains(const IpAddress& a) const {
    if (a.empty() || a.family != address.family) return false;
    return make(a, cidr).address == address;
}

std::string IpPrefix::to_string() const {
    return address.to_string() + '/' + std::to_string(cidr);
}

}  // namespace wgate::core
