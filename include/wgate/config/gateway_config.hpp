// The gateway's YAML configuration (`wgated --config FILE`): the settings as
// plain values, parsing with messages that name file, line and field and say
// how to fix the problem, the rules between fields, the key files, and
// writing the settings back as YAML.
//
// Three steps, so that each can be used and tested alone:
// - parse_gateway_config / load_gateway_config: text to values. Refuses bad
//   YAML, unknown and duplicate keys, wrong types and malformed values, and then
//   runs check_gateway_config. Touches no file but the config itself.
// - check_gateway_config: the rules between fields (the address pool,
//   overlaps, duplicates, MTU range, ...) on values, wherever they came from:
//   the daemon runs it on a changed config before it applies and persists it.
// - validate_files: the key files (existence, type, mode, contents). Reads, never
//   writes: `wgated --check-config` runs all three and touches nothing.
//
// The address pool rule: the networks of interface.addresses (10.8.0.1/24 ->
// 10.8.0.0/24) are the pool clients get their tunnel addresses from. A peer's
// own addresses (host prefixes: /32, /128) must lie inside one pool network;
// a network behind a peer (a site, e.g. 172.16.5.0/24) may lie outside the
// pool, then wgated routes it into the tunnel, but it must not overlap the
// pool or a LAN route. No allowed IP may contain the gateway's own address,
// and no two peers' allowed IPs may overlap (one prefix containing the
// other), disabled peers included, so that enabling one can never steal
// another's addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wgate/core/ip.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::config {

// Every refusal. what() is "FILE:LINE: FIELD: PROBLEM; FIX", e.g.
// "config/gateway.yaml:12: peers[1].allowed_ips[0]: '10.9.0.2/32' is outside
// the address pool (10.8.0.0/24, fd42:8::/64); use an address inside the pool
// or widen interface.addresses". LINE is left out when unknown (values built
// by the daemon), FIELD when the problem is the whole file.
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string file, int line, std::string field, std::string message);

    const std::string& file() const { return file_; }
    int line() const { return line_; }  // 1-based; 0 when unknown
    const std::string& field() const { return field_; }
    const std::string& message() const { return message_; }  // problem and fix

private:
    std::string file_;
    int line_;
    std::string field_;
    std::string message_;
};

// A tunnel address with its prefix length and host bits kept ("10.8.0.1/24");
// core::IpPrefix would clear them.
struct InterfaceAddress {
    core::IpAddress address;
    std::uint8_t cidr = 0;

    core::IpPrefix network() const { return core::IpPrefix::make(address, cidr); }
    std::string to_string() const;
    // "10.8.0.1/24", "fd42:8::1/64"; the prefix length is required.
    static std::optional<InterfaceAddress> parse(std::string_view text);

    friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

// host:port where host is a DNS name or an address literal; names are kept
// as text and resolved by the daemon when it needs the address.
struct HostPort {
    std::string host;  // "vpn.example.com", "192.0.2.1", "2001:db8::1" (no brackets)
    std::uint16_t port = 0;

    // "vpn.example.com:51820", "[2001:db8::1]:51820"
    std::string to_string() const;
    // IPv6 literals in brackets; names as RFC 1123 host names; port 1..65535.
    static std::optional<HostPort> parse(std::string_view text);
    bool is_literal() const;

    friend bool operator==(const HostPort&, const HostPort&) = default;
};

inline constexpr std::uint16_t kDefaultListenPort = 51820;
inline constexpr std::uint32_t kDefaultMtu = 1420;
inline constexpr std::uint32_t kMinMtuV4 = 576;
inline constexpr std::uint32_t kMinMtuV6 = 1280;
inline constexpr std::uint32_t kMaxMtu = 9000;
inline constexpr std::uint16_t kDefaultClientKeepalive = 25;
inline constexpr std::size_t kMaxPeerNameLength = 64;

struct InterfaceConfig {
    std::string name = "wg0";
    std::string private_key_file = "keys/gateway.key";  // relative to the config file's directory
    std::uint16_t listen_port = kDefaultListenPort;
    std::uint32_t mtu = kDefaultMtu;
    std::optional<std::uint32_t> fwmark;
    std::vector<InterfaceAddress> addresses;  // also the client address pool

    friend bool operator==(const InterfaceConfig&, const InterfaceConfig&) = default;
};

struct GatewaySettings {
    std::optional<HostPort> public_endpoint;      // what laptops dial; for export
    std::vector<core::IpPrefix> lan_routes;       // networks clients reach through us
    bool masquerade = true;
    std::optional<std::string> egress_interface;  // absent: auto-detected
    std::vector<core::IpAddress> client_dns;      // for export
    std::uint16_t persistent_keepalive = kDefaultClientKeepalive;  // for clients; 0 = off

    friend bool operator==(const GatewaySettings&, const GatewaySettings&) = default;
};

struct PeerConfig {
    // Empty for a peer without a name (stock `wg set` adds such peers, and they
    // must survive a restart too); a name in the file must not be empty.
    std::string name;
    crypto::PublicKey public_key{};
    std::string preshared_key_file;  // empty: none; relative to the config file's directory
    std::vector<core::IpPrefix> allowed_ips;
    std::optional<HostPort> endpoint;
    std::optional<std::uint16_t> persistent_keepalive;  // absent: off (0 also means off)
    bool disabled = false;

    friend bool operator==(const PeerConfig&, const PeerConfig&) = default;
};

// Where the values came from, for messages. Not part of the values: two
// configs with equal settings compare equal wherever they were read.
struct ConfigSource {
    std::string path;  // as given; messages name it, relative key files resolve against its directory
    std::string text;  // the text parsed (render_gateway_config keeps its comments)
    std::unordered_map<std::string, int> lines;  // field ("peers[1].allowed_ips[0]") -> 1-based line

    // The line of the field, else of the nearest enclosing field; 0 when unknown.
    int line_of(std::string_view field) const;

    friend bool operator==(const ConfigSource&, const ConfigSource&) { return true; }
};

struct GatewayConfig {
    InterfaceConfig interface;
    GatewaySettings gateway;
    std::vector<PeerConfig> peers;
    bool persist = true;
    ConfigSource source;

    // The networks of interface.addresses, in order.
    std::vector<core::IpPrefix> pool() const;

    friend bool operator==(const GatewayConfig&, const GatewayConfig&) = default;
};

// Parses and checks (check_gateway_config). `name` is the file name used in
// messages and to resolve relative key file paths. Throws ConfigError only.
GatewayConfig parse_gateway_config(std::string_view text, const std::string& name);
// Reads the file (at most 64 MiB) and parses it.
GatewayConfig load_gateway_config(const std::string& path);

// The rules between fields; see the top of this file for the pool rule.
// Messages use config.source for lines and the file name.
void check_gateway_config(const GatewayConfig& config);

// Letters, digits, '-', '_', '.', '@'; 1..64 characters.
bool valid_peer_name(std::string_view name);
// What Linux and wg-quick accept: [A-Za-z0-9_=+.-], 1..15 characters.
bool valid_interface_name(std::string_view name);

// The path of a key file named in the config: absolute as is, relative
// against the config file's directory.
std::string resolve_path(const GatewayConfig& config, const std::string& file);

struct KeyMaterial {
    std::string private_key_path;  // resolved
    // Absent when the file does not exist yet and will be generated at start
    // (create_private_key_file in key_file.hpp).
    std::optional<crypto::PrivateKey> private_key;
    std::vector<std::optional<crypto::PresharedKey>> preshared_keys;  // one per peer
    std::vector<std::string> notes;  // for --check-config, e.g. what will be generated
};

// Checks every key file (see key_file.hpp for the rules) and returns the keys.
// A missing interface key is fine when its directory exists and is writable:
// a note says it will be generated. Also refuses a peer whose public key is the
// gateway's own. Reads only; throws ConfigError naming the config line and field.
KeyMaterial validate_files(const GatewayConfig& config);

// The config as YAML. Comments of `original_text` (the file as last read or
// written) are kept where the settings they describe still exist:
// - the text before the first section and every comment above a section are
//   kept verbatim;
// - a section whose settings did not change is kept verbatim; a changed
//   one-line value (a scalar, or a list written on one line like [a, b]) is
//   replaced in place, keeping the comment after it; an added one gets a new
//   line and a removed one loses its line; anything else rewrites that section;
// - peers are matched by public key: an unchanged peer keeps its text, a
//   changed one is patched like a section (its comments above stay), a new
//   one is appended in the same style, a removed one disappears with the
//   comments above it. Peers appear in the order of config.peers.
// When original_text is empty or not a valid config, the whole file is
// generated (keeping the comment block at the top of original_text).
// The result always parses back to exactly `config`; when no rendering does
// (a value the file cannot hold, or one check_gateway_config refuses), this
// throws ConfigError rather than produce a file wgated would refuse.
std::string render_gateway_config(const GatewayConfig& config, std::string_view original_text);

}  // namespace wgate::config
