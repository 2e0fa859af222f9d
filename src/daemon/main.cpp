// wgated: the userspace WireGuard daemon. Conventions of wireguard-go:
//   wgated [-f|--foreground] IFNAME
// creates the TUN IFNAME and /var/run/wireguard/IFNAME.sock for `wg`, then
// daemonises unless -f or WG_PROCESS_FOREGROUND=1. LOG_LEVEL=error|verbose|silent.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "wgate/io/control_socket.hpp"
#include "wgate/io/event_loop.hpp"
#include "wgate/io/tun.hpp"
#include "wgate/io/udp.hpp"

namespace {

constexpr unsigned kDefaultMtu = 1420;

void usage(std::ostream& out) {
    out << "Usage: wgated [-f|--foreground] INTERFACE-NAME\n"
           "\n"
           "Creates a userspace WireGuard interface, configured with the stock `wg` tool\n"
           "through /var/run/wireguard/INTERFACE-NAME.sock.\n"
           "\n"
           "  -f, --foreground  do not daemonise (also WG_PROCESS_FOREGROUND=1)\n"
           "  -h, --help        this help\n"
           "  --version         print the version\n"
           "\n"
           "Environment: LOG_LEVEL=error (default) | verbose | silent\n";
}

spdlog::level::level_enum log_level() {
    const char* v = std::getenv("LOG_LEVEL");
    const std::string level = v ? v : "";
    if (level == "verbose" || level == "debug") return spdlog::level::debug;
    if (level == "silent") return spdlog::level::off;
    return spdlog::level::err;
}

// Forks: the parent exits 0 once the child owns everything, as wireguard-go does.
void daemonise() {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid > 0) std::_Exit(0);
    ::setsid();
    (void)!::chdir("/");
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::close(null);
    }
}

}  // namespace

int main(int argc, char** argv) {
    bool foreground = false;
    std::string ifname;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-f" || arg == "--foreground") {
            foreground = true;
        } else if (arg == "-h" || arg == "--help") {
            usage(std::cout);
            return 0;
        } else if (arg == "--version") {
            std::cout << "wgated 0.1.0\n";
            return 0;
        } else if (!arg.empty() && arg[0] == '-') {
            std::cerr << "wgated: unknown option " << arg << "\n";
            usage(std::cerr);
            return 1;
        } else if (ifname.empty()) {
            ifname = arg;
        } else {
            std::cerr << "wgated: only one interface name may be given\n";
            usage(std::cerr);
            return 1;
        }
    }
    if (ifname.empty()) {
        usage(std::cerr);
        return 1;
    }
    if (const char* env = std::getenv("WG_PROCESS_FOREGROUND"); env && std::string(env) == "1") foreground = true;

    auto logger = spdlog::stderr_logger_st("wgated");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$: (" + ifname + ") %v");
    logger->set_level(log_level());
    logger->flush_on(spdlog::level::trace);

    try {
        auto tun = wgate::io::Tun::open(ifname, kDefaultMtu);
        wgate::io::UdpSockets udp;
        udp.bind(0);
        const std::string path = wgate::io::control_socket_path(tun.name());
        auto listener = wgate::io::listen_control_socket(path);
        if (!foreground) daemonise();
        wgate::io::EventLoop loop(std::move(tun), std::move(udp), std::move(listener), path, *logger);
        return loop.run();
    } catch (const std::exception& e) {
        std::cerr << "wgated: " << e.what() << "\n";
        return 1;
    }
}
