// IP addresses and prefixes as plain values (no sockaddr, no OS headers).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wgate::core {

struct IpAddress {
    enum class Family : std::uint8_t { none = 0, v4 = 4, v6 = 6 };
    Family family = Family::none;
    // v4 uses bytes[0..3]; the rest stays zero so that comparison is plain.
    std::array<std::uint8_t, 16> bytes{};

    static IpAddress v4(const std::uint8_t* b4);
    static IpAddress v6(const std::uint8_t* b16);
    static std::optional<IpAddress> parse(std::string_view text);

    bool is_v4() const { return family == Family::v4; }
    bool is_v6() const { return family == Family::v6; }
    bool empty() const { return family == Family::none; }
    unsigned bit_length() const { return is_v4() ? 32 : is_v6() ? 128 : 0; }
    std::string to_string() const;

    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct IpPrefix {
    IpAddress address;  // host bits are zero (canonical form)
    std::uint8_t cidr = 0;

    // Clears host bits; cidr is clamped to the address length.
    static IpPrefix make(const IpAddress& address, unsigned cidr);
    // "10.0.0.0/24", "fd00::/64"; a bare address means a host prefix.
    static std::optional<IpPrefix> parse(std::string_view text);
    bool contains(const IpAddress& a) const;
    std::string to_string() const;

    friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace wgate::core
