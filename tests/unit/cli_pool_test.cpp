// The client address pool: the next free address of each family.
#include "wgate/cli/address_pool.hpp"

#include <gtest/gtest.h>

#include "wgate/cli/error.hpp"

namespace wgate::cli {
namespace {

std::vector<InterfaceAddress> pools(std::initializer_list<const char*> list) {
    std::vector<InterfaceAddress> v;
    for (const char* s : list) v.push_back(*InterfaceAddress::parse(s));
    return v;
}

std::vector<core::IpPrefix> prefixes(std::initializer_list<const char*> list) {
    std::vector<core::IpPrefix> v;
    for (const char* s : list) v.push_back(*core::IpPrefix::parse(s));
    return v;
}

std::vector<std::string> texts(const std::vector<core::IpPrefix>& list) {
    std::vector<std::string> v;
    for (const auto& p : list) v.push_back(to_text(p));
    return v;
}

TEST(CliPool, ParsesInterfaceAddresses) {
    const auto a = InterfaceAddress::parse("10.8.0.1/24");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "10.8.0.1/24");
    EXPECT_EQ(to_text(a->network()), "10.8.0.0/24");
    EXPECT_EQ(InterfaceAddress::parse("fd42:8::1/64")->to_string(), "fd42:8::1/64");
    EXPECT_FALSE(InterfaceAddress::parse("10.8.0.1"));
    EXPECT_FALSE(InterfaceAddress::parse("10.8.0.1/33"));
    EXPECT_FALSE(InterfaceAddress::parse("10.8.0.1/x"));
    EXPECT_FALSE(InterfaceAddress::parse("10.8.0.1/"));
}

TEST(CliPool, FirstClientGetsTheLowestFreeAddressOfEachFamily) {
    const auto p = pools({"10.8.0.1/24", "fd42:8::1/64"});
    EXPECT_EQ(texts(allocate_addresses(p, {})), (std::vector<std::string>{"10.8.0.2/32", "fd42:8::2/128"}));
}

TEST(CliPool, SkipsEveryPeersAllowedIpsAndKeepsHostNumbersAligned) {
    const auto p = pools({"10.8.0.1/24", "fd42:8::1/64"});
    const auto used = prefixes({"10.8.0.2/32", "10.8.0.3/32", "fd42:8::2/128", "fd42:8::3/128", "10.8.0.8/30"});
    EXPECT_EQ(texts(allocate_addresses(p, used)), (std::vector<std::string>{"10.8.0.4/32", "fd42:8::4/128"}));
    // When the IPv4 number is taken in IPv6, the lowest free IPv6 address.
    const auto used2 = prefixes({"10.8.0.2/32", "fd42:8::3/128"});
    EXPECT_EQ(texts(allocate_addresses(p, used2)), (std::vector<std::string>{"10.8.0.3/32", "fd42:8::2/128"}));
}

TEST(CliPool, JumpsOverLargeUsedPrefixes) {
    const auto p = pools({"10.8.0.1/16", "fd42:8::1/64"});
    const auto used = prefixes({"10.8.0.0/17", "fd42:8::/65"});
    EXPECT_EQ(texts(allocate_addresses(p, used)),
              (std::vector<std::string>{"10.8.128.0/32", "fd42:8:0:0:8000::/128"}));
}

TEST(CliPool, GatewayNotInFirstPlace) {
    const auto p = pools({"10.8.0.2/24"});
    EXPECT_EQ(texts(allocate_addresses(p, {})), std::vector<std::string>{"10.8.0.1/32"});
    EXPECT_EQ(texts(allocate_addresses(p, prefixes({"10.8.0.1/32"}))), std::vector<std::string>{"10.8.0.3/32"});
}

TEST(CliPool, ExhaustedPoolSaysWhatToDo) {
    const auto p = pools({"10.8.0.1/30"});  // .1 gateway, .2 the only client, .3 broadcast
    EXPECT_EQ(texts(allocate_addresses(p, {})), std::vector<std::string>{"10.8.0.2/32"});
    try {
        allocate_addresses(p, prefixes({"10.8.0.2/32"}));
        FAIL() << "no error";
    } catch (const CliError& e) {
        EXPECT_EQ(e.exit_code(), kExitRuntime);
        const std::string m = e.what();
        EXPECT_NE(m.find("10.8.0.0/30 is exhausted"), std::string::npos) << m;
        EXPECT_NE(m.find("wgate peer remove"), std::string::npos) << m;
    }
    // A v6 pool that is full while v4 is not fails too: a client gets both or nothing.
    EXPECT_THROW(allocate_addresses(pools({"10.8.0.1/24", "fd42::1/128"}), {}), CliError);
    EXPECT_THROW(allocate_addresses(pools({"10.8.0.1/32"}), {}), CliError);
}

TEST(CliPool, SecondPoolOfAFamilyIsUsedWhenTheFirstIsFull) {
    const auto p = pools({"10.8.0.1/30", "10.9.0.1/24"});
    EXPECT_EQ(texts(allocate_addresses(p, prefixes({"10.8.0.2/32"}))), std::vector<std::string>{"10.9.0.2/32"});
}

TEST(CliPool, NoPoolExplainsPlainMode) {
    try {
        allocate_addresses({}, {});
        FAIL() << "no error";
    } catch (const CliError& e) {
        EXPECT_NE(std::string(e.what()).find("this interface has no address pool: start wgated with --config, or pass --ip"),
                  std::string::npos);
    }
}

TEST(CliPool, InsidePoolAndOverlaps) {
    const auto p = pools({"10.8.0.1/24", "fd42:8::1/64"});
    EXPECT_TRUE(inside_pool(p, *core::IpPrefix::parse("10.8.0.7/32")));
    EXPECT_TRUE(inside_pool(p, *core::IpPrefix::parse("fd42:8::7/128")));
    EXPECT_FALSE(inside_pool(p, *core::IpPrefix::parse("10.9.0.7/32")));
    EXPECT_FALSE(inside_pool(p, *core::IpPrefix::parse("10.8.0.0/16")));
    EXPECT_TRUE(overlaps(*core::IpPrefix::parse("10.8.0.0/24"), *core::IpPrefix::parse("10.8.0.5/32")));
    EXPECT_TRUE(overlaps(*core::IpPrefix::parse("10.8.0.5/32"), *core::IpPrefix::parse("10.8.0.0/24")));
    EXPECT_FALSE(overlaps(*core::IpPrefix::parse("10.8.0.0/25"), *core::IpPrefix::parse("10.8.0.128/25")));
    EXPECT_FALSE(overlaps(*core::IpPrefix::parse("0.0.0.0/0"), *core::IpPrefix::parse("::/0")));
}

}  // namespace
}  // namespace wgate::cli
