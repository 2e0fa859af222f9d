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
#include <systemd/sd-daemon.h>

#include "gateway_mode.hpp"
#include "wgate/config/gateway_config.hpp"
#include "wgate/config/key_file.hpp"
#include "wgate/io/control_socket.hpp"
#include "wgate/io/event_loop.hpp"
#include "wgate/io/tun.hpp"
#include "wgate/io/udp.hpp"

namespace {

constexpr unsigned kDefaultMtu = 1420;

void usage(std::ostream& out) {
    out << "Usage: wgated [-f|--foreground] INTERFACE-NAME\n"
           "       wgated [-f|--foreground] --config FILE\n"
           "       wgated --check-config FILE\n"
           "\n"
           "Creates a userspace WireGuard interface, configured with the stock `wg` tool\n"
           "through /var/run/wireguard/INTERFACE-NAME.sock. With --config, also brings up\n"
           "the lab gateway the YAML file describes (addresses, routes, forwarding, NAT)\n"
           "and writes peer changes back to it.\n"
           "\n"
           "  -f, --foreground     do not daemonise (also WG_PROCESS_FOREGROUND=1)\n"
           "  --config FILE        gateway mode\n"
           "  --check-config FILE  validate FILE and its key files, change nothing\n"
           "  -h, --help           this help\n"
           "  --version            print the version\n"
           "\n"
           "Environment: LOG_LEVEL=error (default) | verbose | silent\n"
           "             WGATE_OFFLOAD=0 disables TUN TSO/checksum offload, TCP coalescing and UDP GSO/GRO\n";
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

int run_plain(const std::string& ifname, bool foreground, spdlog::logger& logger) {
    const bool offload = wgate::io::offload_requested();  // on unless WGATE_OFFLOAD=0, see tun.hpp
    auto tun = wgate::io::Tun::open(ifname, kDefaultMtu, offload);
    wgate::io::UdpSockets udp;
    if (offload) udp.enable_offload();
    udp.bind(0);
    const std::string path = wgate::io::control_socket_path(tun.name());
    auto listener = wgate::io::listen_control_socket(path);
    if (!foreground) daemonise();
    wgate::io::EventLoop loop(std::move(tun), std::move(udp), std::move(listener), path, logger);
    return loop.run();
}

int run_gateway(const std::string& config_path, bool check_only, bool foreground, spdlog::logger& logger) {
    auto config = wgate::config::load_gateway_config(config_path);
    auto keys = wgate::config::validate_files(config);
    if (check_only) {
        for (const auto& note : keys.notes) std::cout << config_path << ": note: " << note << "\n";
        std::cout << config_path << ": OK (interface " << config.interface.name << ", " << config.peers.size()
                  << " peers)\n";
        return 0;
    }
    const std::string& ifname = config.interface.name;
    logger.set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$: (" + ifname + ") %v");
    if (!keys.private_key) {
        wgate::crypto::SystemRandom random;
        keys.private_key = wgate::config::create_private_key_file(keys.private_key_path, random);
        logger.warn("Generated a new private key in {}", keys.private_key_path);
    }
    const auto leftovers = wgate::io::GatewayHost::clean_leftovers(ifname);
    for (const auto& d : leftovers.done) logger.warn("Cleaned up after a previous run: {}", d);
    for (const auto& f : leftovers.failed) logger.error("Could not clean up after a previous run: {}", f);

    const bool offload = wgate::io::offload_requested();  // on unless WGATE_OFFLOAD=0, see tun.hpp
    auto tun = wgate::io::Tun::open(ifname, config.interface.mtu, offload);
    wgate::io::UdpSockets udp;
    if (offload) udp.enable_offload();
    udp.bind(config.interface.listen_port);
    const std::string path = wgate::io::control_socket_path(tun.name());
    auto listener = wgate::io::listen_control_socket(path);
    if (!foreground) daemonise();
    wgate::io::EventLoop loop(std::move(tun), std::move(udp), std::move(listener), path, logger);
    wgate::daemon::GatewayMode gateway(loop, std::move(config), std::move(keys));
    try {
        gateway.start();
    } catch (const std::exception& e) {
        logger.error("Starting the gateway failed: {}", e.what());
        gateway.stop();
        throw;
    }
    sd_notify(0, "READY=1");
    const int rc = loop.run();
    sd_notify(0, "STOPPING=1");
    gateway.stop();
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    bool foreground = false;
    bool check_only = false;
    std::string ifname;
    std::string config_path;
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
        } else if (arg == "--config" || arg == "--check-config") {
            if (i + 1 >= argc) {
                std::cerr << "wgated: " << arg << " needs a file name\n";
                return 1;
            }
            check_only = arg == "--check-config";
            config_path = argv[++i];
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
    if (ifname.empty() == config_path.empty()) {
        if (!ifname.empty()) std::cerr << "wgated: give an interface name or --config, not both\n";
        usage(std::cerr);
        return 1;
    }
    if (const char* env = std::getenv("WG_PROCESS_FOREGROUND"); env && std::string(env) == "1") foreground = true;

    auto logger = spdlog::stderr_logger_st("wgated");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$: (" + ifname + ") %v");
    logger->set_level(log_level());
    logger->flush_on(spdlog::level::trace);

    try {
        if (!config_path.empty()) return run_gateway(config_path, check_only, foreground, *logger);
        return run_plain(ifname, foreground, *logger);
    } catch (const std::exception& e) {
        std::cerr << "wgated: " << e.what() << "\n";
        return 1;
    }
}
