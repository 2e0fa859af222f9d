// The CLI's side of the control socket /var/run/wireguard/IFNAME.sock: find
// the running interfaces, send get=wgate / set=1 requests, and read a get
// answer (with wgated's wgate_* extension lines, see control/uapi.hpp) into
// plain values. `wgate` talks to the daemon only through this.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wgate/cli/address_pool.hpp"
#include "wgate/core/ip.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::cli {

inline constexpr const char* kDefaultSocketDir = "/var/run/wireguard";

struct PeerInfo {
    crypto::PublicKey public_key{};
    std::string name;                                   // "" when unnamed
    std::optional<crypto::PresharedKey> preshared_key;  // only when set (non-zero)
    std::string endpoint;                               // as the daemon prints it; "" when unknown
    std::int64_t last_handshake_sec = 0;                // unix time; 0 = never
    std::int64_t last_handshake_nsec = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_bytes = 0;
    std::uint16_t persistent_keepalive = 0;
    std::vector<core::IpPrefix> allowed_ips;
    std::string last_rejection;  // core::key_of(Reason), "" when none
    bool disabled = false;

    // "laptop", or the abbreviated key "AbCd…wXyZ=" for a peer without a name.
    std::string label() const;
};

struct DeviceInfo {
    std::string ifname;
    // Derived from the private key of the answer, which is zeroed at once.
    std::optional<crypto::PublicKey> public_key;
    std::uint16_t listen_port = 0;
    std::uint32_t fwmark = 0;
    bool wgated = false;   // the answer carried wgate_* lines
    std::string mode = "plain";  // "gateway" | "plain"
    std::vector<InterfaceAddress> addresses;  // the pool; empty in plain mode
    std::string public_endpoint;              // host:port; "" when not configured
    std::vector<core::IpPrefix> lan_routes;
    std::vector<core::IpAddress> dns;
    std::optional<std::uint16_t> keepalive;   // for clients
    std::optional<bool> masquerade;
    std::string egress;
    std::string config_path;
    std::optional<unsigned> mtu;
    std::map<std::string, std::uint64_t> dropped;  // reason key -> count (non-zero ones)
    std::vector<PeerInfo> peers;                   // enabled in the daemon's order, then disabled

    bool gateway() const { return mode == "gateway"; }
    // By name, else by base64 public key; nullptr when neither matches. Throws
    // CliError when a name is ambiguous (two peers named alike through `wg`).
    const PeerInfo* find_peer(std::string_view name_or_key) const;
    const PeerInfo* find_by_name(std::string_view name) const;
    const PeerInfo* find_by_key(const crypto::PublicKey& key) const;
    // Every allowed IP of every peer, enabled or disabled.
    std::vector<core::IpPrefix> used_prefixes() const;
};

// Reads a get=1 / get=wgate answer (up to and including "errno=N\n\n").
// Unknown keys are skipped, so a newer daemon still works. Throws CliError
// (runtime) on errno != 0 or a malformed answer.
DeviceInfo parse_get_reply(std::string_view reply, std::string ifname = {});

// One request to one daemon.
class ControlClient {
public:
    virtual ~ControlClient() = default;
    // Sends `request` ("get=wgate\n\n", "set=1\n...\n\n") and returns the answer
    // up to and including its blank line; "" when the daemon closed the
    // connection without one (an unknown command: wireguard-go on get=wgate).
    virtual std::string exchange(std::string_view request) = 0;
};

// The Unix socket of one interface; one connection per exchange, as `wg`
// does. Connection failures throw CliError (runtime) with the fix: not
// running, permission denied (run as root), no answer.
class SocketControlClient final : public ControlClient {
public:
    SocketControlClient(std::string ifname, std::string socket_dir = kDefaultSocketDir);
    std::string exchange(std::string_view request) override;
    const std::string& path() const { return path_; }

private:
    std::string ifname_;
    std::string path_;
};

// get=wgate. Throws CliError when the daemon is not wgated (it closed the connection).
DeviceInfo get_device(ControlClient& client, const std::string& ifname);
// set=1 with `lines` (each ending in '\n'; no "set=1" and no final blank
// line). Returns 0 or the positive errno the daemon answered.
int set_device(ControlClient& client, std::string_view lines);

// Interfaces whose IFNAME.sock in `socket_dir` accepts a connection, sorted.
// Throws CliError (runtime, "run as root") when sockets exist but every one
// refused us with EACCES.
std::vector<std::string> running_interfaces(const std::string& socket_dir = kDefaultSocketDir);

// The interface to use: `requested` when given (validated as an interface
// name), else the only running one. Throws CliError when none runs, or when
// several do (listing them).
std::string choose_interface(const std::optional<std::string>& requested,
                             const std::function<std::vector<std::string>()>& list_running);

// IFNAMSIZ - 1 bytes at most, no '/', whitespace, or ':'; not "." or "..".
bool valid_interface_name(std::string_view name);

// A set=1 peer block's first line: "public_key=HEX\n".
std::string public_key_line(const crypto::PublicKey& key);
// Keys as `wg` prints them.
std::string key_text(const crypto::PublicKey& key);
// "AbCd…wXyZ=" as wgated logs keys.
std::string short_key(const crypto::PublicKey& key);

}  // namespace wgate::cli
