// The host state file and the cleanup it drives, up to a full kill -9 and
// recovery inside a private network namespace.
#include "wgate/io/host_state.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <fstream>

#include "host_test_util.hpp"
#include "wgate/io/nat.hpp"

namespace wgate::io {
namespace {

using host_test::must_run;
using host_test::run;
using host_test::TunDevice;

core::IpAddress ip(std::string_view text) { return core::IpAddress::parse(text).value(); }
core::IpPrefix prefix(std::string_view text) { return core::IpPrefix::parse(text).value(); }

HostState sample_state() {
    HostState s = new_host_state("wg0");
    s.ifindex = 7;
    s.owns_link = true;
    s.nft_table = "wgate-wg0";
    s.sysctls = {{"net.ipv4.ip_forward", "0", "1"},
                 {"net.ipv6.conf.all.forwarding", "0", "1"},
                 {"net.ipv4.tcp_rmem", "4096 87380\t6291456", "100%"}};  // spaces, tabs, '%'
    s.addresses = {{ip("10.77.0.1"), 24}, {ip("fd77::1"), 64}};
    s.routes = {{prefix("10.88.0.0/16"), kMainTable}, {prefix("fd88::/64"), 1000}};
    return s;
}

void write_text(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p) << text;
}

// A pid that surely belongs to no process: a reaped child's.
pid_t dead_pid() {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status;
    ::waitpid(pid, &status, 0);
    return pid;
}

class HostStateTest : public host_test::NamespaceTest {};

TEST(HostStatePath, NamesTheFileAfterTheInterface) {
    EXPECT_EQ(host_state_path("wg0"), std::filesystem::path("/run/wgate/wg0.state"));
    EXPECT_EQ(host_state_path("wg0", "/tmp/x"), std::filesystem::path("/tmp/x/wg0.state"));
    for (const char* bad : {"", ".", "..", "a/b", "a b", "wg0:1", "sixteen-chars-xx"})
        EXPECT_THROW(host_state_path(bad), std::invalid_argument) << bad;
}

TEST(HostStateProcess, TellsLiveOwnersFromDeadOnes) {
    EXPECT_GT(process_start_time(::getpid()), 0u);
    EXPECT_EQ(process_start_time(0), 0u);
    HostState s = new_host_state("wg0");
    EXPECT_EQ(s.pid, ::getpid());
    EXPECT_TRUE(owner_alive(s));
    s.start_time += 1;  // same pid, another process (pid reuse)
    EXPECT_FALSE(owner_alive(s));
    s.pid = dead_pid();
    s.start_time = 0;
    EXPECT_FALSE(owner_alive(s));
}

TEST_F(HostStateTest, WritesAndReadsBackAtomically) {
    const auto path = host_state_path("wg0", temp_dir() / "run" / "wgate");
    EXPECT_FALSE(read_host_state(path).has_value());  // no file yet (and no directory)

    const HostState s = sample_state();
    write_host_state(path, s);
    const auto back = read_host_state(path);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);

    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(path.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // Only the state file: the temporary one was renamed over it.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path.parent_path())) ++entries;
    EXPECT_EQ(entries, 1);

    // Rewriting replaces the whole content.
    HostState smaller = s;
    smaller.routes.clear();
    smaller.nft_table.clear();
    write_host_state(path, smaller);
    EXPECT_EQ(read_host_state(path).value(), smaller);

    EXPECT_TRUE(remove_host_state(path));
    EXPECT_FALSE(remove_host_state(path));
    EXPECT_FALSE(read_host_state(path).has_value());
}

TEST_F(HostStateTest, RefusesFilesItCannotUnderstand) {
    const auto path = temp_dir() / "wg0.state";
    write_text(path, "garbage\n");
    EXPECT_THROW(read_host_state(path), std::runtime_error);  // no version, no ifname
    write_text(path, "version 99\nifname wg0\n");
    EXPECT_THROW(read_host_state(path), std::runtime_error);
    write_text(path, "version 1\nifname wg0\nroute 10.0.0.0/33 254\n");
    EXPECT_THROW(read_host_state(path), std::runtime_error);
    write_text(path, "version 1\nifname wg0\naddress 10.0.0.1\n");
    EXPECT_THROW(read_host_state(path), std::runtime_error);
    write_text(path, "version 1\nifname wg0\naddress 10.0.0.1/40\n");
    EXPECT_THROW(read_host_state(path), std::runtime_error);
    write_text(path, "version 1\nifname wg0\nsysctl a b\n");
    EXPECT_THROW(read_host_state(path), std::runtime_error);
    write_text(path, "version 1\nifname wg0\nsysctl a%2 b c\n");
    EXPECT_THROW(read_host_state(path), std::runtime_error);
    // Unknown keys from a newer minor version do not block cleanup.
    write_text(path, "version 1\nifname wg0\nfuture_thing 42\npid 5\n");
    const auto s = read_host_state(path);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->pid, 5);
}

TEST_F(HostStateTest, UndoRemovesOnlyWhatItRecorded) {
    Netlink nl;
    TunDevice tun("wg0", true);
    const int idx = tun.ifindex();
    nl.set_up(idx, true);
    nl.add_address(idx, ip("10.77.0.1"), 24);
    must_run("ip link add wgv0 type veth peer name wgv1 && ip link set wgv0 up && ip link set wgv1 up");
    // Somebody else's route for the same prefix (another device, another metric) survives.
    must_run("ip route add 10.88.0.0/16 dev wgv0 metric 50 proto static");
    must_run("nft add table inet other");
    write_sysctl(kIpv4Forwarding, "0");

    HostState s = new_host_state("wg0");
    s.ifindex = idx;
    s.owns_link = true;
    s.addresses.push_back({ip("10.77.0.1"), 24});
    ASSERT_TRUE(nl.add_route(prefix("10.88.0.0/16"), idx));
    s.routes.push_back({prefix("10.88.0.0/16"), kMainTable});
    s.nft_table = nat_table_name("wg0");
    Nat().install(s.nft_table, NatRules{"wg0", {prefix("192.168.50.0/24")}, "wgv0", true});
    ForwardingGuard guard(true, false);
    s.sysctls = guard.changes();
    guard.release();  // as if the process died: the state file is all that remembers

    const CleanupReport report = undo_host_state(s);
    EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.failed);
    // route, address, table, sysctl, interface
    EXPECT_EQ(report.done.size(), 5u) << ::testing::PrintToString(report.done);
    EXPECT_FALSE(Nat().exists("wgate-wg0"));
    EXPECT_EQ(run("nft list table inet other").status, 0);
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "0");
    EXPECT_EQ(nl.ifindex_of("wg0"), 0);
    const std::string routes = must_run("ip route show 10.88.0.0/16");
    EXPECT_NE(routes.find("dev wgv0"), std::string::npos) << routes;

    // Nothing left: a second run does nothing and reports no failure.
    const CleanupReport again = undo_host_state(s);
    EXPECT_TRUE(again.ok());
    EXPECT_TRUE(again.done.empty()) << ::testing::PrintToString(again.done);
}

TEST_F(HostStateTest, UndoOnAnInterfaceItDoesNotOwnRemovesOnlyItsAddresses) {
    TunDevice tun("wg0");
    Netlink nl;
    nl.add_address(tun.ifindex(), ip("10.77.0.1"), 24);
    nl.add_address(tun.ifindex(), ip("10.55.0.1"), 24);  // the administrator's
    HostState s = new_host_state("wg0");
    s.ifindex = tun.ifindex();
    s.owns_link = false;
    s.addresses = {{ip("10.77.0.1"), 24}};
    const CleanupReport report = undo_host_state(s);
    EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.failed);
    EXPECT_EQ(nl.ifindex_of("wg0"), tun.ifindex());
    const auto left = nl.list_addresses(tun.ifindex());
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].address, ip("10.55.0.1"));
}

TEST_F(HostStateTest, UndoSparesAnInterfaceThatOnlySharesTheName) {
    TunDevice tun("wg0", true);
    HostState s = new_host_state("wg0");
    s.ifindex = tun.ifindex() + 100;  // ours was another one, gone since
    s.owns_link = true;
    const CleanupReport report = undo_host_state(s);
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(Netlink().ifindex_of("wg0"), tun.ifindex());
    Netlink().delete_link(tun.ifindex());
}

// The scenario: a daemon configures the host, dies by SIGKILL, and the
// next start finds the state file, sees its owner is gone and cleans up.
TEST_F(HostStateTest, RecoversAfterKillMinusNine) {
    const auto path = host_state_path("wg0", temp_dir());
    must_run("nft add table inet other");
    write_sysctl(kIpv4Forwarding, "0");
    write_sysctl(kIpv6Forwarding, "0");

    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    std::fflush(nullptr);
    const pid_t daemon = ::fork();
    ASSERT_GE(daemon, 0);
    if (daemon == 0) {
        // The "daemon": record first, then change, as wgated does.
        int code = 0;
        try {
            Netlink nl;
            TunDevice tun("wg0", true);  // persistent: outlives the process, the worst case
            HostState s = new_host_state("wg0");
            s.ifindex = tun.ifindex();
            s.owns_link = true;
            s.addresses.push_back({ip("10.77.0.1"), 24});
            write_host_state(path, s);
            nl.set_mtu(s.ifindex, 1420);
            nl.add_address(s.ifindex, ip("10.77.0.1"), 24);
            nl.set_up(s.ifindex, true);
            s.routes.push_back({prefix("10.88.0.0/16"), kMainTable});
            write_host_state(path, s);
            nl.add_route(prefix("10.88.0.0/16"), s.ifindex);
            ForwardingGuard guard(true, true, [&](const std::vector<SysctlChange>& planned) {
                s.sysctls = planned;
                write_host_state(path, s);
            });
            s.nft_table = nat_table_name("wg0");
            write_host_state(path, s);
            Nat().install(s.nft_table, NatRules{"wg0", {prefix("192.168.50.0/24")}, "", true});
            (void)!::write(ready[1], "r", 1);
            ::pause();  // until SIGKILL
        } catch (const std::exception& e) {
            std::fprintf(stderr, "daemon: %s\n", e.what());
            code = 1;
        }
        ::_exit(code);
    }
    ::close(ready[1]);
    char c = 0;
    const bool started = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    ::kill(daemon, SIGKILL);
    int status = 0;
    ::waitpid(daemon, &status, 0);
    ASSERT_TRUE(started) << "the daemon child failed before it was ready";

    // What the crash left behind.
    Netlink nl;
    ASSERT_GT(nl.ifindex_of("wg0"), 0);
    EXPECT_TRUE(Nat().exists("wgate-wg0"));
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "1");
    EXPECT_EQ(read_sysctl(kIpv6Forwarding), "1");

    // The restart.
    const auto state = read_host_state(path);
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->pid, daemon);
    EXPECT_FALSE(owner_alive(*state));
    EXPECT_EQ(state->sysctls.size(), 2u);
    const CleanupReport report = undo_host_state(*state);
    EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.failed);
    EXPECT_TRUE(remove_host_state(path));

    EXPECT_EQ(nl.ifindex_of("wg0"), 0);
    EXPECT_FALSE(Nat().exists("wgate-wg0"));
    EXPECT_EQ(run("nft list table inet other").status, 0);
    EXPECT_EQ(read_sysctl(kIpv4Forwarding), "0");
    EXPECT_EQ(read_sysctl(kIpv6Forwarding), "0");
    EXPECT_EQ(must_run("ip route show proto 87"), "");

    // ...and starts normally: the same name can be configured again.
    TunDevice tun("wg0");
    ASSERT_GT(tun.ifindex(), 0);
    EXPECT_TRUE(nl.add_address(tun.ifindex(), ip("10.77.0.1"), 24));
    Nat().install("wgate-wg0", NatRules{"wg0", {prefix("192.168.50.0/24")}, "", true});
    EXPECT_TRUE(Nat().exists("wgate-wg0"));
}

}  // namespace
}  // namespace wgate::io
