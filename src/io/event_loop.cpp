#include "wgate/io/event_loop.hpp"

#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "wgate/noise/messages.hpp"

namespace wgate::io {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t kTunBatch = 64;
// With TUN offloads one read may be a 64 KiB super-packet (~45 segments):
// 4 of them are well under a millisecond of work per turn. 1 cost ~8 % of
// wgate->wireguard-go throughput; 16 (with 8 rounds) let ping replies and ACKs
// wait behind up to 8 MiB.
constexpr std::size_t kTunBatchOffload = 4;
constexpr auto kProbeInterval = std::chrono::seconds(1);

ino_t inode_of(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

int dup_fd(int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) throw std::system_error(errno, std::generic_category(), "dup");
    return copy;
}

bool is_handshake(std::span<const std::uint8_t> bytes) {
    const auto type = noise::message_type_of(bytes);
    return type == static_cast<std::uint32_t>(noise::MessageType::initiation) ||
           type == static_cast<std::uint32_t>(noise::MessageType::response);
}

}  // namespace

core::Now now() {
    using namespace std::chrono;
    return {duration_cast<core::Duration>(steady_clock::now().time_since_epoch()),
            duration_cast<core::Duration>(system_clock::now().time_since_epoch())};
}

// One client of the control socket: bytes in, UAPI replies out.
class EventLoop::ControlConnection : public std::enable_shared_from_this<ControlConnection> {
public:
    ControlConnection(EventLoop& loop, asio::local::stream_protocol::socket socket)
        : loop_(loop), socket_(std::move(socket)), session_(loop.device_, loop, &io::now, loop.out_) {}

    void start() { read(); }

    // A big set (thousands of peers) leaves its parsed request behind as free
    // heap in between the peers it created, which glibc keeps mapped: give
    // those pages back once such a client is done.
    ~ControlConnection() {
        if (bytes_in_ >= kTrimAfterBytes) malloc_trim(0);
    }

private:
    using Status = control::Session::Status;
    static constexpr std::size_t kTrimAfterBytes = std::size_t{1} << 20;

    void read() {
        socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](error_code ec, std::size_t n) {
            self->reply_.clear();
            const auto sets_before = self->session_.sets_applied();
            Status status;
            if (ec) {
                // The client closed its side: a pending set is still applied and answered.
                if (ec != asio::error::eof) return;
                status = self->session_.finish(self->reply_);
            } else {
                self->bytes_in_ += n;
                status = self->session_.feed({self->buffer_.data(), n}, self->reply_);
            }
            self->loop_.after_control(self->session_.sets_applied() != sets_before);
            self->write(status);
        });
    }

    void write(Status status) {
        if (reply_.empty()) {
            if (status == Status::close) return;
            return read();
        }
        asio::async_write(socket_, asio::buffer(reply_), [self = shared_from_this(), status](error_code ec, std::size_t) {
            if (ec || status == Status::close) return;
            self->read();
        });
    }

    EventLoop& loop_;
    asio::local::stream_protocol::socket socket_;
    control::Session session_;
    std::array<char, 65536> buffer_{};
    std::string reply_;
    std::size_t bytes_in_ = 0;
};

EventLoop::EventLoop(Tun tun, UdpSockets udp, Fd control_listener, std::string control_path, spdlog::logger& logger)
    : device_(random_),
      logger_(logger),
      event_log_(logger),
      tun_(std::move(tun)),
      udp_(std::move(udp)),
      link_monitor_(tun_.ifindex()),
      control_path_(std::move(control_path)),
      tun_watch_(io_, dup_fd(tun_.fd())),
      netlink_watch_(io_, dup_fd(link_monitor_.fd())),
      control_acceptor_(io_),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      timer_(io_),
      probe_timer_(io_),
      tun_buffers_(tun_.vnet_hdr() ? kTunBatchOffload : kTunBatch,
                   std::vector<std::uint8_t>(65536 + (tun_.vnet_hdr() ? kVnetHdrSize : 0))) {
    control_acceptor_.assign(asio::local::stream_protocol(), control_listener.release());
    control_inode_ = inode_of(control_path_);
    coalescer_.set_udp(tun_.uso());
    if (const unsigned mtu = interface_mtu(tun_.name())) device_.set_mtu(mtu);
    watch_udp_sockets();
    // The TUN starts down; rtnetlink tells us when it comes up.
    up_ = interface_up(tun_.name());
    device_.set_up(up_, now(), out_);
}

EventLoop::~EventLoop() {
    // Only remove the socket file if it is still ours (not a successor's).
    if (control_inode_ && inode_of(control_path_) == control_inode_) ::unlink(control_path_.c_str());
}

int EventLoop::run() {
    wait_signals();
    wait_tun();
    wait_udp();
    wait_netlink();
    wait_control();
    probe();
    logger_.info("Interface {} is running (UDP port {})", tun_.name(), udp_.port());
    io_.run();
    logger_.info("Offload: {} TUN super-packets split; {} TCP segments and {} UDP datagrams merged into "
                 "TUN super-packets; {} datagrams sent by UDP GSO, {} received by UDP GRO",
                 tso_.super_packets(), coalescer_.merged_tcp(), coalescer_.merged_udp(), udp_.gso_datagrams(),
                 udp_.gro_datagrams());
    return exit_code_;
}

void EventLoop::wait_signals() {
    signals_.async_wait([this](error_code ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
            if (on_reload) {
                logger_.info("Received SIGHUP: reloading the configuration");
                on_reload();
            }
            return wait_signals();
        }
        stop(signal == SIGINT ? "received SIGINT" : "received SIGTERM");
    });
}

void EventLoop::with_device(const std::function<void(core::Device&, core::Now, core::Outputs&)>& change) {
    change(device_, now(), out_);
    flush();
}

std::optional<std::string> EventLoop::peer_name(const crypto::PublicKey& key) const {
    const auto it = names_.find(key);
    if (it == names_.end()) return std::nullopt;
    return it->second;
}

void EventLoop::set_peer_name(const crypto::PublicKey& key, const std::optional<std::string>& name) {
    if (name && !name->empty())
        names_[key] = *name;
    else
        names_.erase(key);
}

std::optional<control::UapiError> EventLoop::check_set(const core::Device& device,
                                                       const control::SetRequest& request) const {
    return hooks_ ? hooks_->check_set(device, request) : control::Host::check_set(device, request);
}

void EventLoop::append_interface_extension(std::string& out) const {
    if (hooks_) hooks_->append_interface_extension(out);
}

void EventLoop::append_disabled_peers(std::string& out) const {
    if (hooks_) hooks_->append_disabled_peers(out);
}

std::optional<control::UapiError> EventLoop::disable_peer(const core::Peer* current,
                                                          const control::PeerChange& config) {
    return hooks_ ? hooks_->disable_peer(current, config) : control::Host::disable_peer(current, config);
}

std::optional<control::PeerChange> EventLoop::take_disabled_peer(const crypto::PublicKey& key) {
    return hooks_ ? hooks_->take_disabled_peer(key) : std::nullopt;
}

void EventLoop::stop(const std::string& why) {
    logger_.info("Shutting down: {}", why);
    io_.stop();
}

void EventLoop::wait_tun() {
    tun_watch_.async_wait(asio::posix::stream_descriptor::wait_read, [this](error_code ec) {
        if (!ec) on_tun_readable();
    });
}

// One batch per turn: the other direction (TCP ACKs, ping replies) waits in
// the UDP socket while we work here, so the loop goes round between them. A
// full batch means more is queued: read again after the handlers that are
// ready now (asio's epoll is edge-triggered: waiting could strand packets).
void EventLoop::on_tun_readable() {
    std::size_t n = 0;
    try {
        n = tun_.read_batch(tun_buffers_, tun_sizes_);
    } catch (const std::system_error& e) {
        if (e.code().value() == EBADFD) return stop("interface " + tun_.name() + " was deleted");
        logger_.error("{}", e.what());
        exit_code_ = 1;
        return stop("TUN read failed");
    }
    if (n > 0) {
        tun_spans_.clear();
        if (tun_.vnet_hdr()) {
            // Segments live in tso_'s arena until the next batch.
            tso_.reset();
            for (std::size_t i = 0; i < n; ++i) tso_.split({tun_buffers_[i].data(), tun_sizes_[i]}, tun_spans_);
        } else {
            for (std::size_t i = 0; i < n; ++i) tun_spans_.emplace_back(tun_buffers_[i].data(), tun_sizes_[i]);
        }
        device_.on_tun_packets(tun_spans_, now(), out_);
        flush();
    }
    if (n == tun_buffers_.size())
        asio::post(io_, [this] { on_tun_readable(); });
    else
        wait_tun();
}

void EventLoop::watch_udp_sockets() {
    const auto watch = [this](int fd) {
        return fd >= 0 ? std::make_unique<asio::posix::stream_descriptor>(io_, dup_fd(fd)) : nullptr;
    };
    udp4_watch_ = watch(udp_.fd4());
    udp6_watch_ = watch(udp_.fd6());
}

void EventLoop::wait_udp() {
    if (udp4_watch_) wait_udp_on(*udp4_watch_, udp_.fd4(), generation_);
    if (udp6_watch_) wait_udp_on(*udp6_watch_, udp_.fd6(), generation_);
}

void EventLoop::wait_udp_on(asio::posix::stream_descriptor& watch, int fd, unsigned generation) {
    watch.async_wait(asio::posix::stream_descriptor::wait_read, [this, &watch, fd, generation](error_code ec) {
        if (!ec) read_udp(watch, fd, generation);
    });
}

// As on_tun_readable: a full batch reads again after the handlers ready now.
void EventLoop::read_udp(asio::posix::stream_descriptor& watch, int fd, unsigned generation) {
    // The sockets may have been replaced (listen port change) in between.
    if (generation != generation_) return;
    if (on_udp_readable(fd) && generation == generation_)
        asio::post(io_, [this, &watch, fd, generation] { read_udp(watch, fd, generation); });
    else if (generation == generation_)
        wait_udp_on(watch, fd, generation);
}

bool EventLoop::on_udp_readable(int fd) {
    const std::size_t reads = udp_.receive(fd, received_);
    const bool full = reads == UdpSockets::kBatch;
    if (reads == 0 || !up_) return full;
    // A full batch means more is queued: count its handshakes twice
    // towards the "under load" threshold.
    std::size_t handshakes = 0;
    if (full)
        for (const auto& d : received_) handshakes += is_handshake(d.bytes);
    device_.set_handshake_backlog(handshakes);
    device_.on_datagrams(received_, now(), out_);
    flush();
    return full;
}

void EventLoop::flush() {
    lost_sources_.clear();
    if (!out_.to_network.empty()) udp_.send(out_.to_network, lost_sources_);
    for (const auto& address : lost_sources_) device_.forget_local_address(address);
    if (tun_.vnet_hdr() && out_.to_tun.size() > 1) {
        to_tun_spans_.clear();
        for (const auto& packet : out_.to_tun) to_tun_spans_.emplace_back(packet.bytes);
        to_tun_items_.clear();
        coalescer_.reset();
        coalescer_.coalesce(to_tun_spans_, to_tun_items_);
        for (const auto& item : to_tun_items_) tun_.write(item.hdr, item.bytes);
    } else {
        for (const auto& packet : out_.to_tun) tun_.write(packet.bytes);
    }
    if (!out_.events.empty()) {
        const auto t = now().mono;
        for (const auto& e : out_.events) event_log_.log(e, t);
    }
    out_.clear();
    arm_timer();
}

void EventLoop::arm_timer() {
    const auto next = device_.next_deadline();
    if (next == timer_at_) return;
    timer_at_ = next;
    if (!next) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(*next)));
    timer_.async_wait([this](error_code ec) {
        if (ec) return;
        timer_at_.reset();
        device_.tick(now(), out_);
        flush();
    });
}

void EventLoop::wait_netlink() {
    netlink_watch_.async_wait(asio::posix::stream_descriptor::wait_read, [this](error_code ec) {
        if (ec) return;
        if (auto state = link_monitor_.read()) {
            if (state->mtu && state->mtu != device_.mtu()) {
                logger_.info("MTU of {} is now {}", tun_.name(), state->mtu);
                device_.set_mtu(state->mtu);
            }
            if (state->removed) {
                if (!tun_.exists()) return stop("interface " + tun_.name() + " was deleted");
                // Moved to another namespace, where we cannot see its state:
                // keep serving it as up, as wireguard-go does.
                logger_.info("Interface {} moved to another network namespace", tun_.name());
                set_link_up(true);
            } else {
                set_link_up(state->up);
            }
        }
        wait_netlink();
    });
}

void EventLoop::set_link_up(bool up) {
    if (up == up_) return;
    up_ = up;
    logger_.info("Interface {} is {}", tun_.name(), up_ ? "up" : "down");
    device_.set_up(up_, now(), out_);
    flush();
}

void EventLoop::probe() {
    if (!tun_.exists()) return stop("interface " + tun_.name() + " was deleted");
    if (inode_of(control_path_) != control_inode_) {
        control_inode_ = 0;  // not ours any more: do not remove it on exit
        return stop("control socket " + control_path_ + " was removed");
    }
    probe_timer_.expires_after(kProbeInterval);
    probe_timer_.async_wait([this](error_code ec) {
        if (!ec) probe();
    });
}

void EventLoop::wait_control() {
    control_acceptor_.async_accept([this](error_code ec, asio::local::stream_protocol::socket socket) {
        if (!ec) std::make_shared<ControlConnection>(*this, std::move(socket))->start();
        if (ec != asio::error::operation_aborted) wait_control();
    });
}

void EventLoop::after_control(bool configuration_changed) {
    flush();
    if (configuration_changed && on_configuration_changed) on_configuration_changed();
}

std::optional<control::UapiError> EventLoop::set_listen_port(std::uint16_t port) {
    if (port != 0 && port == udp_.port()) return std::nullopt;
    if (const int err = udp_.rebind(port))
        return control::UapiError{err, "cannot listen on UDP port " + std::to_string(port) + ": " + std::strerror(err)};
    ++generation_;
    watch_udp_sockets();
    wait_udp();
    logger_.info("Listening on UDP port {}", udp_.port());
    return std::nullopt;
}

std::optional<control::UapiError> EventLoop::set_fwmark(std::uint32_t mark) {
    if (const int err = udp_.set_fwmark(mark))
        return control::UapiError{err, std::string("cannot set fwmark: ") + std::strerror(err)};
    return std::nullopt;
}

}  // namespace wgate::io
