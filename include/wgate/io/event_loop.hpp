// The IO shell of wgated: one thread, Boost.Asio readiness on the TUN, the UDP
// sockets, rtnetlink and the control socket; all protocol work is handed to
// the sans-IO core::Device in batches, and what it returns is sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>

#include "wgate/control/uapi.hpp"
#include "wgate/core/device.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/io/event_log.hpp"
#include "wgate/io/fd.hpp"
#include "wgate/io/link_monitor.hpp"
#include "wgate/io/tso.hpp"
#include "wgate/io/tun.hpp"
#include "wgate/io/udp.hpp"

namespace spdlog {
class logger;
}

namespace wgate::io {

core::Now now();

// Gateway mode's part of the control protocol: get=wgate information,
// disabled peers, and its rules for what a set may change.
class ControlHooks {
public:
    virtual ~ControlHooks() = default;
    virtual void append_interface_extension(std::string& out) const = 0;
    virtual void append_disabled_peers(std::string& out) const = 0;
    virtual std::optional<control::UapiError> disable_peer(const core::Peer* current,
                                                           const control::PeerChange& config) = 0;
    virtual std::optional<control::PeerChange> take_disabled_peer(const crypto::PublicKey& key) = 0;
    virtual std::optional<control::UapiError> check_set(const core::Device& device,
                                                        const control::SetRequest& request) const = 0;
};

class EventLoop : public control::Host {
public:
    // Takes over the TUN, the bound UDP sockets and the listening control socket.
    EventLoop(Tun tun, UdpSockets udp, Fd control_listener, std::string control_path, spdlog::logger& logger);
    ~EventLoop() override;

    // Runs until SIGINT/SIGTERM, deletion of the interface or of the control
    // socket file. Returns the process exit code.
    int run();
    void stop(const std::string& why);

    core::Device& device() { return device_; }
    boost::asio::io_context& io() { return io_; }
    spdlog::logger& logger() { return logger_; }
    // Runs `change` on the device and sends whatever it produced.
    void with_device(const std::function<void(core::Device&, core::Now, core::Outputs&)>& change);

    // Runs after every control-socket `set` that succeeded (gateway mode persists here).
    std::function<void()> on_configuration_changed;
    // SIGHUP (gateway mode reloads its file); ignored when unset.
    std::function<void()> on_reload;

    using PeerNames = std::unordered_map<crypto::PublicKey, std::string, core::Device::KeyHash>;
    const PeerNames& peer_names() const { return names_; }

    // control::Host
    std::uint16_t listen_port() const override { return udp_.port(); }
    std::optional<control::UapiError> set_listen_port(std::uint16_t port) override;
    std::uint32_t fwmark() const override { return udp_.fwmark(); }
    std::optional<control::UapiError> set_fwmark(std::uint32_t mark) override;
    std::optional<std::string> peer_name(const crypto::PublicKey& key) const override;
    void set_peer_name(const crypto::PublicKey& key, const std::optional<std::string>& name) override;
    std::optional<control::UapiError> check_set(const core::Device& device,
                                                const control::SetRequest& request) const override;
    void append_interface_extension(std::string& out) const override;
    void append_disabled_peers(std::string& out) const override;
    std::optional<control::UapiError> disable_peer(const core::Peer* current, const control::PeerChange& config) override;
    std::optional<control::PeerChange> take_disabled_peer(const crypto::PublicKey& key) override;
    void set_control_hooks(ControlHooks* hooks) { hooks_ = hooks; }

    // Sends what a control request produced and reports configuration changes.
    void after_control(bool configuration_changed);

private:
    class ControlConnection;

    void wait_tun();
    // (Re)creates the readiness watches on the current UDP sockets.
    void watch_udp_sockets();
    void wait_udp();
    void wait_udp_on(boost::asio::posix::stream_descriptor& watch, int fd, unsigned generation);
    void wait_netlink();
    void wait_control();
    void on_tun_readable();
    // One batch; true when it was full (more may be queued).
    bool on_udp_readable(int fd);
    void read_udp(boost::asio::posix::stream_descriptor& watch, int fd, unsigned generation);
    void flush();
    void arm_timer();
    void probe();
    void set_link_up(bool up);
    void wait_signals();

    boost::asio::io_context io_;
    crypto::SystemRandom random_;
    core::Device device_;
    core::Outputs out_;
    spdlog::logger& logger_;
    EventLog event_log_;

    Tun tun_;
    UdpSockets udp_;
    LinkMonitor link_monitor_;
    std::string control_path_;
    ino_t control_inode_ = 0;

    boost::asio::posix::stream_descriptor tun_watch_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> udp4_watch_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> udp6_watch_;
    boost::asio::posix::stream_descriptor netlink_watch_;
    boost::asio::local::stream_protocol::acceptor control_acceptor_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer probe_timer_;
    std::optional<core::Duration> timer_at_;

    std::vector<std::vector<std::uint8_t>> tun_buffers_;
    std::vector<std::size_t> tun_sizes_;
    std::vector<std::span<const std::uint8_t>> tun_spans_;
    TsoSplitter tso_;  // offload path: TUN reads carry a vnet header and may be super-packets
    TunCoalescer coalescer_;  // offload path: decrypted TCP segments go to the TUN merged
    std::vector<std::span<const std::uint8_t>> to_tun_spans_;
    std::vector<TunCoalescer::Item> to_tun_items_;
    std::vector<core::ReceivedDatagram> received_;
    std::vector<core::IpAddress> lost_sources_;
    PeerNames names_;
    ControlHooks* hooks_ = nullptr;
    unsigned generation_ = 0;  // bumps when the UDP sockets are replaced
    bool up_ = false;
    int exit_code_ = 0;
};

}  // namespace wgate::io
