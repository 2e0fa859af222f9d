// The IP header check applied to every decrypted (and every outgoing) packet.
#include "wgate/core/inner_packet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace wgate::core {
namespace {

// An IPv4 packet of `total` bytes with an IHL of `ihl` words, 192.0.2.1 ->
// 198.51.100.7, in a buffer of `buffer` bytes (>= 20).
std::vector<std::uint8_t> ipv4(std::size_t total, unsigned ihl = 5, std::size_t buffer = 0) {
    std::vector<std::uint8_t> p(buffer ? buffer : total, 0);
    p[0] = static_cast<std::uint8_t>(0x40 | ihl);
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    p[8] = 64;  // TTL
    p[9] = 17;  // UDP
    const std::uint8_t src[] = {192, 0, 2, 1};
    const std::uint8_t dst[] = {198, 51, 100, 7};
    std::copy(src, src + 4, p.begin() + 12);
    std::copy(dst, dst + 4, p.begin() + 16);
    return p;
}

// An IPv6 packet with `payload` bytes after the 40-byte header, 2001:db8::1 ->
// 2001:db8:ffff::2, in a buffer of `buffer` bytes (>= 40).
std::vector<std::uint8_t> ipv6(std::size_t payload, std::size_t buffer = 0) {
    std::vector<std::uint8_t> p(buffer ? buffer : 40 + payload, 0);
    p[0] = 0x60;
    p[4] = static_cast<std::uint8_t>(payload >> 8);
    p[5] = static_cast<std::uint8_t>(payload);
    p[6] = 58;  // ICMPv6
    p[7] = 64;
    p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;
    p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[28] = 0xff, p[29] = 0xff, p[39] = 2;
    return p;
}

IpAddress ip(std::string_view text) { return IpAddress::parse(text).value_or(IpAddress{}); }

TEST(InnerPacket, Ipv4) {
    const auto p = ipv4(84);
    const auto h = parse_inner_header(p);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->source, ip("192.0.2.1"));
    EXPECT_EQ(h->destination, ip("198.51.100.7"));
    EXPECT_EQ(h->length, 84u);
}

TEST(InnerPacket, Ipv4MinimalAndWithOptions) {
    const auto bare = parse_inner_header(ipv4(20));
    ASSERT_TRUE(bare.has_value());
    EXPECT_EQ(bare->length, 20u);

    // IHL 6: one word of options; the addresses stay at 12 and 16.
    auto p = ipv4(64, 6);
    p[20] = 0x94, p[21] = 0x04;  // router alert
    const auto h = parse_inner_header(p);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->source, ip("192.0.2.1"));
    EXPECT_EQ(h->destination, ip("198.51.100.7"));
    EXPECT_EQ(h->length, 64u);

    // The largest IHL (60-byte header) with nothing after it.
    EXPECT_TRUE(parse_inner_header(ipv4(60, 15)).has_value());
}

TEST(InnerPacket, Ipv4PaddingExcluded) {
    // Transport padding after the packet: the header's length is what counts.
    const auto h = parse_inner_header(ipv4(37, 5, 48));
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->length, 37u);
}

TEST(InnerPacket, Ipv6) {
    const auto p = ipv6(24);
    const auto h = parse_inner_header(p);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->source, ip("2001:db8::1"));
    EXPECT_EQ(h->destination, ip("2001:db8:ffff::2"));
    EXPECT_EQ(h->length, 64u);

    const auto empty_payload = parse_inner_header(ipv6(0));
    ASSERT_TRUE(empty_payload.has_value());
    EXPECT_EQ(empty_payload->length, 40u);
}

TEST(InnerPacket, Ipv6PaddingExcluded) {
    const auto h = parse_inner_header(ipv6(10, 64));
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->length, 50u);
}

TEST(InnerPacket, RejectsEmptyAndOtherVersions) {
    EXPECT_FALSE(parse_inner_header({}).has_value());
    for (unsigned version : {0u, 1u, 5u, 7u, 15u}) {
        auto p = ipv4(40);
        p[0] = static_cast<std::uint8_t>(version << 4 | 5);
        EXPECT_FALSE(parse_inner_header(p).has_value()) << version;
    }
    const std::uint8_t lone[] = {0x45};
    EXPECT_FALSE(parse_inner_header(lone).has_value());
}

TEST(InnerPacket, RejectsBadIpv4) {
    // Shorter than a minimal header, whatever the length field says.
    for (std::size_t n = 1; n < 20; ++n) {
        auto p = ipv4(20);
        p.resize(n);
        EXPECT_FALSE(parse_inner_header(p).has_value()) << n;
    }
    // IHL below 5.
    for (unsigned ihl = 0; ihl < 5; ++ihl) EXPECT_FALSE(parse_inner_header(ipv4(40, ihl)).has_value()) << ihl;
    // Total length shorter than the header.
    EXPECT_FALSE(parse_inner_header(ipv4(19, 5, 40)).has_value());
    EXPECT_FALSE(parse_inner_header(ipv4(0, 5, 40)).has_value());
    EXPECT_FALSE(parse_inner_header(ipv4(23, 6, 40)).has_value());
    EXPECT_TRUE(parse_inner_header(ipv4(24, 6, 40)).has_value());
    // Header length past the buffer.
    EXPECT_FALSE(parse_inner_header(ipv4(60, 15, 40)).has_value());
    // Total length past the buffer.
    EXPECT_FALSE(parse_inner_header(ipv4(41, 5, 40)).has_value());
    EXPECT_FALSE(parse_inner_header(ipv4(0xffff, 5, 40)).has_value());
}

TEST(InnerPacket, RejectsBadIpv6) {
    for (std::size_t n = 1; n < 40; ++n) {
        auto p = ipv6(0);
        p.resize(n);
        EXPECT_FALSE(parse_inner_header(p).has_value()) << n;
    }
    // Payload length one past the buffer, and far past it.
    EXPECT_FALSE(parse_inner_header(ipv6(25, 64)).has_value());
    EXPECT_TRUE(parse_inner_header(ipv6(24, 64)).has_value());
    EXPECT_FALSE(parse_inner_header(ipv6(0xffff, 64)).has_value());
}

}  // namespace
}  // namespace wgate::core
