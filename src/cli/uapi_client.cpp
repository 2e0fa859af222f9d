#include "wgate/cli/uapi_client.hpp"

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "wgate/cli/error.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::cli {
namespace {

constexpr int kAnswerTimeoutMs = 10'000;
constexpr std::size_t kMaxAnswerBytes = 64u << 20;  // a get of 130,000 allowed IPs is ~4 MB

class FdGuard {
public:
    explicit FdGuard(int fd) : fd_(fd) {}
    ~FdGuard() {
        if (fd_ >= 0) ::close(fd_);
    }
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

template <class Int>
std::optional<Int> parse_number(std::string_view text) {
    Int value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

CliError malformed(std::string_view line) {
    return runtime_error("the daemon sent an answer wgate does not understand (line \"" +
                         std::string(line.substr(0, 80)) + "\"): are wgate and wgated the same version?");
}

std::string errno_text(int e) { return std::strerror(e); }

// Connects to a Unix stream socket; returns the fd or -errno.
int connect_unix(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return -ENAMETOOLONG;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) {
        const int e = errno;
        ::close(fd);
        return -e;
    }
    return fd;
}

}  // namespace

std::string short_key(const crypto::PublicKey& key) {
    const std::string b64 = crypto::key_to_base64(key);
    return b64.substr(0, 4) + "\u2026" + b64.substr(39, 4);
}

std::string key_text(const crypto::PublicKey& key) { return crypto::key_to_base64(key); }

std::string public_key_line(const crypto::PublicKey& key) { return "public_key=" + crypto::key_to_hex(key) + "\n"; }

std::string PeerInfo::label() const { return name.empty() ? short_key(public_key) : name; }

const PeerInfo* DeviceInfo::find_by_name(std::string_view wanted) const {
    const PeerInfo* found = nullptr;
    for (const PeerInfo& p : peers) {
        if (p.name != wanted) continue;
        if (found) {
            throw runtime_error("two peers are named '" + std::string(wanted) + "' (" + key_text(found->public_key) +
                                ", " + key_text(p.public_key) + "): use the public key, and rename one: "
                                "wgate peer rename PUBLIC_KEY NEW_NAME");
        }
        found = &p;
    }
    return found;
}

const PeerInfo* DeviceInfo::find_by_key(const crypto::PublicKey& key) const {
    for (const PeerInfo& p : peers) {
        if (p.public_key == key) return &p;
    }
    return nullptr;
}

const PeerInfo* DeviceInfo::find_peer(std::string_view name_or_key) const {
    if (const PeerInfo* p = find_by_name(name_or_key)) return p;
    if (const auto key = crypto::key_from_base64(name_or_key)) return find_by_key(*key);
    return nullptr;
}

std::vector<core::IpPrefix> DeviceInfo::used_prefixes() const {
    std::vector<core::IpPrefix> used;
    for (const PeerInfo& p : peers) used.insert(used.end(), p.allowed_ips.begin(), p.allowed_ips.end());
    return used;
}

DeviceInfo parse_get_reply(std::string_view reply, std::string ifname) {
    DeviceInfo info;
    info.ifname = std::move(ifname);
    PeerInfo* peer = nullptr;
    std::optional<int> status;
    std::size_t pos = 0;
    while (pos < reply.size()) {
        auto nl = reply.find('\n', pos);
        if (nl == std::string_view::npos) nl = reply.size();
        const std::string_view line = reply.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty()) break;  // the blank line ends the answer
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) throw malformed(line);
        const std::string_view key = line.substr(0, eq);
        const std::string_view value = line.substr(eq + 1);

        if (key == "errno") {
            status = parse_number<int>(value);
            if (!status) throw malformed(line);
            continue;
        }
        if (key == "public_key") {
            const auto k = crypto::key_from_hex(value);
            if (!k) throw malformed(line);
            peer = &info.peers.emplace_back();
            peer->public_key = *k;
            continue;
        }
        if (!peer) {
            if (key == "private_key") {
                // Only the public half is kept: the private key is zeroed here.
                auto bytes = crypto::key_from_hex(value);
                if (!bytes) throw malformed(line);
                crypto::PrivateKey private_key(*bytes);
                crypto::secure_zero(bytes->data(), bytes->size());
                info.public_key = crypto::public_key_of(private_key);
            } else if (key == "listen_port") {
                const auto v = parse_number<std::uint16_t>(value);
                if (!v) throw malformed(line);
                info.listen_port = *v;
            } else if (key == "fwmark") {
                const auto v = parse_number<std::uint32_t>(value);
                if (!v) throw malformed(line);
                info.fwmark = *v;
            } else if (key == "wgate_mode") {
                info.wgated = true;
                info.mode = std::string(value);
            } else if (key == "wgate_address") {
                const auto a = InterfaceAddress::parse(value);
                if (!a) throw malformed(line);
                info.addresses.push_back(*a);
            } else if (key == "wgate_public_endpoint") {
                info.public_endpoint = std::string(value);
            } else if (key == "wgate_lan_route") {
                const auto p = core::IpPrefix::parse(value);
                if (!p) throw malformed(line);
                info.lan_routes.push_back(*p);
            } else if (key == "wgate_dns") {
                const auto a = core::IpAddress::parse(value);
                if (!a) throw malformed(line);
                info.dns.push_back(*a);
            } else if (key == "wgate_keepalive") {
                info.keepalive = parse_number<std::uint16_t>(value);
                if (!info.keepalive) throw malformed(line);
            } else if (key == "wgate_masquerade") {
                if (value != "true" && value != "false") throw malformed(line);
                info.masquerade = value == "true";
            } else if (key == "wgate_egress") {
                info.egress = std::string(value);
            } else if (key == "wgate_config") {
                info.config_path = std::string(value);
            } else if (key == "wgate_mtu") {
                info.mtu = parse_number<unsigned>(value);
                if (!info.mtu) throw malformed(line);
            } else if (key == "wgate_dropped") {
                const auto colon = value.rfind(':');
                if (colon == std::string_view::npos) throw malformed(line);
                const auto n = parse_number<std::uint64_t>(value.substr(colon + 1));
                if (!n) throw malformed(line);
                info.dropped[std::string(value.substr(0, colon))] = *n;
            }
            continue;  // unknown interface keys: a newer daemon
        }
        if (key == "name") {
            peer->name = std::string(value);
        } else if (key == "preshared_key") {
            auto bytes = crypto::key_from_hex(value);
            if (!bytes) throw malformed(line);
            crypto::PresharedKey psk(*bytes);
            crypto::secure_zero(bytes->data(), bytes->size());
            if (!psk.is_zero()) peer->preshared_key = psk;
        } else if (key == "endpoint") {
            peer->endpoint = std::string(value);
        } else if (key == "last_handshake_time_sec") {
            const auto v = parse_number<std::int64_t>(value);
            if (!v) throw malformed(line);
            peer->last_handshake_sec = *v;
        } else if (key == "last_handshake_time_nsec") {
            const auto v = parse_number<std::int64_t>(value);
            if (!v) throw malformed(line);
            peer->last_handshake_nsec = *v;
        } else if (key == "rx_bytes") {
            const auto v = parse_number<std::uint64_t>(value);
            if (!v) throw malformed(line);
            peer->rx_bytes = *v;
        } else if (key == "tx_bytes") {
            const auto v = parse_number<std::uint64_t>(value);
            if (!v) throw malformed(line);
            peer->tx_bytes = *v;
        } else if (key == "persistent_keepalive_interval") {
            const auto v = parse_number<std::uint16_t>(value);
            if (!v) throw malformed(line);
            peer->persistent_keepalive = *v;
        } else if (key == "allowed_ip") {
            const auto p = core::IpPrefix::parse(value);
            if (!p) throw malformed(line);
            peer->allowed_ips.push_back(*p);
        } else if (key == "wgate_last_rejection") {
            peer->last_rejection = std::string(value);
        } else if (key == "wgate_disabled") {
            peer->disabled = value == "true";
        }
    }
    if (!status) throw runtime_error("the daemon's answer ended early: try again; if it persists, see the daemon's log");
    if (*status != 0) {
        throw runtime_error("the daemon answered a get request with an error (" + errno_text(-*status) +
                            "): see its log (LOG_LEVEL=verbose)");
    }
    // Enabled first (the daemon's order), then disabled ones: a daemon lists them so anyway.
    std::stable_partition(info.peers.begin(), info.peers.end(), [](const PeerInfo& p) { return !p.disabled; });
    return info;
}

SocketControlClient::SocketControlClient(std::string ifname, std::string socket_dir)
    : ifname_(std::move(ifname)), path_(std::move(socket_dir) + "/" + ifname_ + ".sock") {}

std::string SocketControlClient::exchange(std::string_view request) {
    const int fd = connect_unix(path_);
    if (fd < 0) {
        const int e = -fd;
        if (e == ENOENT || e == ECONNREFUSED) {
            throw runtime_error("interface " + ifname_ + " is not running (nothing answers on " + path_ +
                                "): start it with `wgated " + ifname_ + "` or `wgated --config FILE`");
        }
        if (e == EACCES || e == EPERM) {
            throw runtime_error("permission denied on " + path_ + ": run as root (sudo wgate ...)");
        }
        throw runtime_error("cannot connect to " + path_ + ": " + errno_text(e));
    }
    FdGuard guard(fd);
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw runtime_error("the daemon of " + ifname_ + " closed the connection (" + errno_text(errno) +
                                "): see its log");
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string answer;
    answer.reserve(1u << 16);  // few reallocations: each would leave a copy of the key behind
    char buffer[65536];
    for (;;) {
        // An answer ends with its blank line; nothing else in it is empty.
        if (answer.size() >= 2 && answer.compare(answer.size() - 2, 2, "\n\n") == 0) break;
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, kAnswerTimeoutMs);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            throw runtime_error("the daemon of " + ifname_ + " did not answer within 10 s: is it stuck? see its log");
        }
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ECONNRESET) break;
            throw runtime_error("reading from " + path_ + ": " + errno_text(errno));
        }
        if (n == 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
        if (answer.size() > kMaxAnswerBytes) throw runtime_error("the daemon's answer is larger than 64 MiB");
    }
    crypto::secure_zero(buffer, sizeof buffer);  // it held the private key of a get answer
    return answer;
}

DeviceInfo get_device(ControlClient& client, const std::string& ifname) {
    std::string answer = client.exchange("get=wgate\n\n");
    if (answer.empty()) {
        throw runtime_error(ifname + " is not served by wgated (it does not know get=wgate; wireguard-go?): "
                            "use `wg show " + ifname + "`");
    }
    DeviceInfo info = parse_get_reply(answer, ifname);
    wipe_string(answer);  // it held the private key
    if (!info.wgated) {
        throw runtime_error(ifname + " answered without wgate extensions: wgated is older than this wgate; "
                            "update and restart it");
    }
    return info;
}

int set_device(ControlClient& client, std::string_view lines) {
    std::string request = "set=1\n";
    request += lines;
    request += '\n';
    std::string answer = client.exchange(request);
    wipe_string(request);  // it may hold a preshared key
    const std::string_view prefix = "errno=";
    if (answer.compare(0, prefix.size(), prefix) != 0) {
        throw runtime_error("the daemon closed the connection without answering the change: see its log");
    }
    const auto nl = answer.find('\n');
    const auto value = parse_number<int>(std::string_view(answer).substr(prefix.size(), nl - prefix.size()));
    if (!value) throw malformed(answer);
    return -*value;
}

bool valid_interface_name(std::string_view name) {
    if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
    for (const char c : name) {
        if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) return false;
    }
    return true;
}

std::vector<std::string> running_interfaces(const std::string& socket_dir) {
    std::vector<std::string> running;
    DIR* dir = ::opendir(socket_dir.c_str());
    if (!dir) return running;
    bool denied = false;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string file = entry->d_name;
        constexpr std::string_view suffix = ".sock";
        if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string ifname = file.substr(0, file.size() - suffix.size());
        if (!valid_interface_name(ifname)) continue;
        const int fd = connect_unix(socket_dir + "/" + file);
        if (fd >= 0) {
            ::close(fd);
            running.push_back(ifname);
        } else if (fd == -EACCES || fd == -EPERM) {
            denied = true;
        }
    }
    ::closedir(dir);
    if (running.empty() && denied) {
        throw runtime_error("permission denied on the sockets in " + socket_dir + ": run as root (sudo wgate ...)");
    }
    std::sort(running.begin(), running.end());
    return running;
}

std::string choose_interface(const std::optional<std::string>& requested,
                             const std::function<std::vector<std::string>()>& list_running) {
    if (requested) {
        if (!valid_interface_name(*requested))
            throw usage_error("'" + *requested + "' is not a valid interface name (at most 15 characters, no '/')");
        return *requested;
    }
    const std::vector<std::string> running = list_running();
    if (running.empty()) {
        throw runtime_error("no wgated interface is running: start one (`wgated wg0` or `wgated --config FILE`), "
                            "or name it with -i IFNAME");
    }
    if (running.size() > 1) {
        std::string names;
        for (const std::string& n : running) names += (names.empty() ? "" : ", ") + n;
        throw usage_error("several interfaces are running (" + names + "): pick one with -i IFNAME");
    }
    return running.front();
}

}  // namespace wgate::cli
