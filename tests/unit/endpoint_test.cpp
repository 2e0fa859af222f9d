// Endpoints: numeric host:port parsing as `wg` writes it, printing, roaming
// comparison and the source bytes the cookie MAC is computed over.
#include "wgate/core/endpoint.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace wgate::core {
namespace {

Endpoint must_parse(std::string_view text) {
    const auto e = Endpoint::parse(text);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(Endpoint{});
}

TEST(Endpoint, ParsesIpv4) {
    const Endpoint e = must_parse("192.0.2.1:51820");
    EXPECT_TRUE(e.address.is_v4());
    EXPECT_EQ(e.address, IpAddress::parse("192.0.2.1"));
    EXPECT_EQ(e.port, 51820);
    EXPECT_TRUE(e.local.empty());
    EXPECT_EQ(e.local_ifindex, 0u);
    EXPECT_FALSE(e.empty());
}

TEST(Endpoint, ParsesBracketedIpv6) {
    const Endpoint e = must_parse("[2001:db8::1]:51820");
    EXPECT_TRUE(e.address.is_v6());
    EXPECT_EQ(e.address, IpAddress::parse("2001:db8::1"));
    EXPECT_EQ(e.port, 51820);
}

TEST(Endpoint, PortRange) {
    EXPECT_EQ(must_parse("192.0.2.1:65535").port, 65535);
    EXPECT_EQ(must_parse("192.0.2.1:1").port, 1);
    EXPECT_EQ(must_parse("[::1]:443").port, 443);
    EXPECT_FALSE(Endpoint::parse("192.0.2.1:65536"));
    EXPECT_FALSE(Endpoint::parse("[2001:db8::1]:65536"));
    EXPECT_FALSE(Endpoint::parse("192.0.2.1:99999999999999999999"));
}

TEST(Endpoint, Rejects) {
    for (std::string_view text : {
             "2001:db8::1:51820",      // unbracketed IPv6: the port is ambiguous
             "::1:51820",
             "[192.0.2.1]:1",          // brackets are for IPv6 only
             "192.0.2.1",              // missing port
             "192.0.2.1:",
             "[2001:db8::1]",
             "[2001:db8::1]:",
             ":51820",
             "[]:51820",
             "",
             ":",
             "junk",
             "junk:51820",
             "localhost:51820",        // no name resolution here
             "vpn.example.com:51820",
             "192.0.2.1:-1",
             "192.0.2.1:+1",
             "192.0.2.1: 1",
             "192.0.2.1:1 ",
             " 192.0.2.1:1",
             "192.0.2.1:0x10",
             "192.0.2.1:51820x",
             "192.0.2.256:1",
             "[2001:db8::1:1",
             "2001:db8::1]:1",
             "[[2001:db8::1]]:1",
             "[fe80::1%eth0]:1",
         }) {
        EXPECT_FALSE(Endpoint::parse(text).has_value()) << "'" << text << "'";
    }
}

TEST(Endpoint, ToStringRoundTrip) {
    for (std::string_view text : {"192.0.2.1:51820", "[2001:db8::1]:51820", "0.0.0.0:1", "[::1]:65535",
                                  "[::ffff:192.0.2.1]:7"}) {
        const Endpoint e = must_parse(text);
        EXPECT_EQ(e.to_string(), text);
        const auto again = Endpoint::parse(e.to_string());
        ASSERT_TRUE(again.has_value()) << text;
        EXPECT_TRUE(again->same_remote(e));
    }
    // The canonical form of IPv6, whatever was typed.
    EXPECT_EQ(must_parse("[2001:DB8:0:0:0:0:0:1]:80").to_string(), "[2001:db8::1]:80");
    EXPECT_EQ(Endpoint{}.to_string(), "(none)");
    EXPECT_TRUE(Endpoint{}.empty());
}

TEST(Endpoint, SameRemoteIgnoresLocalSide) {
    Endpoint a = must_parse("192.0.2.1:51820");
    Endpoint b = a;
    b.local = *IpAddress::parse("10.0.0.1");
    b.local_ifindex = 3;
    EXPECT_TRUE(a.same_remote(b));
    EXPECT_TRUE(b.same_remote(a));
    b.clear_local();
    EXPECT_TRUE(b.local.empty());
    EXPECT_EQ(b.local_ifindex, 0u);

    EXPECT_FALSE(a.same_remote(must_parse("192.0.2.1:51821")));
    EXPECT_FALSE(a.same_remote(must_parse("192.0.2.2:51820")));
    EXPECT_FALSE(a.same_remote(must_parse("[::ffff:192.0.2.1]:51820")));
}

TEST(Endpoint, SourceBytesIpv4) {
    std::array<std::uint8_t, 18> out;
    out.fill(0xee);
    const std::size_t n = must_parse("192.0.2.1:51820").source_bytes(out.data());
    ASSERT_EQ(n, 6u);
    // Address, then the port big-endian (51820 = 0xca6c).
    const std::array<std::uint8_t, 6> expected{192, 0, 2, 1, 0xca, 0x6c};
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin()));
    EXPECT_EQ(out[6], 0xee);  // nothing written past the returned size
}

TEST(Endpoint, SourceBytesIpv6) {
    std::array<std::uint8_t, 18> out{};
    const std::size_t n = must_parse("[2001:db8::1]:258").source_bytes(out.data());
    ASSERT_EQ(n, 18u);
    const std::array<std::uint8_t, 18> expected{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x02};
    EXPECT_EQ(out, expected);
}

TEST(Endpoint, SourceBytesDistinguishEndpoints) {
    std::array<std::uint8_t, 18> a{}, b{};
    const std::size_t na = must_parse("192.0.2.1:1").source_bytes(a.data());
    const std::size_t nb = must_parse("192.0.2.1:256").source_bytes(b.data());
    ASSERT_EQ(na, nb);
    EXPECT_NE(a, b);
    // The local side does not enter.
    Endpoint with_local = must_parse("192.0.2.1:1");
    with_local.local = *IpAddress::parse("10.0.0.1");
    std::array<std::uint8_t, 18> c{};
    ASSERT_EQ(with_local.source_bytes(c.data()), na);
    EXPECT_EQ(a, c);
}

}  // namespace
}  // namespace wgate::core
