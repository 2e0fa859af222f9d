// io::Netlink against the kernel, inside a private network namespace, each
// result also checked through `ip -j` (iproute2) as an independent witness.
#include "wgate/io/netlink.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>

#include <algorithm>
#include <system_error>

#include "host_test_util.hpp"

namespace wgate::io {
namespace {

using host_test::must_run;
using host_test::run;
using host_test::run_json;
using host_test::TunDevice;
using nlohmann::json;

core::IpAddress ip(std::string_view text) { return core::IpAddress::parse(text).value(); }
core::IpPrefix prefix(std::string_view text) { return core::IpPrefix::parse(text).value(); }

// `ip -j addr show dev X` as "address/len" strings.
std::vector<std::string> ip_addresses(const std::string& dev) {
    std::vector<std::string> out;
    for (const auto& link : run_json("ip -j addr show dev " + dev))
        for (const auto& a : link.value("addr_info", json::array()))
            out.push_back(a.value("local", "") + "/" + std::to_string(a.value("prefixlen", -1)));
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// `ip -j route show ...` destinations.
std::vector<std::string> ip_routes(const std::string& args) {
    std::vector<std::string> out;
    for (const auto& r : run_json("ip -j " + args)) out.push_back(r.value("dst", ""));
    return out;
}

const RouteInfo* find_route(const std::vector<RouteInfo>& routes, const core::IpPrefix& p) {
    for (const auto& r : routes)
        if (r.destination == p) return &r;
    return nullptr;
}

class NetlinkTest : public host_test::NamespaceTest {};

TEST_F(NetlinkTest, LooksUpLinksByNameAndIndex) {
    Netlink nl;
    EXPECT_EQ(nl.ifindex_of("lo"), 1);
    EXPECT_EQ(nl.name_of(1), "lo");
    EXPECT_EQ(nl.ifindex_of("nosuchif0"), 0);
    EXPECT_EQ(nl.ifindex_of("a-name-far-too-long-for-linux"), 0);
    EXPECT_EQ(nl.ifindex_of(""), 0);
    EXPECT_EQ(nl.name_of(4242), "");
    EXPECT_FALSE(nl.link(4242).has_value());

    TunDevice tun("wgt0");
    ASSERT_GT(tun.ifindex(), 0);
    EXPECT_EQ(nl.ifindex_of("wgt0"), tun.ifindex());
    const auto info = nl.link(tun.ifindex());
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->name, "wgt0");
    EXPECT_EQ(info->mtu, 1500u);
    const auto links = nl.list_links();
    EXPECT_EQ(links.size(), 2u);  // lo and wgt0: a fresh namespace
}

TEST_F(NetlinkTest, SetsMtuAndLinkState) {
    TunDevice tun("wgt0");
    Netlink nl;
    nl.set_mtu(tun.ifindex(), 1420);
    EXPECT_EQ(nl.link(tun.ifindex())->mtu, 1420u);
    json j = run_json("ip -j link show dev wgt0");
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0].value("mtu", 0), 1420);

    nl.set_up(tun.ifindex(), true);
    EXPECT_TRUE(nl.link(tun.ifindex())->up);
    j = run_json("ip -j link show dev wgt0");
    const auto flags = j[0].value("flags", std::vector<std::string>{});
    EXPECT_TRUE(has(flags, "UP"));
    EXPECT_TRUE(nl.link(tun.ifindex())->running);  // the TUN fd is open: carrier

    nl.set_up(tun.ifindex(), false);
    EXPECT_FALSE(nl.link(tun.ifindex())->up);
    EXPECT_FALSE(has(run_json("ip -j link show dev wgt0")[0].value("flags", std::vector<std::string>{}), "UP"));
    EXPECT_EQ(nl.link(tun.ifindex())->mtu, 1420u);  // the up/down change touched only IFF_UP
}

TEST_F(NetlinkTest, AddsListsAndDeletesAddresses) {
    TunDevice tun("wgt0");
    Netlink nl;
    const int idx = tun.ifindex();
    nl.set_up(idx, true);

    EXPECT_TRUE(nl.add_address(idx, ip("10.77.0.1"), 24));
    EXPECT_TRUE(nl.add_address(idx, ip("fd77::1"), 64));
    EXPECT_FALSE(nl.add_address(idx, ip("10.77.0.1"), 24));  // EEXIST tolerated
    EXPECT_FALSE(nl.add_address(idx, ip("fd77::1"), 64));

    const auto listed = nl.list_addresses(idx);
    auto find = [&](const core::IpAddress& a) -> const InterfaceAddress* {
        for (const auto& x : listed)
            if (x.address == a) return &x;
        return nullptr;
    };
    const auto* v4 = find(ip("10.77.0.1"));
    const auto* v6 = find(ip("fd77::1"));
    ASSERT_NE(v4, nullptr);
    ASSERT_NE(v6, nullptr);
    EXPECT_EQ(v4->cidr, 24u);
    EXPECT_EQ(v4->ifindex, idx);
    EXPECT_EQ(v4->subnet(), prefix("10.77.0.0/24"));
    EXPECT_EQ(v6->cidr, 64u);
    // Usable at once: no duplicate address detection, never tentative.
    EXPECT_TRUE(v6->flags & IFA_F_NODAD);
    EXPECT_FALSE(v6->flags & IFA_F_TENTATIVE);
    // Only this interface's addresses (lo's ::1 and 127.0.0.1 are not in it).
    for (const auto& a : listed) EXPECT_EQ(a.ifindex, idx);
    EXPECT_GE(nl.list_addresses(0).size(), listed.size() + 1);

    // Independent check through iproute2.
    auto seen = ip_addresses("wgt0");
    EXPECT_TRUE(has(seen, "10.77.0.1/24"));
    EXPECT_TRUE(has(seen, "fd77::1/64"));
    const json j = run_json("ip -j -6 addr show dev wgt0");
    bool found = false;
    for (const auto& a : j[0].value("addr_info", json::array())) {
        if (a.value("local", "") != "fd77::1") continue;
        found = true;
        EXPECT_TRUE(a.value("nodad", false)) << a.dump();
        EXPECT_FALSE(a.value("tentative", false)) << a.dump();
    }
    EXPECT_TRUE(found);

    EXPECT_TRUE(nl.delete_address(idx, ip("10.77.0.1"), 24));
    EXPECT_FALSE(nl.delete_address(idx, ip("10.77.0.1"), 24));  // already gone
    EXPECT_TRUE(nl.delete_address(idx, ip("fd77::1"), 64));
    seen = ip_addresses("wgt0");
    EXPECT_FALSE(has(seen, "10.77.0.1/24"));
    EXPECT_FALSE(has(seen, "fd77::1/64"));

    // Nonsense is refused before reaching the kernel.
    EXPECT_THROW(nl.add_address(idx, ip("10.77.0.1"), 33), std::system_error);
    EXPECT_THROW(nl.add_address(idx, core::IpAddress{}, 8), std::system_error);
}

TEST_F(NetlinkTest, AddsAndDeletesOnlyItsOwnRoutes) {
    TunDevice tun("wgt0");
    Netlink nl;
    const int idx = tun.ifindex();
    nl.set_up(idx, true);
    nl.add_address(idx, ip("10.77.0.1"), 24);

    EXPECT_TRUE(nl.add_route(prefix("10.88.0.0/16"), idx));
    EXPECT_FALSE(nl.add_route(prefix("10.88.0.0/16"), idx));  // EEXIST tolerated, reported
    EXPECT_TRUE(nl.add_route(prefix("fd88::/64"), idx));
    EXPECT_TRUE(nl.add_route(prefix("10.89.1.2/32"), idx, 1000));  // a table above 255

    const auto routes = nl.list_routes(idx);
    const RouteInfo* r4 = find_route(routes, prefix("10.88.0.0/16"));
    const RouteInfo* r6 = find_route(routes, prefix("fd88::/64"));
    const RouteInfo* rt = find_route(routes, prefix("10.89.1.2/32"));
    ASSERT_NE(r4, nullptr);
    ASSERT_NE(r6, nullptr);
    ASSERT_NE(rt, nullptr);
    EXPECT_EQ(r4->protocol, kRouteProtocol);
    EXPECT_EQ(r4->table, kMainTable);
    EXPECT_EQ(r4->scope, RT_SCOPE_LINK);
    EXPECT_TRUE(r4->gateway.empty());
    EXPECT_EQ(r6->protocol, kRouteProtocol);
    EXPECT_EQ(rt->table, 1000u);
    // The kernel's own prefix route for the address is listed too, as the kernel's.
    const RouteInfo* connected = find_route(routes, prefix("10.77.0.0/24"));
    ASSERT_NE(connected, nullptr);
    EXPECT_EQ(connected->protocol, RTPROT_KERNEL);

    // iproute2 sees them under our protocol number.
    const auto ours = ip_routes("route show proto 87 dev wgt0");
    EXPECT_TRUE(has(ours, "10.88.0.0/16"));
    EXPECT_FALSE(has(ours, "10.77.0.0/24"));
    EXPECT_TRUE(has(ip_routes("-6 route show proto 87 dev wgt0"), "fd88::/64"));
    EXPECT_TRUE(has(ip_routes("route show table 1000 proto 87"), "10.89.1.2"));

    // Somebody else's route on our interface: a delete with our protocol spares it.
    must_run("ip route add 10.99.0.0/16 dev wgt0 proto static");
    EXPECT_FALSE(nl.delete_route(prefix("10.99.0.0/16"), idx));
    EXPECT_TRUE(has(ip_routes("route show dev wgt0"), "10.99.0.0/16"));
    // ...and adding the same prefix reports it was not ours to add.
    EXPECT_FALSE(nl.add_route(prefix("10.99.0.0/16"), idx));

    EXPECT_TRUE(nl.delete_route(prefix("10.88.0.0/16"), idx));
    EXPECT_FALSE(nl.delete_route(prefix("10.88.0.0/16"), idx));  // already gone
    EXPECT_TRUE(nl.delete_route(prefix("fd88::/64"), idx));
    EXPECT_FALSE(nl.delete_route(prefix("10.89.1.2/32"), idx));  // wrong table
    EXPECT_TRUE(nl.delete_route(prefix("10.89.1.2/32"), idx, 1000));
    EXPECT_TRUE(ip_routes("route show proto 87 dev wgt0").empty());
    EXPECT_TRUE(ip_routes("-6 route show proto 87 dev wgt0").empty());
    EXPECT_TRUE(has(ip_routes("route show dev wgt0"), "10.99.0.0/16"));
    EXPECT_TRUE(has(ip_routes("route show dev wgt0"), "10.77.0.0/24"));
}

TEST_F(NetlinkTest, RouteGetFindsEgressGatewayAndSource) {
    must_run("ip link add wgv0 type veth peer name wgv1");
    Netlink nl;
    const int v0 = nl.ifindex_of("wgv0");
    const int v1 = nl.ifindex_of("wgv1");
    ASSERT_GT(v0, 0);
    nl.set_up(v0, true);
    nl.set_up(v1, true);
    nl.add_address(v0, ip("10.66.0.1"), 24);
    nl.add_address(v0, ip("fd66::1"), 64);
    must_run("ip route add 192.0.2.0/24 via 10.66.0.254 dev wgv0");

    RouteLookup r = nl.route_get(ip("192.0.2.7"));
    EXPECT_EQ(r.ifindex, v0);
    EXPECT_EQ(r.gateway, ip("10.66.0.254"));
    EXPECT_EQ(r.source, ip("10.66.0.1"));

    r = nl.route_get(ip("10.66.0.9"));  // on-link
    EXPECT_EQ(r.ifindex, v0);
    EXPECT_TRUE(r.gateway.empty());
    EXPECT_EQ(r.source, ip("10.66.0.1"));

    r = nl.route_get(ip("fd66::9"));
    EXPECT_EQ(r.ifindex, v0);
    EXPECT_TRUE(r.gateway.empty());
    EXPECT_EQ(r.source, ip("fd66::1"));

    // Cross-check with `ip route get`.
    const json j = run_json("ip -j route get 192.0.2.7");
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0].value("dev", ""), "wgv0");
    EXPECT_EQ(j[0].value("gateway", ""), "10.66.0.254");
    EXPECT_EQ(j[0].value("prefsrc", ""), "10.66.0.1");

    // No default route in this namespace: unreachable, said clearly.
    try {
        nl.route_get(ip("203.0.113.1"));
        ADD_FAILURE() << "expected an error";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENETUNREACH) << e.what();
        EXPECT_NE(std::string(e.what()).find("203.0.113.1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(nl.route_get(ip("2001:db8::1")), std::system_error);
}

TEST_F(NetlinkTest, DeletesLinks) {
    must_run("ip link add wgv0 type veth peer name wgv1");
    Netlink nl;
    const int v0 = nl.ifindex_of("wgv0");
    ASSERT_GT(v0, 0);
    EXPECT_TRUE(nl.delete_link(v0));
    EXPECT_EQ(nl.ifindex_of("wgv0"), 0);
    EXPECT_EQ(nl.ifindex_of("wgv1"), 0);  // a veth pair goes together
    EXPECT_FALSE(nl.delete_link(v0));

    // A persistent TUN whose owner is gone (what a kill -9 can leave).
    {
        TunDevice tun("wgt9", true);
    }
    const int t = nl.ifindex_of("wgt9");
    ASSERT_GT(t, 0);
    EXPECT_TRUE(nl.delete_link(t));
    EXPECT_EQ(run("ip link show dev wgt9").status != 0, true);
}

TEST_F(NetlinkTest, ErrorsSayWhatFailedAndWhy) {
    Netlink nl;
    try {
        nl.set_mtu(4242, 1420);
        ADD_FAILURE() << "expected an error";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENODEV);
        EXPECT_NE(std::string(e.what()).find("setting MTU 1420 on interface 4242"), std::string::npos) << e.what();
    }

    // The kernel's extended ACK text reaches the message.
    TunDevice tun("wgt0");  // down
    try {
        nl.add_route(prefix("10.88.0.0/16"), tun.ifindex());
        ADD_FAILURE() << "expected an error";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENETDOWN) << e.what();
        EXPECT_NE(std::string(e.what()).find("adding route 10.88.0.0/16"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not up"), std::string::npos) << e.what();
    }

    // The socket stays usable after errors.
    EXPECT_EQ(nl.ifindex_of("lo"), 1);
    // A moved-from object refuses politely.
    Netlink other = std::move(nl);
    EXPECT_EQ(other.ifindex_of("lo"), 1);
    EXPECT_THROW(nl.ifindex_of("lo"), std::system_error);  // NOLINT(bugprone-use-after-move)
}

TEST_F(NetlinkTest, WithoutCapNetAdminChangesFailWithEperm) {
    TunDevice tun("wgt0");
    const int idx = tun.ifindex();
    // A child in a new user namespace has no capabilities over this network namespace.
    const int code = host_test::in_child([&] {
        if (::unshare(CLONE_NEWUSER) != 0) return 77;
        Netlink nl;
        if (nl.ifindex_of("wgt0") != idx) return 2;  // reading needs no privilege
        try {
            nl.set_mtu(idx, 1400);
        } catch (const std::system_error& e) {
            return e.code().value() == EPERM ? 0 : 3;
        }
        return 4;
    });
    if (code == 77) GTEST_SKIP() << "user namespaces unavailable";
    EXPECT_EQ(code, 0);
}

TEST(UncoveredPrefixes, LeavesOutWhatTheAddressesCover) {
    const std::vector<InterfaceAddress> addresses = {
        {ip("10.0.0.1"), 24, 3, 0},
        {ip("fd00::1"), 64, 3, 0},
    };
    const std::vector<core::IpPrefix> allowed = {
        prefix("10.0.0.2/32"),   // inside 10.0.0.0/24: the prefix route covers it
        prefix("10.0.0.0/24"),   // the subnet itself
        prefix("10.0.0.0/16"),   // wider than the subnet: needs a route
        prefix("10.9.0.0/24"),   // elsewhere
        prefix("10.9.0.0/24"),   // duplicate
        prefix("fd00::5/128"),   // covered
        prefix("fd01::/64"),     // not covered
        prefix("0.0.0.0/0"),     // default: never
        prefix("::/0"),
    };
    const auto out = uncovered_prefixes(addresses, allowed);
    const std::vector<core::IpPrefix> expected = {prefix("10.0.0.0/16"), prefix("10.9.0.0/24"), prefix("fd01::/64")};
    EXPECT_EQ(out, expected);
    EXPECT_TRUE(uncovered_prefixes({}, {}).empty());
    EXPECT_EQ(uncovered_prefixes({}, {prefix("10.1.2.3/32")}).size(), 1u);
}

}  // namespace
}  // namespace wgate::io
