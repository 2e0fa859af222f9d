// Shared pieces of the host tests: every test runs in a network namespace of
// its own, so nothing it does (addresses, routes, sysctls, nftables) reaches
// the machine's real configuration.
//
// The namespace is anonymous (unshare(CLONE_NEWNET) on the test thread) rather
// than a named `ip netns` one: when the test ends, or the binary is killed,
// the kernel destroys it with everything in it, so there is never anything
// left behind to clean up. Commands run with popen() inherit it, so `ip` and
// `nft` serve as independent checks.
#pragma once

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "wgate/io/fd.hpp"

namespace wgate::io::host_test {

struct CommandResult {
    int status = -1;  // exit code
    std::string output;
};

// Runs a shell command (stderr joined to stdout) in the current namespace.
inline CommandResult run(const std::string& command) {
    CommandResult result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return result;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
    const int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

// Runs a command that must succeed; returns its output.
inline std::string must_run(const std::string& command) {
    const CommandResult r = run(command);
    EXPECT_EQ(r.status, 0) << command << "\n" << r.output;
    return r.output;
}

inline nlohmann::json run_json(const std::string& command) {
    const std::string out = must_run(command);
    const auto j = nlohmann::json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << command << " gave no JSON:\n" << out;
    return j.is_discarded() ? nlohmann::json::array() : j;
}

// A TUN interface held open for the test (so it has carrier); persistent ones
// outlive the fd, as a crashed daemon's would.
class TunDevice {
public:
    explicit TunDevice(const std::string& name, bool persistent = false) {
        fd_ = Fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
        if (!fd_.valid()) {
            ADD_FAILURE() << "open /dev/net/tun: " << std::strerror(errno);
            return;
        }
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        if (::ioctl(fd_.get(), TUNSETIFF, &ifr) < 0) {
            ADD_FAILURE() << "TUNSETIFF " << name << ": " << std::strerror(errno);
            fd_.reset();
            return;
        }
        if (persistent && ::ioctl(fd_.get(), TUNSETPERSIST, 1) < 0)
            ADD_FAILURE() << "TUNSETPERSIST: " << std::strerror(errno);
        ifindex_ = static_cast<int>(::if_nametoindex(name.c_str()));
    }
    int ifindex() const { return ifindex_; }
    void close() { fd_.reset(); }

private:
    Fd fd_;
    int ifindex_ = 0;
};

// Each test in a fresh network namespace; the thread goes back to the
// original one in TearDown, whatever happened.
class NamespaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "host tests need root (network namespaces)";
        original_ = Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(original_.valid()) << std::strerror(errno);
        if (::unshare(CLONE_NEWNET) != 0) {
            const int err = errno;
            if (err == EPERM) GTEST_SKIP() << "cannot create a network namespace here (EPERM)";
            FAIL() << "unshare(CLONE_NEWNET): " << std::strerror(err);
        }
        entered_ = true;
        must_run("ip link set lo up");
    }

    void TearDown() override {
        if (entered_ && ::setns(original_.get(), CLONE_NEWNET) != 0) {
            // Carrying on would run the next test in this namespace.
            std::perror("setns back to the original network namespace");
            std::abort();
        }
        entered_ = false;
    }

    // A per-test temporary directory, removed afterwards.
    std::filesystem::path temp_dir() {
        if (temp_.empty()) {
            std::string tmpl = (std::filesystem::temp_directory_path() / "wgate-host-test.XXXXXX").string();
            if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
            temp_ = tmpl;
        }
        return temp_;
    }

    ~NamespaceTest() override {
        if (!temp_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(temp_, ec);
        }
    }

private:
    Fd original_;
    bool entered_ = false;
    std::filesystem::path temp_;
};

// Runs `body` in a forked child and returns its exit code (or 128+signal).
// For checks that must not affect the test process (other namespaces, crashes).
template <typename F>
int in_child(F&& body) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int code = 99;
        try {
            code = body();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child: %s\n", e.what());
        }
        std::fflush(nullptr);
        ::_exit(code);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace wgate::io::host_test
