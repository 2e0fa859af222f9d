// wg-quick files: the client config `wgate peer add` / `wgate export` write,
// and the configs `wgate import` reads (a kernel /etc/wireguard/wg0.conf, a
// RouterOS or PiVPN export), peer names taken from their comments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wgate/core/ip.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::cli {

struct ClientConfig {
    crypto::PrivateKey private_key;           // the client's; zeroised with the struct
    std::vector<core::IpPrefix> addresses;    // host prefixes: 10.8.0.2/32, fd42::2/128
    std::vector<core::IpAddress> dns;
    crypto::PublicKey gateway_public_key{};
    std::optional<crypto::PresharedKey> preshared_key;
    std::string endpoint;                     // host:port the client dials
    std::vector<core::IpPrefix> allowed_ips;  // what the client sends into the tunnel
    std::uint16_t persistent_keepalive = 0;   // 0: no line
};

// The wg-quick file: [Interface] PrivateKey, Address, DNS (when any);
// [Peer] PublicKey, PresharedKey (when set), Endpoint, AllowedIPs,
// PersistentKeepalive (when not 0). The caller wipes the result (wipe_string).
std::string render_client_config(const ClientConfig& config);

// The tunnel subnets plus the LAN routes, or 0.0.0.0/0 and ::/0 for a full tunnel.
std::vector<core::IpPrefix> client_allowed_ips(const std::vector<core::IpPrefix>& tunnel_networks,
                                               const std::vector<core::IpPrefix>& lan_routes, bool full_tunnel);

struct WgQuickPeer {
    std::string name;  // from a comment; "" when none
    crypto::PublicKey public_key{};
    std::optional<crypto::PresharedKey> preshared_key;
    std::string endpoint;  // host:port as written; "" when none
    std::vector<core::IpPrefix> allowed_ips;
    std::optional<std::uint16_t> persistent_keepalive;
    int line = 0;  // of its [Peer]
};

struct WgQuickFile {
    bool has_interface = false;
    std::optional<crypto::PublicKey> interface_public_key;  // of its PrivateKey (the key itself is not kept)
    std::optional<std::uint16_t> listen_port;
    std::vector<std::string> interface_addresses;
    std::vector<WgQuickPeer> peers;
    std::vector<std::string> warnings;  // "FILE:LINE: ..." for what was skipped
};

// wg(8)/wg-quick(8) syntax: [Interface] and [Peer] sections, "Key = Value"
// with keys in any case, '#' starts a comment anywhere, AllowedIPs may be
// comma-separated and repeated. wg-quick's own [Interface] keys (Address, DNS,
// MTU, Table, Pre/PostUp/Down, SaveConfig) are accepted; unknown keys become
// warnings. A peer's name comes from the comments between the previous
// section's last line and its [Peer] line, or at the top of its section:
// "# Name = laptop", "# name: laptop", "# comment=laptop" (RouterOS),
// "# friendly_name = laptop", "### begin laptop ###" (PiVPN), or a plain
// "# laptop" (the last such comment wins; "### end x ###" is ignored).
// Throws CliError (runtime) with "FILE:LINE: problem" for what wg would refuse:
// a bad key, a bad prefix, a peer without PublicKey, a key outside a section,
// a duplicate peer.
WgQuickFile parse_wg_quick(std::string_view text, std::string_view file_name);

}  // namespace wgate::cli
