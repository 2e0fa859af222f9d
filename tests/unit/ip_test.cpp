#include "wgate/core/ip.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wgate::core {
namespace {

IpAddress must_parse(std::string_view text) {
    const auto a = IpAddress::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddress{});
}

TEST(IpAddressTest, ParsesV4) {
    const IpAddress a = must_parse("192.168.1.20");
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a.bit_length(), 32u);
    EXPECT_EQ(a.bytes[0], 192);
    EXPECT_EQ(a.bytes[1], 168);
    EXPECT_EQ(a.bytes[2], 1);
    EXPECT_EQ(a.bytes[3], 20);
    for (std::size_t i = 4; i < 16; ++i) EXPECT_EQ(a.bytes[i], 0) << i;
    EXPECT_EQ(a.to_string(), "192.168.1.20");

    EXPECT_EQ(must_parse("0.0.0.0").to_string(), "0.0.0.0");
    EXPECT_EQ(must_parse("255.255.255.255").to_string(), "255.255.255.255");
}

TEST(IpAddressTest, ParsesV6) {
    const IpAddress a = must_parse("fd00:1:2:3:4:5:6:7");
    EXPECT_TRUE(a.is_v6());
    EXPECT_EQ(a.bit_length(), 128u);
    EXPECT_EQ(a.bytes[0], 0xfd);
    EXPECT_EQ(a.bytes[1], 0x00);
    EXPECT_EQ(a.bytes[3], 0x01);
    EXPECT_EQ(a.bytes[15], 0x07);
    EXPECT_EQ(a.to_string(), "fd00:1:2:3:4:5:6:7");

    // Compressed forms, upper case, and canonical (compressed, lower case) output.
    EXPECT_EQ(must_parse("::").to_string(), "::");
    EXPECT_EQ(must_parse("::1").to_string(), "::1");
    EXPECT_EQ(must_parse("FE80::ABCD").to_string(), "fe80::abcd");
    EXPECT_EQ(must_parse("2001:0db8:0000:0000:0000:0000:0000:0001").to_string(), "2001:db8::1");
    EXPECT_EQ(must_parse("2001:db8::"), must_parse("2001:db8:0:0:0:0:0:0"));
    EXPECT_EQ(must_parse("::0001").to_string(), "::1");
    EXPECT_EQ(must_parse("1:2:3:4:5:6:7::").to_string(), "1:2:3:4:5:6:7:0");
}

TEST(IpAddressTest, V4MappedStaysV6) {
    const IpAddress a = must_parse("::ffff:10.1.2.3");
    EXPECT_TRUE(a.is_v6());
    EXPECT_EQ(a.bytes[10], 0xff);
    EXPECT_EQ(a.bytes[11], 0xff);
    EXPECT_EQ(a.bytes[12], 10);
    EXPECT_EQ(a.bytes[15], 3);
    EXPECT_EQ(a.to_string(), "::ffff:10.1.2.3");
    EXPECT_NE(a, must_parse("10.1.2.3"));
}

TEST(IpAddressTest, FactoriesMatchParse) {
    const std::uint8_t b4[4] = {10, 0, 0, 1};
    EXPECT_EQ(IpAddress::v4(b4), must_parse("10.0.0.1"));
    std::uint8_t b16[16] = {};
    b16[0] = 0xfd;
    b16[15] = 0x01;
    EXPECT_EQ(IpAddress::v6(b16), must_parse("fd00::1"));
}

TEST(IpAddressTest, RejectsAnythingButAPlainAddress) {
    const char* bad[] = {
        "",
        " ",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.2.3.-1",
        "1.2.3.4 ",
        " 1.2.3.4",
        "1.2.3.4\n",
        "1.2.3.4:51820",
        "1.2.3.4/24",
        "0x1.2.3.4",
        "1.2.3.a",
        "010.0.0.1",  // leading zeros could mean octal elsewhere; refuse the ambiguity
        "1.2.3.04",
        "::00001",
        "localhost",
        "[::1]",
        "[::1]:51820",
        "fe80::1%eth0",
        "fe80::1%1",
        ":::",
        "1::2::3",
        "12345::",
        "fd00:1:2:3:4:5:6:7:8",
        "::ffff:1.2.3",
        "::ffff:256.1.1.1",
        "g::1",
        "+1.2.3.4",
    };
    for (const char* text : bad) EXPECT_FALSE(IpAddress::parse(text).has_value()) << '"' << text << '"';

    // An embedded NUL must not truncate the text into something valid.
    EXPECT_FALSE(IpAddress::parse(std::string_view("1.2.3.4\0junk", 12)).has_value());
    // Too long to be any address.
    EXPECT_FALSE(IpAddress::parse(std::string(100, '1')).has_value());
}

TEST(IpAddressTest, EmptyAddress) {
    const IpAddress a;
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(a.bit_length(), 0u);
    EXPECT_EQ(a.to_string(), "");
}

TEST(IpPrefixTest, ParsesWithCidr) {
    const auto p = IpPrefix::parse("10.1.0.0/16");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->address, must_parse("10.1.0.0"));
    EXPECT_EQ(p->cidr, 16);
    EXPECT_EQ(p->to_string(), "10.1.0.0/16");

    const auto q = IpPrefix::parse("fd00:aa::/64");
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->address, must_parse("fd00:aa::"));
    EXPECT_EQ(q->cidr, 64);
    EXPECT_EQ(q->to_string(), "fd00:aa::/64");

    EXPECT_EQ(IpPrefix::parse("0.0.0.0/0")->to_string(), "0.0.0.0/0");
    EXPECT_EQ(IpPrefix::parse("::/0")->to_string(), "::/0");
    EXPECT_EQ(IpPrefix::parse("1.2.3.4/32")->to_string(), "1.2.3.4/32");
    EXPECT_EQ(IpPrefix::parse("::1/128")->to_string(), "::1/128");
    EXPECT_EQ(IpPrefix::parse("::ffff:10.0.0.0/104")->to_string(), "::ffff:10.0.0.0/104");
}

TEST(IpPrefixTest, BareAddressIsHostPrefix) {
    EXPECT_EQ(IpPrefix::parse("10.0.0.7")->to_string(), "10.0.0.7/32");
    EXPECT_EQ(IpPrefix::parse("fd00::7")->to_string(), "fd00::7/128");
}

TEST(IpPrefixTest, ParseClearsHostBits) {
    EXPECT_EQ(IpPrefix::parse("10.1.2.3/8")->to_string(), "10.0.0.0/8");
    EXPECT_EQ(IpPrefix::parse("192.168.77.200/20")->to_string(), "192.168.64.0/20");
    EXPECT_EQ(IpPrefix::parse("1.2.3.4/0")->to_string(), "0.0.0.0/0");
    EXPECT_EQ(IpPrefix::parse("255.255.255.255/31")->to_string(), "255.255.255.254/31");
    EXPECT_EQ(IpPrefix::parse("fd00:1:2:3:4:5:6:7/48")->to_string(), "fd00:1:2::/48");
    EXPECT_EQ(IpPrefix::parse("fd00:ffff::/17")->to_string(), "fd00:8000::/17");
    EXPECT_EQ(IpPrefix::parse("ffff::1/1")->to_string(), "8000::/1");
    EXPECT_EQ(IpPrefix::parse("::ffff/127")->to_string(), "::fffe/127");
}

TEST(IpPrefixTest, RejectsBadCidrAndJunk) {
    const char* bad[] = {
        "10.0.0.0/33",
        "10.0.0.0/128",
        "fd00::/129",
        "fd00::/999",
        "10.0.0.0/1000",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0.0/-8",
        "10.0.0.0/ 8",
        "10.0.0.0/8 ",
        "10.0.0.0/8x",
        "10.0.0.0/0x8",
        "10.0.0.0/8/8",
        "10.0.0.0//8",
        "/8",
        "",
        "10.0.0/8",
        "10.0.0.0 /8",
        "[fd00::]/64",
        "fe80::%eth0/64",
        "fd00::/64\n",
    };
    for (const char* text : bad) EXPECT_FALSE(IpPrefix::parse(text).has_value()) << '"' << text << '"';
}

TEST(IpPrefixTest, MakeClearsHostBitsAndClampsCidr) {
    const IpPrefix p = IpPrefix::make(must_parse("10.9.8.7"), 12);
    EXPECT_EQ(p.to_string(), "10.0.0.0/12");
    EXPECT_EQ(IpPrefix::make(must_parse("10.9.8.7"), 40).to_string(), "10.9.8.7/32");
    EXPECT_EQ(IpPrefix::make(must_parse("fd00::1"), 300).to_string(), "fd00::1/128");
    EXPECT_EQ(IpPrefix::make(must_parse("fd00::1"), 0).to_string(), "::/0");

    // Canonical form makes equal prefixes compare equal.
    EXPECT_EQ(IpPrefix::make(must_parse("10.1.2.3"), 16), IpPrefix::make(must_parse("10.1.200.100"), 16));
    EXPECT_NE(IpPrefix::make(must_parse("10.1.2.3"), 16), IpPrefix::make(must_parse("10.1.2.3"), 17));
}

TEST(IpPrefixTest, Contains) {
    const IpPrefix p = *IpPrefix::parse("10.1.0.0/16");
    EXPECT_TRUE(p.contains(must_parse("10.1.0.0")));
    EXPECT_TRUE(p.contains(must_parse("10.1.255.255")));
    EXPECT_FALSE(p.contains(must_parse("10.2.0.0")));
    EXPECT_FALSE(p.contains(must_parse("10.0.255.255")));
    EXPECT_FALSE(p.contains(must_parse("::ffff:10.1.0.1")));  // families never mix
    EXPECT_FALSE(p.contains(IpAddress{}));

    const IpPrefix all4 = *IpPrefix::parse("0.0.0.0/0");
    EXPECT_TRUE(all4.contains(must_parse("255.255.255.255")));
    EXPECT_FALSE(all4.contains(must_parse("::")));

    const IpPrefix q = *IpPrefix::parse("fd00::/8");
    EXPECT_TRUE(q.contains(must_parse("fdff:ffff::1")));
    EXPECT_FALSE(q.contains(must_parse("fe00::")));
    EXPECT_FALSE(q.contains(must_parse("253.0.0.0")));

    const IpPrefix host = *IpPrefix::parse("fd00::1/128");
    EXPECT_TRUE(host.contains(must_parse("fd00::1")));
    EXPECT_FALSE(host.contains(must_parse("fd00::2")));

    const IpPrefix odd = *IpPrefix::parse("192.168.0.0/23");
    EXPECT_TRUE(odd.contains(must_parse("192.168.1.255")));
    EXPECT_FALSE(odd.contains(must_parse("192.168.2.0")));
}

TEST(IpPrefixTest, OrderingIsUsableAsMapKey) {
    const IpPrefix a = *IpPrefix::parse("10.0.0.0/8");
    const IpPrefix b = *IpPrefix::parse("10.0.0.0/16");
    EXPECT_TRUE(a < b || b < a);
    EXPECT_EQ(a, *IpPrefix::parse("10.255.0.0/8"));
}

}  // namespace
}  // namespace wgate::core
