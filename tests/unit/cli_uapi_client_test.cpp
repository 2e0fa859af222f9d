// The control-socket client: finding interfaces, errors with their fixes,
// one exchange over a real Unix socket.
#include "wgate/cli/uapi_client.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "cli_test_util.hpp"
#include "wgate/cli/error.hpp"

namespace wgate::cli {
namespace {

int listen_at(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(fd, 4), 0);
    return fd;
}

std::string error_of(const std::function<void()>& f, int* code = nullptr) {
    try {
        f();
    } catch (const CliError& e) {
        if (code) *code = e.exit_code();
        return e.what();
    }
    return "no error";
}

TEST(CliUapiClient, NotRunningSaysHowToStartIt) {
    test::TempDir dir;
    SocketControlClient client("wg7", dir.path().string());
    int code = 0;
    const std::string m = error_of([&] { client.exchange("get=wgate\n\n"); }, &code);
    EXPECT_EQ(code, kExitRuntime);
    EXPECT_NE(m.find("interface wg7 is not running"), std::string::npos) << m;
    EXPECT_NE(m.find("wgated wg7"), std::string::npos) << m;
    // A socket file nobody listens on any more (a crashed daemon).
    const int fd = listen_at(dir.file("wg8.sock"));
    ::close(fd);
    SocketControlClient stale("wg8", dir.path().string());
    EXPECT_NE(error_of([&] { stale.exchange("get=wgate\n\n"); }).find("is not running"), std::string::npos);
}

TEST(CliUapiClient, PermissionDeniedSaysRunAsRoot) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a socket an unprivileged child cannot open";
    test::TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    const int fd = listen_at(dir.file("wg9.sock"));
    ::chmod(dir.file("wg9.sock").c_str(), 0600);
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
        std::string m;
        try {
            SocketControlClient("wg9", dir.path().string()).exchange("get=wgate\n\n");
        } catch (const CliError& e) {
            m = e.what();
        }
        try {
            running_interfaces(dir.path().string());
        } catch (const CliError& e) {
            m += "|";
            m += e.what();
        }
        (void)!::write(pipefd[1], m.data(), m.size());
        ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string m;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) m.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(fd);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_NE(m.find("permission denied on " + dir.file("wg9.sock") + ": run as root"), std::string::npos) << m;
    EXPECT_NE(m.find("|permission denied on the sockets in"), std::string::npos) << m;
}

TEST(CliUapiClient, ExchangeReadsUpToTheBlankLine) {
    test::TempDir dir;
    const int fd = listen_at(dir.file("wg0.sock"));
    std::string seen;
    std::thread server([&] {
        const int c = ::accept(fd, nullptr, nullptr);
        char buf[256];
        while (seen.find("\n\n") == std::string::npos) {
            const ssize_t n = ::read(c, buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        const std::string reply = "listen_port=1\nwgate_mode=plain\nerrno=0\n\n";
        (void)!::write(c, reply.data(), reply.size());
        // Keeps the connection open, as wgated does: the client must stop at the blank line.
        (void)!::read(c, buf, sizeof buf);
        ::close(c);
    });
    SocketControlClient client("wg0", dir.path().string());
    const std::string answer = client.exchange("get=wgate\n\n");
    server.join();
    ::close(fd);
    EXPECT_EQ(seen, "get=wgate\n\n");
    EXPECT_EQ(answer, "listen_port=1\nwgate_mode=plain\nerrno=0\n\n");
}

TEST(CliUapiClient, RunningInterfacesAreTheSocketsThatAnswer) {
    test::TempDir dir;
    const int a = listen_at(dir.file("wg0.sock"));
    const int b = listen_at(dir.file("lab1.sock"));
    const int stale = listen_at(dir.file("old.sock"));
    ::close(stale);
    { std::ofstream(dir.file("notes.txt")) << "x"; }
    EXPECT_EQ(running_interfaces(dir.path().string()), (std::vector<std::string>{"lab1", "wg0"}));
    EXPECT_TRUE(running_interfaces(dir.file("missing")).empty());
    ::close(a);
    ::close(b);
}

TEST(CliUapiClient, ChoosingTheInterface) {
    auto none = [] { return std::vector<std::string>{}; };
    auto one = [] { return std::vector<std::string>{"wg0"}; };
    auto two = [] { return std::vector<std::string>{"wg0", "wg1"}; };
    EXPECT_EQ(choose_interface(std::nullopt, one), "wg0");
    EXPECT_EQ(choose_interface(std::string("lab"), two), "lab");
    int code = 0;
    EXPECT_NE(error_of([&] { choose_interface(std::nullopt, none); }, &code).find("no wgated interface is running"),
              std::string::npos);
    EXPECT_EQ(code, kExitRuntime);
    const std::string several = error_of([&] { choose_interface(std::nullopt, two); }, &code);
    EXPECT_NE(several.find("several interfaces are running (wg0, wg1): pick one with -i IFNAME"), std::string::npos);
    EXPECT_EQ(code, kExitUsage);
    EXPECT_NE(error_of([&] { choose_interface(std::string("a/b"), one); }, &code).find("not a valid interface name"),
              std::string::npos);
    EXPECT_FALSE(valid_interface_name("sixteen_chars_xx"));
    EXPECT_TRUE(valid_interface_name("fifteen_chars_x"));
}

TEST(CliUapiClient, SetAnswersAndWireguardGo) {
    test::FakeDaemon daemon;
    test::FakeClient client(daemon);
    EXPECT_EQ(set_device(client, "listen_port=1234\n"), 0);
    EXPECT_EQ(daemon.host.port, 1234);
    EXPECT_EQ(set_device(client, "bogus=1\n"), EINVAL);
    EXPECT_EQ(daemon.requests.back(), "set=1\nbogus=1\n\n");
    daemon.wireguard_go = true;
    EXPECT_NE(error_of([&] { get_device(client, "wg0"); }).find("not served by wgated"), std::string::npos);
}

}  // namespace
}  // namespace wgate::cli
