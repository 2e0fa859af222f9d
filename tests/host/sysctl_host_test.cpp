// Sysctls and ForwardingGuard. The forwarding switches are per network
// namespace, so the tests flip them freely inside their own.
#include "wgate/io/sysctl.hpp"

#include <system_error>

#include "host_test_util.hpp"

namespace wgate::io {
namespace {

using host_test::must_run;

// `sysctl -n KEY` as an independent reader.
std::string sysctl_cli(std::string_view key) {
    std::string out = must_run("sysctl -n " + std::string(key));
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

TEST(SysctlPath, MapsKeysToProcSys) {
    EXPECT_EQ(sysctl_path("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
    EXPECT_EQ(sysctl_path("net.ipv6.conf.all.forwarding"), "/proc/sys/net/ipv6/conf/all/forwarding");
    // Slash form keeps dots (VLAN interface names).
    EXPECT_EQ(sysctl_path("net/ipv6/conf/eth0.5/forwarding"), "/proc/sys/net/ipv6/conf/eth0.5/forwarding");
    EXPECT_THROW(sysctl_path(""), std::system_error);
    EXPECT_THROW(sysctl_path("net/../../etc/passwd"), std::system_error);
    EXPECT_THROW(sysctl_path("/etc/passwd"), std::system_error);
}

class SysctlTest : public host_test::NamespaceTest {
protected:
    void set_both(const char* value) {
        write_sysctl(kIpv4Forwarding, value);
        write_sysctl(kIpv6Forwarding, value);
    }
};

TEST_F(SysctlTest, ReadsAndWrites) {
    write_sysctl(kIpv4Forwarding, "1");
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "1");
    EXPECT_EQ(sysctl_cli(kIpv4Forwarding), "1");
    write_sysctl(kIpv4Forwarding, "0");
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "0");
    EXPECT_EQ(sysctl_cli(kIpv4Forwarding), "0");
    try {
        read_sysctl("net.ipv4.no_such_knob");
        ADD_FAILURE() << "expected an error";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOENT);
        EXPECT_NE(std::string(e.what()).find("net.ipv4.no_such_knob"), std::string::npos);
    }
}

TEST_F(SysctlTest, GuardEnablesForwardingAndRestoresIt) {
    set_both("0");
    std::vector<SysctlChange> seen;
    {
        ForwardingGuard guard(true, true, [&](const std::vector<SysctlChange>& planned) {
            // Called before any write: the old values are still in place.
            EXPECT_EQ(read_sysctl(kIpv4Forwarding), "0");
            EXPECT_EQ(read_sysctl(kIpv6Forwarding), "0");
            seen = planned;
        });
        EXPECT_EQ(sysctl_cli(kIpv4Forwarding), "1");
        EXPECT_EQ(sysctl_cli(kIpv6Forwarding), "1");
        const std::vector<SysctlChange> expected = {
            {std::string(kIpv4Forwarding), "0", "1"},
            {std::string(kIpv6Forwarding), "0", "1"},
        };
        EXPECT_EQ(guard.changes(), expected);
        EXPECT_EQ(seen, expected);
    }
    // Destruction restored both.
    EXPECT_EQ(sysctl_cli(kIpv4Forwarding), "0");
    EXPECT_EQ(sysctl_cli(kIpv6Forwarding), "0");
}

TEST_F(SysctlTest, GuardLeavesAlreadyForwardingHostsAlone) {
    write_sysctl(kIpv4Forwarding, "1");
    write_sysctl(kIpv6Forwarding, "0");
    bool called = false;
    {
        ForwardingGuard guard(true, false, [&](const std::vector<SysctlChange>&) { called = true; });
        EXPECT_TRUE(guard.changes().empty());
        EXPECT_EQ(read_sysctl(kIpv6Forwarding), "0");  // not asked for
    }
    EXPECT_FALSE(called);
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "1");  // still forwarding after the guard
}

TEST_F(SysctlTest, RestoreSparesValuesChangedBySomeoneElse) {
    set_both("0");
    ForwardingGuard guard(true, true);
    write_sysctl(kIpv6Forwarding, "0");  // an administrator turned it off meanwhile...
    write_sysctl(kIpv4Forwarding, "1");
    const SysctlRestore result = guard.restore();
    EXPECT_TRUE(result.failed.empty());
    EXPECT_EQ(result.restored, std::vector<std::string>{std::string(kIpv4Forwarding)});
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "0");
    EXPECT_EQ(read_sysctl(kIpv6Forwarding), "0");
    EXPECT_TRUE(guard.changes().empty());
    EXPECT_TRUE(guard.restore().restored.empty());  // idempotent

    // Someone set it to something else than ours: left as they set it.
    const std::vector<SysctlChange> changes = {{std::string(kIpv4Forwarding), "0", "1"}};
    write_sysctl(kIpv4Forwarding, "0");
    EXPECT_TRUE(restore_sysctls(changes).restored.empty());
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "0");
    // A key that does not exist fails alone, with its name.
    const SysctlRestore bad = restore_sysctls({{"net.ipv4.no_such_knob", "0", "1"}, {std::string(kIpv4Forwarding), "1", "0"}});
    ASSERT_EQ(bad.failed.size(), 1u);
    EXPECT_NE(bad.failed[0].find("net.ipv4.no_such_knob"), std::string::npos) << bad.failed[0];
    EXPECT_EQ(bad.restored.size(), 1u);
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "1");
}

TEST_F(SysctlTest, GuardChangesNothingWhenPersistingFails) {
    set_both("0");
    EXPECT_THROW(ForwardingGuard(true, true, [](const std::vector<SysctlChange>&) { throw std::runtime_error("disk full"); }),
                 std::runtime_error);
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "0");
    EXPECT_EQ(read_sysctl(kIpv6Forwarding), "0");
}

TEST_F(SysctlTest, ReleaseKeepsChangesAndMoveTransfersThem) {
    set_both("0");
    {
        ForwardingGuard a(true, false);
        ForwardingGuard b = std::move(a);
        EXPECT_EQ(b.changes().size(), 1u);
        b.release();
    }
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "1");
}

}  // namespace
}  // namespace wgate::io
