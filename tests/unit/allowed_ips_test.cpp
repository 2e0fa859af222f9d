#include "wgate/core/allowed_ips.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace wgate::core {
namespace {

// Distinct Peer* values for the table, which never dereferences them: the
// addresses of slots in a static array (Peer itself stays incomplete here).
struct alignas(16) PeerSlot {
    unsigned char bytes[16];
};
PeerSlot peer_storage[100'000];

Peer* peer(std::size_t i) {
    return reinterpret_cast<Peer*>(&peer_storage[i]);
}

IpAddress addr(std::string_view text) {
    const auto a = IpAddress::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddress{});
}

IpPrefix pfx(std::string_view text) {
    const auto p = IpPrefix::parse(text);
    EXPECT_TRUE(p.has_value()) << text;
    return p.value_or(IpPrefix{});
}

std::vector<std::string> strings(const std::vector<IpPrefix>& prefixes) {
    std::vector<std::string> out;
    for (const auto& p : prefixes) out.push_back(p.to_string());
    return out;
}

using Strings = std::vector<std::string>;

TEST(AllowedIpsTest, EmptyTableMatchesNothing) {
    AllowedIps table;
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), nullptr);
    EXPECT_EQ(table.lookup(addr("::1")), nullptr);
    EXPECT_EQ(table.lookup(IpAddress{}), nullptr);
    EXPECT_TRUE(table.prefixes_of(peer(0)).empty());
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/8"), peer(0)));
    table.remove_by_peer(peer(0));
    EXPECT_EQ(table.size(), 0u);
}

TEST(AllowedIpsTest, NestedV4MostSpecificWins) {
    AllowedIps table;
    table.insert(pfx("10.0.0.0/8"), peer(1));
    table.insert(pfx("10.1.0.0/16"), peer(2));
    table.insert(pfx("10.1.1.0/24"), peer(3));
    EXPECT_EQ(table.size(), 3u);

    EXPECT_EQ(table.lookup(addr("10.1.1.7")), peer(3));
    EXPECT_EQ(table.lookup(addr("10.1.1.0")), peer(3));
    EXPECT_EQ(table.lookup(addr("10.1.1.255")), peer(3));
    EXPECT_EQ(table.lookup(addr("10.1.2.7")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.1.0.0")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.2.1.7")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.255.255.255")), peer(1));
    EXPECT_EQ(table.lookup(addr("11.1.1.7")), nullptr);
    EXPECT_EQ(table.lookup(addr("9.255.255.255")), nullptr);

    // Removing the middle prefix falls back to the /8 but keeps the /24.
    EXPECT_TRUE(table.remove(pfx("10.1.0.0/16"), peer(2)));
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(table.lookup(addr("10.1.2.7")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.1.7")), peer(3));

    // And removing the outer one leaves only the /24.
    EXPECT_TRUE(table.remove(pfx("10.0.0.0/8"), peer(1)));
    EXPECT_EQ(table.lookup(addr("10.1.2.7")), nullptr);
    EXPECT_EQ(table.lookup(addr("10.1.1.7")), peer(3));
    EXPECT_EQ(table.size(), 1u);
}

TEST(AllowedIpsTest, InsertionOrderDoesNotMatterForNesting) {
    // Most specific first, so the shorter prefixes are inserted above existing nodes.
    AllowedIps table;
    table.insert(pfx("10.1.1.0/24"), peer(3));
    table.insert(pfx("10.1.0.0/16"), peer(2));
    table.insert(pfx("10.0.0.0/8"), peer(1));
    table.insert(pfx("0.0.0.0/0"), peer(0));
    EXPECT_EQ(table.lookup(addr("10.1.1.7")), peer(3));
    EXPECT_EQ(table.lookup(addr("10.1.2.7")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.2.1.7")), peer(1));
    EXPECT_EQ(table.lookup(addr("11.0.0.1")), peer(0));
    EXPECT_TRUE(table.remove(pfx("10.1.1.0/24"), peer(3)));
    EXPECT_EQ(table.lookup(addr("10.1.1.7")), peer(2));
}

TEST(AllowedIpsTest, DefaultRoutesPerFamily) {
    AllowedIps table;
    table.insert(pfx("0.0.0.0/0"), peer(1));
    EXPECT_EQ(table.lookup(addr("0.0.0.0")), peer(1));
    EXPECT_EQ(table.lookup(addr("255.255.255.255")), peer(1));
    EXPECT_EQ(table.lookup(addr("128.0.0.1")), peer(1));
    // An IPv4 default route says nothing about IPv6, not even v4-mapped.
    EXPECT_EQ(table.lookup(addr("::")), nullptr);
    EXPECT_EQ(table.lookup(addr("::ffff:10.0.0.1")), nullptr);

    table.insert(pfx("::/0"), peer(2));
    EXPECT_EQ(table.lookup(addr("::")), peer(2));
    EXPECT_EQ(table.lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), peer(2));
    EXPECT_EQ(table.lookup(addr("::ffff:10.0.0.1")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(1));

    table.insert(pfx("192.168.0.0/16"), peer(3));
    EXPECT_EQ(table.lookup(addr("192.168.4.4")), peer(3));
    EXPECT_EQ(table.lookup(addr("192.169.4.4")), peer(1));
    EXPECT_EQ(table.size(), 3u);

    EXPECT_TRUE(table.remove(pfx("0.0.0.0/0"), peer(1)));
    EXPECT_EQ(table.lookup(addr("192.169.4.4")), nullptr);
    EXPECT_EQ(table.lookup(addr("192.168.4.4")), peer(3));
    EXPECT_EQ(table.lookup(addr("::1")), peer(2));
}

TEST(AllowedIpsTest, FamiliesNeverMix) {
    AllowedIps table;
    // Same leading bytes in both families.
    table.insert(pfx("10.0.0.0/8"), peer(1));
    table.insert(pfx("a00::/8"), peer(2));
    table.insert(pfx("::ffff:10.0.0.0/104"), peer(3));
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(1));
    EXPECT_EQ(table.lookup(addr("a00::1")), peer(2));
    EXPECT_EQ(table.lookup(addr("::ffff:10.0.0.1")), peer(3));
    EXPECT_EQ(table.lookup(addr("::ffff:11.0.0.1")), nullptr);
    EXPECT_TRUE(table.remove(pfx("10.0.0.0/8"), peer(1)));
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), nullptr);
    EXPECT_EQ(table.lookup(addr("::ffff:10.0.0.1")), peer(3));
    // A v6 prefix is not removed by its v4 look-alike.
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/8"), peer(2)));
    EXPECT_EQ(table.lookup(addr("a00::1")), peer(2));
}

TEST(AllowedIpsTest, HostRoutesAndAdjacentPrefixes) {
    AllowedIps table;
    table.insert(pfx("10.0.0.1/32"), peer(1));
    table.insert(pfx("10.0.0.0/32"), peer(2));
    table.insert(pfx("10.0.0.2/31"), peer(3));
    table.insert(pfx("10.0.0.4/30"), peer(4));
    EXPECT_EQ(table.lookup(addr("10.0.0.0")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.0.0.2")), peer(3));
    EXPECT_EQ(table.lookup(addr("10.0.0.3")), peer(3));
    EXPECT_EQ(table.lookup(addr("10.0.0.4")), peer(4));
    EXPECT_EQ(table.lookup(addr("10.0.0.7")), peer(4));
    EXPECT_EQ(table.lookup(addr("10.0.0.8")), nullptr);
    EXPECT_EQ(table.lookup(addr("10.0.0.255")), nullptr);

    table.insert(pfx("fd00::1/128"), peer(5));
    table.insert(pfx("fd00::/128"), peer(6));
    table.insert(pfx("fd00::2/127"), peer(7));
    EXPECT_EQ(table.lookup(addr("fd00::1")), peer(5));
    EXPECT_EQ(table.lookup(addr("fd00::")), peer(6));
    EXPECT_EQ(table.lookup(addr("fd00::2")), peer(7));
    EXPECT_EQ(table.lookup(addr("fd00::3")), peer(7));
    EXPECT_EQ(table.lookup(addr("fd00::4")), nullptr);
    EXPECT_EQ(table.lookup(addr("fd00::1:0:0:1")), nullptr);

    EXPECT_TRUE(table.remove(pfx("10.0.0.0/32"), peer(2)));
    EXPECT_EQ(table.lookup(addr("10.0.0.0")), nullptr);
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(1));
    EXPECT_EQ(table.size(), 6u);
}

TEST(AllowedIpsTest, DivergingPrefixesAndTheirFork) {
    AllowedIps table;
    // These diverge at bit 23, so the trie needs an unbound node for /23.
    table.insert(pfx("192.168.0.0/24"), peer(1));
    table.insert(pfx("192.168.1.0/24"), peer(2));
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(table.lookup(addr("192.168.0.9")), peer(1));
    EXPECT_EQ(table.lookup(addr("192.168.1.9")), peer(2));
    EXPECT_EQ(table.lookup(addr("192.168.2.9")), nullptr);
    EXPECT_EQ(table.lookup(addr("192.169.0.9")), nullptr);

    // The fork is not a route: removing it fails for any peer.
    EXPECT_FALSE(table.remove(pfx("192.168.0.0/23"), peer(1)));
    EXPECT_FALSE(table.remove(pfx("192.168.0.0/23"), nullptr));
    EXPECT_EQ(table.size(), 2u);

    // Binding the fork's own prefix turns it into a route.
    table.insert(pfx("192.168.0.0/23"), peer(3));
    EXPECT_EQ(table.size(), 3u);
    EXPECT_EQ(table.lookup(addr("192.168.0.9")), peer(1));
    EXPECT_EQ(table.lookup(addr("192.168.2.9")), nullptr);
    EXPECT_TRUE(table.remove(pfx("192.168.0.0/24"), peer(1)));
    EXPECT_EQ(table.lookup(addr("192.168.0.9")), peer(3));
    EXPECT_EQ(table.lookup(addr("192.168.1.9")), peer(2));

    // Unbinding it again, then removing the last child, leaves nothing behind.
    EXPECT_TRUE(table.remove(pfx("192.168.0.0/23"), peer(3)));
    EXPECT_EQ(table.lookup(addr("192.168.0.9")), nullptr);
    EXPECT_EQ(table.lookup(addr("192.168.1.9")), peer(2));
    EXPECT_TRUE(table.remove(pfx("192.168.1.0/24"), peer(2)));
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.lookup(addr("192.168.1.9")), nullptr);

    // Divergence at the very first bit, in both families.
    table.insert(pfx("0.0.0.0/1"), peer(4));
    table.insert(pfx("128.0.0.0/1"), peer(5));
    table.insert(pfx("::/1"), peer(6));
    table.insert(pfx("8000::/1"), peer(7));
    EXPECT_EQ(table.lookup(addr("127.255.255.255")), peer(4));
    EXPECT_EQ(table.lookup(addr("128.0.0.0")), peer(5));
    EXPECT_EQ(table.lookup(addr("7fff::")), peer(6));
    EXPECT_EQ(table.lookup(addr("8000::")), peer(7));
}

TEST(AllowedIpsTest, NestedV6AcrossTheWordBoundary) {
    AllowedIps table;
    table.insert(pfx("fd00::/8"), peer(1));
    table.insert(pfx("fd00:1::/32"), peer(2));
    table.insert(pfx("fd00:1:2:3::/64"), peer(3));
    table.insert(pfx("fd00:1:2:3:4::/80"), peer(4));
    table.insert(pfx("fd00:1:2:3:4:5:6:7/128"), peer(5));
    table.insert(pfx("fd00:1:2:3:8000::/65"), peer(6));

    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:4:5:6:7")), peer(5));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:4:5:6:8")), peer(4));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:5::")), peer(3));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:8000::1")), peer(6));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:ffff::1")), peer(6));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:4::1")), peer(2));
    EXPECT_EQ(table.lookup(addr("fd00:2::1")), peer(1));
    EXPECT_EQ(table.lookup(addr("fe00::1")), nullptr);

    EXPECT_TRUE(table.remove(pfx("fd00:1:2:3::/64"), peer(3)));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:5::")), peer(2));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:4:5:6:7")), peer(5));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:4:5:6:8")), peer(4));
    EXPECT_TRUE(table.remove(pfx("fd00:1:2:3:4::/80"), peer(4)));
    EXPECT_EQ(table.lookup(addr("fd00:1:2:3:4:5:6:8")), peer(2));
    EXPECT_EQ(table.size(), 4u);
}

TEST(AllowedIpsTest, ReinsertRebindsToNewPeer) {
    AllowedIps table;
    table.insert(pfx("10.0.0.0/24"), peer(1));
    table.insert(pfx("10.0.0.0/24"), peer(2));
    EXPECT_EQ(table.size(), 1u);
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(2));
    EXPECT_TRUE(table.prefixes_of(peer(1)).empty());
    EXPECT_EQ(strings(table.prefixes_of(peer(2))), Strings{"10.0.0.0/24"});

    // The old owner can no longer remove it.
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/24"), peer(1)));
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(2));

    // Inserting the same binding again changes nothing.
    table.insert(pfx("10.0.0.0/24"), peer(2));
    EXPECT_EQ(table.size(), 1u);

    // Host bits are ignored: this is the same prefix.
    table.insert(IpPrefix{addr("10.0.0.77"), 24}, peer(3));
    EXPECT_EQ(table.size(), 1u);
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(3));
    EXPECT_EQ(strings(table.prefixes_of(peer(3))), Strings{"10.0.0.0/24"});
    EXPECT_TRUE(table.remove(IpPrefix{addr("10.0.0.200"), 24}, peer(3)));
    EXPECT_EQ(table.size(), 0u);
}

TEST(AllowedIpsTest, RemoveWithWrongPeerIsNoop) {
    AllowedIps table;
    table.insert(pfx("10.0.0.0/8"), peer(1));
    table.insert(pfx("fd00::/8"), peer(1));
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/8"), peer(2)));
    EXPECT_FALSE(table.remove(pfx("fd00::/8"), peer(2)));
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/8"), nullptr));
    // Near misses: other length, other address, not present at all.
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/9"), peer(1)));
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/7"), peer(1)));
    EXPECT_FALSE(table.remove(pfx("11.0.0.0/8"), peer(1)));
    EXPECT_FALSE(table.remove(pfx("10.0.0.1/32"), peer(1)));
    EXPECT_FALSE(table.remove(IpPrefix{}, peer(1)));
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(table.lookup(addr("10.9.9.9")), peer(1));
    EXPECT_EQ(table.lookup(addr("fd00::9")), peer(1));
    EXPECT_EQ(strings(table.prefixes_of(peer(1))), (Strings{"10.0.0.0/8", "fd00::/8"}));

    // Removing twice: only the first one succeeds.
    EXPECT_TRUE(table.remove(pfx("10.0.0.0/8"), peer(1)));
    EXPECT_FALSE(table.remove(pfx("10.0.0.0/8"), peer(1)));
    EXPECT_EQ(table.size(), 1u);
}

TEST(AllowedIpsTest, NullPeerAndEmptyPrefixAreIgnored) {
    AllowedIps table;
    table.insert(pfx("10.0.0.0/8"), nullptr);
    table.insert(IpPrefix{}, peer(1));
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), nullptr);
    EXPECT_TRUE(table.prefixes_of(peer(1)).empty());
    EXPECT_TRUE(table.prefixes_of(nullptr).empty());
}

TEST(AllowedIpsTest, RemoveByPeerLeavesOthersIntact) {
    AllowedIps table;
    table.insert(pfx("10.0.0.0/8"), peer(1));
    table.insert(pfx("10.1.0.0/16"), peer(2));
    table.insert(pfx("10.1.1.0/24"), peer(1));
    table.insert(pfx("10.1.2.0/24"), peer(1));
    table.insert(pfx("fd00::/16"), peer(1));
    table.insert(pfx("fd00:1::/32"), peer(2));
    table.insert(pfx("0.0.0.0/0"), peer(3));
    EXPECT_EQ(table.size(), 7u);

    table.remove_by_peer(peer(1));
    EXPECT_EQ(table.size(), 3u);
    EXPECT_TRUE(table.prefixes_of(peer(1)).empty());
    EXPECT_EQ(strings(table.prefixes_of(peer(2))), (Strings{"10.1.0.0/16", "fd00:1::/32"}));
    EXPECT_EQ(strings(table.prefixes_of(peer(3))), Strings{"0.0.0.0/0"});
    EXPECT_EQ(table.lookup(addr("10.1.1.1")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.1.2.1")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.2.0.1")), peer(3));
    EXPECT_EQ(table.lookup(addr("fd00:1::1")), peer(2));
    EXPECT_EQ(table.lookup(addr("fd00:2::1")), nullptr);

    // Again for the same peer, and for one that never had anything.
    table.remove_by_peer(peer(1));
    table.remove_by_peer(peer(9));
    EXPECT_EQ(table.size(), 3u);

    // The peer can come back afterwards.
    table.insert(pfx("10.1.1.0/24"), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.1.1")), peer(1));
    EXPECT_EQ(table.size(), 4u);

    table.remove_by_peer(peer(2));
    table.remove_by_peer(peer(3));
    table.remove_by_peer(peer(1));
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.lookup(addr("10.1.1.1")), nullptr);
    EXPECT_EQ(table.lookup(addr("fd00:1::1")), nullptr);
}

TEST(AllowedIpsTest, PrefixesOfKeepsBindingOrder) {
    AllowedIps table;
    table.insert(pfx("192.168.0.0/16"), peer(1));
    table.insert(pfx("fd00::/64"), peer(1));
    table.insert(pfx("10.0.0.0/8"), peer(1));
    table.insert(pfx("10.0.0.0/24"), peer(2));
    table.insert(pfx("::/0"), peer(1));
    EXPECT_EQ(strings(table.prefixes_of(peer(1))),
              (Strings{"192.168.0.0/16", "fd00::/64", "10.0.0.0/8", "::/0"}));
    EXPECT_EQ(strings(table.prefixes_of(peer(2))), Strings{"10.0.0.0/24"});

    // Rebinding moves the prefix to the end of the new owner's list; removals
    // from the head, middle and tail keep the rest in order.
    table.insert(pfx("fd00::/64"), peer(2));
    EXPECT_EQ(strings(table.prefixes_of(peer(1))), (Strings{"192.168.0.0/16", "10.0.0.0/8", "::/0"}));
    EXPECT_EQ(strings(table.prefixes_of(peer(2))), (Strings{"10.0.0.0/24", "fd00::/64"}));
    table.insert(pfx("172.16.0.0/12"), peer(1));
    EXPECT_TRUE(table.remove(pfx("192.168.0.0/16"), peer(1)));
    EXPECT_EQ(strings(table.prefixes_of(peer(1))), (Strings{"10.0.0.0/8", "::/0", "172.16.0.0/12"}));
    EXPECT_TRUE(table.remove(pfx("172.16.0.0/12"), peer(1)));
    EXPECT_EQ(strings(table.prefixes_of(peer(1))), (Strings{"10.0.0.0/8", "::/0"}));
    table.insert(pfx("172.16.0.0/12"), peer(1));
    EXPECT_TRUE(table.remove(pfx("::/0"), peer(1)));
    EXPECT_EQ(strings(table.prefixes_of(peer(1))), (Strings{"10.0.0.0/8", "172.16.0.0/12"}));
    EXPECT_TRUE(table.remove(pfx("10.0.0.0/8"), peer(1)));
    EXPECT_TRUE(table.remove(pfx("172.16.0.0/12"), peer(1)));
    EXPECT_TRUE(table.prefixes_of(peer(1)).empty());
    table.insert(pfx("172.16.0.0/12"), peer(1));
    EXPECT_EQ(strings(table.prefixes_of(peer(1))), Strings{"172.16.0.0/12"});
    EXPECT_EQ(table.size(), 3u);
}

TEST(AllowedIpsTest, ClearEmptiesEverything) {
    AllowedIps table;
    table.insert(pfx("10.0.0.0/8"), peer(1));
    table.insert(pfx("fd00::/8"), peer(2));
    table.clear();
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), nullptr);
    EXPECT_EQ(table.lookup(addr("fd00::1")), nullptr);
    EXPECT_TRUE(table.prefixes_of(peer(1)).empty());
    // Still usable afterwards.
    table.insert(pfx("10.0.0.0/8"), peer(3));
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), peer(3));
    EXPECT_EQ(table.size(), 1u);
}

// ---- Shapes that stress the compiled index -----------------------------------

TEST(AllowedIpsTest, OnlyDefaultRoutes) {
    AllowedIps table;
    table.insert(pfx("0.0.0.0/0"), peer(1));
    for (const char* a : {"0.0.0.0", "0.0.0.1", "127.255.255.255", "128.0.0.0", "255.255.255.254", "255.255.255.255"}) {
        EXPECT_EQ(table.lookup(addr(a)), peer(1)) << a;
    }
    EXPECT_EQ(table.lookup(addr("::")), nullptr);
    table.insert(pfx("::/0"), peer(2));
    for (const char* a : {"::", "::1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::",
                          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
        EXPECT_EQ(table.lookup(addr(a)), peer(2)) << a;
    }
    EXPECT_TRUE(table.remove(pfx("0.0.0.0/0"), peer(1)));
    EXPECT_EQ(table.lookup(addr("0.0.0.0")), nullptr);
    EXPECT_EQ(table.lookup(addr("255.255.255.255")), nullptr);
    EXPECT_EQ(table.lookup(addr("::1")), peer(2));
    table.remove_by_peer(peer(2));
    EXPECT_EQ(table.lookup(addr("::1")), nullptr);
    EXPECT_EQ(table.lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), nullptr);
}

TEST(AllowedIpsTest, HostRouteInsideItsEnclosingPrefix) {
    AllowedIps table;
    table.insert(pfx("10.1.2.0/24"), peer(1));
    table.insert(pfx("10.1.2.77/32"), peer(2));
    table.insert(pfx("10.1.2.0/32"), peer(3));    // first address of the /24
    table.insert(pfx("10.1.2.255/32"), peer(4));  // last address of the /24
    EXPECT_EQ(table.lookup(addr("10.1.1.255")), nullptr);
    EXPECT_EQ(table.lookup(addr("10.1.2.0")), peer(3));
    EXPECT_EQ(table.lookup(addr("10.1.2.1")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.2.76")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.2.77")), peer(2));
    EXPECT_EQ(table.lookup(addr("10.1.2.78")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.2.254")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.2.255")), peer(4));
    EXPECT_EQ(table.lookup(addr("10.1.3.0")), nullptr);

    // The same host route bound to the /24's own peer: one interval.
    table.insert(pfx("10.1.2.77/32"), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.2.77")), peer(1));
    EXPECT_TRUE(table.remove(pfx("10.1.2.0/24"), peer(1)));
    EXPECT_EQ(table.lookup(addr("10.1.2.76")), nullptr);
    EXPECT_EQ(table.lookup(addr("10.1.2.77")), peer(1));
    EXPECT_EQ(table.lookup(addr("10.1.2.0")), peer(3));

    table.insert(pfx("fd00::/120"), peer(5));
    table.insert(pfx("fd00::77/128"), peer(6));
    EXPECT_EQ(table.lookup(addr("fd00::76")), peer(5));
    EXPECT_EQ(table.lookup(addr("fd00::77")), peer(6));
    EXPECT_EQ(table.lookup(addr("fd00::78")), peer(5));
    EXPECT_EQ(table.lookup(addr("fd00::ff")), peer(5));
    EXPECT_EQ(table.lookup(addr("fd00::100")), nullptr);
    EXPECT_EQ(table.lookup(addr("fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), nullptr);
}

TEST(AllowedIpsTest, PrefixesAtTheTopOfTheAddressSpace) {
    AllowedIps table;
    table.insert(pfx("255.255.255.255/32"), peer(1));
    table.insert(pfx("255.255.255.0/24"), peer(2));
    table.insert(pfx("128.0.0.0/1"), peer(3));
    EXPECT_EQ(table.lookup(addr("255.255.255.255")), peer(1));
    EXPECT_EQ(table.lookup(addr("255.255.255.254")), peer(2));
    EXPECT_EQ(table.lookup(addr("255.255.254.255")), peer(3));
    EXPECT_EQ(table.lookup(addr("128.0.0.0")), peer(3));
    EXPECT_EQ(table.lookup(addr("127.255.255.255")), nullptr);
    EXPECT_EQ(table.lookup(addr("0.0.0.0")), nullptr);
    EXPECT_TRUE(table.remove(pfx("255.255.255.255/32"), peer(1)));
    EXPECT_EQ(table.lookup(addr("255.255.255.255")), peer(2));

    table.insert(pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), peer(4));
    table.insert(pfx("ffff::/16"), peer(5));
    EXPECT_EQ(table.lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), peer(4));
    EXPECT_EQ(table.lookup(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")), peer(5));
    EXPECT_EQ(table.lookup(addr("ffff::")), peer(5));
    EXPECT_EQ(table.lookup(addr("fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), nullptr);
    EXPECT_EQ(table.lookup(addr("::")), nullptr);
}

TEST(AllowedIpsTest, DenseHostRoutesAcrossBucketBoundaries) {
    // A pool of consecutive /32s straddling several /16s (10.8.255.0 up to
    // 10.10.17.111), then prefixes far from it so that it is no longer the
    // only cluster: each address of the pool and around it, after each change.
    constexpr std::uint32_t first = 0x0A08FF00u;
    constexpr std::uint32_t count = 70'000;
    auto v4 = [](std::uint32_t v) {
        const std::uint8_t b[4] = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                                   static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
        return IpAddress::v4(b);
    };
    AllowedIps table;
    for (std::uint32_t i = 0; i < count; ++i) table.insert(IpPrefix::make(v4(first + i), 32), peer(i % 1000));

    std::set<std::uint32_t> removed;
    bool sites = false;
    auto expected = [&](std::uint32_t a) -> Peer* {
        if (a >= first && a < first + count && removed.count(a - first) == 0) return peer((a - first) % 1000);
        if (sites && (a >> 16) == 0x0A0A) return peer(2000);  // 10.10.0.0/16
        if (sites && (a >> 8) == 0xC0A801) return peer(2001);  // 192.168.1.0/24
        return nullptr;
    };
    auto check = [&](const char* phase) {
        SCOPED_TRACE(phase);
        std::size_t mismatches = 0;
        for (std::uint32_t a = first - 1000; a < first + count + 1000; ++a) {
            if (table.lookup(v4(a)) != expected(a) && ++mismatches <= 5) ADD_FAILURE() << v4(a).to_string();
        }
        for (std::uint32_t a : {0u, 0xC0A80100u, 0xC0A801FFu, 0xC0A80200u, 0xFFFFFFFFu}) {
            EXPECT_EQ(table.lookup(v4(a)), expected(a)) << v4(a).to_string();
        }
        EXPECT_EQ(mismatches, 0u);
    };
    check("pool only");

    table.insert(pfx("10.10.0.0/16"), peer(2000));
    table.insert(pfx("192.168.1.0/24"), peer(2001));
    sites = true;
    check("pool and sites");

    for (std::uint32_t i = 0; i < count; i += 997) {
        EXPECT_TRUE(table.remove(IpPrefix::make(v4(first + i), 32), peer(i % 1000)));
        removed.insert(i);
    }
    check("every 997th host removed");

    table.remove_by_peer(peer(7));
    for (std::uint32_t i = 7; i < count; i += 1000) removed.insert(i);
    check("peer 7 removed");
}

// ---- Randomised cross-check against a brute-force model ----------------------

// Matching written independently of the table (and of IpPrefix::contains).
bool model_matches(const IpPrefix& p, const IpAddress& a) {
    if (p.address.family != a.family) return false;
    const unsigned whole = p.cidr / 8;
    for (unsigned i = 0; i < whole; ++i) {
        if (p.address.bytes[i] != a.bytes[i]) return false;
    }
    const unsigned rest = p.cidr % 8;
    if (rest == 0) return true;
    const std::uint8_t mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
    return (p.address.bytes[whole] & mask) == (a.bytes[whole] & mask);
}

Peer* model_lookup(const std::vector<std::pair<IpPrefix, Peer*>>& model, const IpAddress& a) {
    Peer* best = nullptr;
    int best_cidr = -1;
    for (const auto& [p, owner] : model) {
        if (p.cidr > best_cidr && model_matches(p, a)) {
            best = owner;
            best_cidr = p.cidr;
        }
    }
    return best;
}

class RandomNets {
public:
    explicit RandomNets(std::uint32_t seed) : rng_(seed) {}

    // Addresses clustered around a few bases, so prefixes nest and collide.
    IpAddress address(bool v6) {
        IpAddress a;
        a.family = v6 ? IpAddress::Family::v6 : IpAddress::Family::v4;
        const unsigned len = v6 ? 16 : 4;
        for (unsigned i = 0; i < len; ++i) a.bytes[i] = static_cast<std::uint8_t>(rng_());
        const unsigned cluster = pick(4);
        const std::uint8_t base4[] = {10, 1, 2, 3};
        const std::uint8_t base6[] = {0xfd, 0x00, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7};
        const std::uint8_t* base = v6 ? base6 : base4;
        // cluster 0: anywhere; 1..3: share the first len/4, len/2, 3*len/4 bytes.
        const unsigned fixed = cluster * len / 4;
        for (unsigned i = 0; i < fixed; ++i) a.bytes[i] = base[i];
        return a;
    }

    IpPrefix prefix(bool v6) {
        const unsigned bits = v6 ? 128 : 32;
        // Mostly long prefixes, some short ones including /0.
        const unsigned cidr = pick(8) == 0 ? pick(bits / 4 + 1) : pick(bits + 1);
        return IpPrefix::make(address(v6), cidr);
    }

    // Any address inside p.
    IpAddress inside(const IpPrefix& p) {
        IpAddress a = address(p.address.is_v6());
        for (unsigned bit = 0; bit < p.cidr; ++bit) set_bit(a, bit, get_bit(p.address, bit));
        return a;
    }

    // The highest address of p, and the one right after it (if p is not at the top).
    static IpAddress last(const IpPrefix& p) {
        IpAddress a = p.address;
        for (unsigned bit = p.cidr; bit < a.bit_length(); ++bit) set_bit(a, bit, 1);
        return a;
    }
    static IpAddress before_first(const IpPrefix& p) {
        IpAddress a = p.address;
        for (int i = static_cast<int>(a.bit_length() / 8) - 1; i >= 0; --i) {
            if (a.bytes[i]-- != 0) break;
        }
        return a;
    }
    static IpAddress after_last(const IpPrefix& p) {
        IpAddress a = last(p);
        for (int i = static_cast<int>(a.bit_length() / 8) - 1; i >= 0; --i) {
            if (++a.bytes[i] != 0) break;
        }
        return a;
    }

    unsigned pick(unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng_); }
    bool coin() { return pick(2) == 1; }

private:
    static unsigned get_bit(const IpAddress& a, unsigned bit) { return (a.bytes[bit / 8] >> (7 - bit % 8)) & 1; }
    static void set_bit(IpAddress& a, unsigned bit, unsigned value) {
        const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
        a.bytes[bit / 8] = static_cast<std::uint8_t>(value ? a.bytes[bit / 8] | mask : a.bytes[bit / 8] & ~mask);
    }

    std::mt19937 rng_;
};

void expect_same_as_model(const AllowedIps& table, const std::map<IpPrefix, Peer*>& model,
                          const std::vector<IpPrefix>& ever_inserted, RandomNets& nets, std::size_t peer_count,
                          const char* phase) {
    SCOPED_TRACE(phase);
    ASSERT_EQ(table.size(), model.size());

    // prefixes_of: same set per peer as the model.
    std::map<const Peer*, std::set<IpPrefix>> by_peer;
    for (const auto& [p, owner] : model) by_peer[owner].insert(p);
    for (std::size_t i = 0; i < peer_count; ++i) {
        const auto listed = table.prefixes_of(peer(i));
        const std::set<IpPrefix> got(listed.begin(), listed.end());
        EXPECT_EQ(got.size(), listed.size()) << "duplicates for peer " << i;
        EXPECT_EQ(got, by_peer[peer(i)]) << "peer " << i;
    }

    const std::vector<std::pair<IpPrefix, Peer*>> flat(model.begin(), model.end());
    std::vector<IpAddress> probes;
    for (const auto& p : ever_inserted) {
        probes.push_back(p.address);
        probes.push_back(nets.inside(p));
        probes.push_back(RandomNets::last(p));
        probes.push_back(RandomNets::after_last(p));
    }
    for (int i = 0; i < 4000; ++i) probes.push_back(nets.address(nets.coin()));

    std::size_t mismatches = 0;
    std::size_t hits = 0;
    for (const auto& a : probes) {
        Peer* expected = model_lookup(flat, a);
        Peer* got = table.lookup(a);
        if (expected != nullptr) ++hits;
        if (got != expected && ++mismatches <= 10) {
            ADD_FAILURE() << "lookup " << a.to_string() << " got peer index "
                          << (got ? reinterpret_cast<PeerSlot*>(got) - peer_storage : -1) << ", expected "
                          << (expected ? reinterpret_cast<PeerSlot*>(expected) - peer_storage : -1);
        }
    }
    EXPECT_EQ(mismatches, 0u);
    // The probes must actually exercise matches, not only misses.
    if (!model.empty()) {
        EXPECT_GT(hits, probes.size() / 4);
    }
}

TEST(AllowedIpsTest, RandomizedCrossCheckAgainstLinearSearch) {
    constexpr std::size_t peer_count = 37;
    RandomNets nets(20240611);
    AllowedIps table;
    std::map<IpPrefix, Peer*> model;
    std::vector<IpPrefix> ever_inserted;

    auto random_existing = [&]() {
        auto it = model.begin();
        std::advance(it, nets.pick(static_cast<unsigned>(model.size())));
        return it;
    };

    for (int i = 0; i < 3000; ++i) {
        const IpPrefix p = nets.prefix(nets.coin());
        Peer* owner = peer(nets.pick(peer_count));
        table.insert(p, owner);
        model[p] = owner;
        ever_inserted.push_back(p);
    }
    ASSERT_GT(model.size(), 1500u);  // short prefixes collide (rebinds), most others are distinct
    expect_same_as_model(table, model, ever_inserted, nets, peer_count, "after inserts");

    // Removals: with the right peer, with a wrong peer, and of absent prefixes.
    for (int i = 0; i < 800; ++i) {
        const auto it = random_existing();
        const IpPrefix p = it->first;
        Peer* owner = it->second;
        if (nets.pick(3) == 0) {
            Peer* other = peer((nets.pick(peer_count - 1) + 1 + (reinterpret_cast<PeerSlot*>(owner) - peer_storage)) %
                               peer_count);
            ASSERT_NE(other, owner);
            EXPECT_FALSE(table.remove(p, other));
        } else {
            EXPECT_TRUE(table.remove(p, owner));
            model.erase(it);
        }
    }
    for (int i = 0; i < 500; ++i) {
        const IpPrefix p = nets.prefix(nets.coin());
        Peer* who = peer(nets.pick(peer_count));
        const auto it = model.find(p);
        const bool expected = it != model.end() && it->second == who;
        EXPECT_EQ(table.remove(p, who), expected) << p.to_string();
        if (expected) model.erase(it);
    }
    expect_same_as_model(table, model, ever_inserted, nets, peer_count, "after removals");

    // Rebinds and fresh inserts, then whole peers dropped.
    for (int i = 0; i < 600; ++i) {
        const IpPrefix p = nets.coin() ? random_existing()->first : nets.prefix(nets.coin());
        Peer* owner = peer(nets.pick(peer_count));
        table.insert(p, owner);
        model[p] = owner;
        ever_inserted.push_back(p);
    }
    for (std::size_t gone : {3u, 17u, 30u}) {
        table.remove_by_peer(peer(gone));
        std::erase_if(model, [&](const auto& entry) { return entry.second == peer(gone); });
    }
    expect_same_as_model(table, model, ever_inserted, nets, peer_count, "after rebinds and remove_by_peer");

    // Empty it completely, one way or the other, and check nothing lingers.
    for (std::size_t i = 0; i < peer_count; ++i) {
        if (i % 2 == 0) {
            table.remove_by_peer(peer(i));
        } else {
            for (const auto& p : table.prefixes_of(peer(i))) EXPECT_TRUE(table.remove(p, peer(i)));
        }
    }
    model.clear();
    expect_same_as_model(table, model, ever_inserted, nets, peer_count, "after emptying");
}

TEST(AllowedIpsTest, InterleavedChangesAndLookupsMatchLinearSearch) {
    // Every kind of change, each followed by lookups: mostly a few (served
    // from the trie while the index is stale, once the table is big enough),
    // sometimes a burst that outlasts that and goes to the rebuilt index.
    constexpr std::size_t peer_count = 23;
    RandomNets nets(99);
    AllowedIps table;
    std::map<IpPrefix, Peer*> model;
    std::vector<IpPrefix> ever_inserted;
    const IpAddress extremes[] = {addr("0.0.0.0"), addr("255.255.255.255"), addr("::"),
                                  addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")};
    std::size_t lookups = 0;
    std::size_t hits = 0;
    std::size_t changes[6] = {};  // per kind below, to make sure each happened

    for (int step = 0; step < 2500; ++step) {
        const unsigned op = nets.pick(100);
        if (op < 50 || model.empty()) {
            // New prefix, or an existing one rebound to another peer.
            const bool rebind = nets.coin() && !model.empty();
            const IpPrefix p = rebind ? std::next(model.begin(), nets.pick(static_cast<unsigned>(model.size())))->first
                                      : nets.prefix(nets.coin());
            Peer* owner = peer(nets.pick(peer_count));
            table.insert(p, owner);
            model[p] = owner;
            ever_inserted.push_back(p);
            ++changes[0];
        } else if (op < 72) {
            const auto it = std::next(model.begin(), nets.pick(static_cast<unsigned>(model.size())));
            ASSERT_TRUE(table.remove(it->first, it->second));
            model.erase(it);
            ++changes[1];
        } else if (op < 80) {
            // Absent prefixes and wrong peers change nothing.
            const IpPrefix p = nets.prefix(nets.coin());
            Peer* who = peer(nets.pick(peer_count));
            const auto it = model.find(p);
            const bool expected = it != model.end() && it->second == who;
            ASSERT_EQ(table.remove(p, who), expected);
            if (expected) model.erase(it);
            ++changes[2];
        } else if (op < 88) {
            Peer* gone = peer(nets.pick(peer_count));
            table.remove_by_peer(gone);
            std::erase_if(model, [&](const auto& entry) { return entry.second == gone; });
            ++changes[3];
        } else if (op < 90) {
            table.clear();
            model.clear();
            ++changes[4];
        } else {
            ++changes[5];  // lookups only
        }
        ASSERT_EQ(table.size(), model.size());

        const std::vector<std::pair<IpPrefix, Peer*>> flat(model.begin(), model.end());
        const std::size_t burst = nets.pick(10) == 0 ? 400 : 3;
        for (std::size_t i = 0; i < burst; ++i) {
            IpAddress a;
            const unsigned kind = nets.pick(8);
            if (kind == 0 || ever_inserted.empty()) {
                a = extremes[nets.pick(4)];
            } else if (kind == 1) {
                a = nets.address(nets.coin());
            } else {
                const IpPrefix& p = ever_inserted[nets.pick(static_cast<unsigned>(ever_inserted.size()))];
                a = kind == 2   ? p.address
                    : kind == 3 ? RandomNets::last(p)
                    : kind == 4 ? RandomNets::after_last(p)
                    : kind == 5 ? RandomNets::before_first(p)
                                : nets.inside(p);
            }
            Peer* expected = model_lookup(flat, a);
            ASSERT_EQ(table.lookup(a), expected) << a.to_string() << " at step " << step;
            ++lookups;
            if (expected != nullptr) ++hits;
        }
    }
    for (std::size_t kind = 0; kind < 6; ++kind) EXPECT_GT(changes[kind], 20u) << "change kind " << kind;
    EXPECT_GT(hits, lookups / 4);
}

// ---- Scale -------------------------------------------------------------------

TEST(AllowedIpsTest, ManyHostRoutesV6DestroyWithoutDeepRecursion) {
    std::mt19937 rng(7);
    std::vector<IpAddress> sample;
    {
        AllowedIps table;
        // The deepest possible chain first: nested /0 ... /128 along one address.
        const IpAddress chain = addr("fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        for (unsigned cidr = 0; cidr <= 128; ++cidr) table.insert(IpPrefix::make(chain, cidr), peer(cidr));
        // Then 130,000 distinct host routes: half sequential, half random.
        std::set<IpAddress> seen;
        for (std::uint32_t i = 0; seen.size() < 130'000; ++i) {
            IpAddress a = addr("fd00::");
            if (i % 2 == 0) {
                a.bytes[12] = static_cast<std::uint8_t>(i >> 24);
                a.bytes[13] = static_cast<std::uint8_t>(i >> 16);
                a.bytes[14] = static_cast<std::uint8_t>(i >> 8);
                a.bytes[15] = static_cast<std::uint8_t>(i);
            } else {
                for (std::size_t b = 2; b < 16; ++b) a.bytes[b] = static_cast<std::uint8_t>(rng());
            }
            if (!seen.insert(a).second || a == chain) continue;
            table.insert(IpPrefix::make(a, 128), peer(200 + seen.size() % 1000));
            if (seen.size() % 13 == 0) sample.push_back(a);
        }
        EXPECT_EQ(table.size(), 130'000u + 129u);
        for (std::size_t i = 0; i < sample.size(); ++i) {
            EXPECT_NE(table.lookup(sample[i]), nullptr);
        }
        EXPECT_EQ(table.lookup(chain), peer(128));
        EXPECT_EQ(table.lookup(addr("fd00:ffff:ffff:ffff:ffff:ffff:ffff:fffe")), peer(127));
        EXPECT_EQ(table.lookup(addr("7000::1")), peer(0));
    }  // destructor frees everything (ASan reports leaks, the stack stays small)
    EXPECT_FALSE(sample.empty());
}

TEST(AllowedIpsTest, HundredThousandHostRoutesPerPeerIndex) {
    constexpr std::uint32_t routes = 100'000;
    constexpr std::uint32_t peers = 25'000;  // four /32s each
    AllowedIps table;
    auto host = [](std::uint32_t i) {
        const std::uint32_t v = 0x0A000000u + i * 7;  // spread inside 10.0.0.0/8
        const std::uint8_t b[4] = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                                   static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
        return IpAddress::v4(b);
    };
    for (std::uint32_t i = 0; i < routes; ++i) table.insert(IpPrefix::make(host(i), 32), peer(i % peers));
    ASSERT_EQ(table.size(), routes);

    // Every peer's list, in binding order. Walking all of them is linear in
    // total; a trie walk per peer would make this quadratic (hours).
    std::size_t listed = 0;
    for (std::uint32_t p = 0; p < peers; ++p) {
        const auto prefixes = table.prefixes_of(peer(p));
        listed += prefixes.size();
        ASSERT_EQ(prefixes.size(), 4u);
        for (std::uint32_t k = 0; k < 4; ++k) ASSERT_EQ(prefixes[k], IpPrefix::make(host(p + k * peers), 32));
    }
    EXPECT_EQ(listed, routes);

    const std::set<std::uint32_t> dropped = {0, 1, 12'345, peers - 1};
    for (std::uint32_t p : dropped) {
        table.remove_by_peer(peer(p));
        EXPECT_TRUE(table.prefixes_of(peer(p)).empty());
    }
    for (std::uint32_t p : dropped) {
        for (std::uint32_t k = 0; k < 4; ++k) {
            const std::uint32_t i = p + k * peers;
            EXPECT_EQ(table.lookup(host(i)), nullptr);
            // Neighbours in the address space belong to other peers and stay.
            for (std::uint32_t n : {i - 1, i + 1}) {
                if (n < routes && dropped.count(n % peers) == 0) {
                    EXPECT_EQ(table.lookup(host(n)), peer(n % peers));
                }
            }
        }
    }
    EXPECT_EQ(table.size(), routes - 16);
    EXPECT_EQ(table.lookup(host(2)), peer(2));
    EXPECT_EQ(table.lookup(addr("10.0.0.1")), nullptr);  // between two hosts

    // Dropping every peer one by one is linear overall too.
    for (std::uint32_t p = 0; p < peers; ++p) table.remove_by_peer(peer(p));
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.lookup(host(2)), nullptr);
}

}  // namespace
}  // namespace wgate::core
