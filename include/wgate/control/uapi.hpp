// WireGuard's cross-platform configuration protocol ("UAPI",
// https://www.wireguard.com/xplatform/), spoken on /var/run/wireguard/IFNAME.sock
// so that the stock `wg` drives wgated as it drives wireguard-go.
//
// Pure text in, text out: no sockets here. The daemon feeds each connection's
// bytes into a Session and writes back what it returns.
//
// Wire facts (checked against wireguard-go 0.0.20220316 and wg 1.0.20210914,
// Debian 12, and their sources):
// - Requests: "get=1\n\n", or "set=1\n" + key=value lines + "\n". Several
//   requests may follow each other on one connection.
// - Every answer ends with "errno=N\n\n". On failure N is the NEGATED errno
//   ("errno=-22" for EINVAL), as wireguard-go prints it. wg's set path does
//   `errno = -N`, so a positive number would make it print "Unknown error -22";
//   with the negative one it prints "Invalid argument". (wg's get path only
//   understands positive numbers, but a get never fails here.)
// - Any other command line (also "get=1\r\n") gets no answer: the connection
//   is closed, as wireguard-go does. "get=1\n" followed by anything but "\n"
//   answers errno=-22 (and that one byte is consumed).
// - Set lines may end in "\r\n" (the '\r' is dropped); a line without '='
//   answers errno=-71 (EPROTO); every other bad key or value errno=-22.
// - wg tolerates unknown keys in a get answer (verified: `wg show`/`showconf`
//   ignore them, even with '=' in the value), and so does wgctrl-go, except
//   that it splits lines on every '=' (so names never contain '=').
//
// wgate extensions (stock wg never sends them; wireguard-go rejects them):
// - In a set=1 peer block, "name=STRING" names the peer: printable UTF-8, no
//   '=', at most 64 bytes; "name=" (empty) removes the name. Names are kept by
//   the Host, and dropped when their peer is removed.
// - A get answer lists "name=STRING" right after a named peer's public_key.
//   "get=1" does so when SessionLimits::names_in_get is true (the default,
//   since wg and wgctrl-go tolerate it); "get=wgate\n\n" always does, and is
//   otherwise identical to get=1. wireguard-go closes the connection on get=wgate.
// - get=wgate also carries gateway information for the `wgate` CLI (never in
//   get=1, so `wg` sees exactly what it saw before):
//   * after the interface lines, before the first peer: the Host's lines
//     (Host::append_interface_extension: wgate_mode=gateway, wgate_address=
//     10.8.0.1/24 (repeated), wgate_public_endpoint=host:port, wgate_lan_route=
//     CIDR (repeated), wgate_dns=ADDR (repeated), wgate_keepalive=N,
//     wgate_masquerade=true|false, wgate_egress=IFNAME, wgate_config=PATH,
//     wgate_mtu=N), then wgate_mode=plain when the Host wrote no wgate_mode
//     line, wgate_mtu=N from the Device when it wrote no wgate_mtu line, and
//     wgate_dropped=REASON_KEY:N for every non-zero drop counter
//     (core::key_of: "bad_mac1", "unknown_peer", ...);
//   * per peer, before its allowed_ip lines: wgate_last_rejection=REASON_KEY
//     when the peer has one;
//   * after the last peer: disabled peers (Host::append_disabled_peers), one
//     block each: public_key, [name], wgate_disabled=true, [preshared_key],
//     [endpoint], [persistent_keepalive_interval], allowed_ip lines.
// - In a set=1 peer block, "wgate_disabled=true" disables the peer (the Host
//   keeps its configuration, the Device forgets it: no handshakes, no traffic)
//   and "wgate_disabled=false" enables it again (see apply_set). Without a Host
//   that supports it (the plain daemon) disabling answers EOPNOTSUPP (-95).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wgate/core/clock.hpp"
#include "wgate/core/device.hpp"
#include "wgate/core/endpoint.hpp"
#include "wgate/core/ip.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::control {

// A set that would leave more peers fails with EINVAL ("too many peers"), as
// in wireguard-go, whose limit is 65,536. Ours is 16 times that: a gateway may
// serve more, and at about 1 KiB per idle peer the limit still bounds memory
// to about a GiB.
inline constexpr std::size_t kMaxPeers = std::size_t{1} << 20;
inline constexpr std::size_t kMaxPeerNameBytes = 64;

struct PeerChange {
    crypto::PublicKey public_key{};
    bool remove = false;       // delete the peer; every other field is ignored
    bool update_only = false;  // skip the whole block when the peer does not exist
    std::optional<crypto::PresharedKey> preshared_key;  // all-zero = clear
    std::optional<core::Endpoint> endpoint;
    std::optional<std::uint16_t> persistent_keepalive;  // seconds, 0 = off
    bool replace_allowed_ips = false;
    std::vector<core::IpPrefix> allowed_ips;  // to add, in order
    std::optional<std::string> name;          // wgate extension; "" = remove the name
    // wgate extension: true disables the peer, false enables a disabled one.
    std::optional<bool> disabled;
};

struct SetRequest {
    std::optional<crypto::PrivateKey> private_key;  // all-zero = remove the key
    std::optional<std::uint16_t> listen_port;
    std::optional<std::uint32_t> fwmark;  // 0 = off
    bool replace_peers = false;
    std::vector<PeerChange> peers;
};

struct UapiError {
    int errno_value = 0;  // positive, e.g. EINVAL; the wire carries it negated
    std::string message;  // for the daemon's log, never sent
};

// Parses a set request line by line, as the lines arrive. Validation is exactly
// wireguard-go's (unknown key, a peer key before any public_key, a device key
// after one, protocol_version other than "1", hex keys of other than 64
// digits, numbers out of range or not plain decimal, flags other than "true",
// bad endpoints and allowed IPs: EINVAL; a line without '=': EPROTO), except:
// - endpoints with an IPv6 zone ("[fe80::1%eth0]:51820") are refused (EINVAL):
//   core::Endpoint has no place for a zone name;
// - an allowed IP's prefix length must be plain decimal without a sign or a
//   leading zero, as in wireguard-go built with Go >= 1.22 (the Debian 12 build
//   still accepts "10.0.0.0/+24", "/024" and "/-0");
// - within one peer block, "remove" and "update_only" apply to the whole block
//   wherever they stand (the kernel's semantics; wireguard-go applies the lines
//   before them to a peer it then deletes, which can only matter to allowed IPs
//   taken from other peers). "replace_allowed_ips" drops the block's earlier
//   allowed_ip lines, as in wireguard-go.
class SetParser {
public:
    // One line, without its '\n'; a trailing '\r' is ignored. After an error
    // the parser is spent: reset() it before the next request.
    std::optional<UapiError> feed_line(std::string_view line);
    const SetRequest& request() const { return request_; }
    SetRequest take();
    void reset();

private:
    SetRequest request_;
    bool in_peer_ = false;
};

// Parses the lines after "set=1\n" up to (not including) the blank line. The
// last line needs no '\n'; an empty line ends the request (the rest is ignored,
// as wireguard-go's IpcSet does).
std::variant<SetRequest, UapiError> parse_set(std::string_view lines);

// Printable UTF-8 without '=', 1..kMaxPeerNameBytes bytes.
bool valid_peer_name(std::string_view name);

// What the daemon's host side provides (the UDP port and fwmark live in the IO
// shell, names in the gateway config).
class Host {
public:
    virtual ~Host() = default;
    virtual std::uint16_t listen_port() const = 0;
    virtual std::optional<UapiError> set_listen_port(std::uint16_t port) = 0;  // e.g. EADDRINUSE
    virtual std::uint32_t fwmark() const = 0;
    virtual std::optional<UapiError> set_fwmark(std::uint32_t mark) = 0;
    // Peer names (extension). Default implementations keep nothing.
    virtual std::optional<std::string> peer_name(const crypto::PublicKey&) const { return std::nullopt; }
    virtual void set_peer_name(const crypto::PublicKey&, const std::optional<std::string>&) {}
    // Peers a set may leave at most.
    virtual std::size_t max_peers() const { return kMaxPeers; }

    // A last say on a request before anything changes (after parsing): gateway
    // mode refuses what its config file could not hold (addresses outside the
    // pool, overlapping peers, bad names), so what it accepts it can save.
    virtual std::optional<UapiError> check_set(const core::Device& /*device*/, const SetRequest& /*request*/) const {
        return std::nullopt;
    }

    // ---- get=wgate: gateway information (extension). Each writes whole
    // "key=value\n" lines; empty lines and lines without '=' are dropped (a
    // blank line would end the answer). Defaults write nothing.
    // After the interface lines: wgate_mode=gateway, wgate_address=..., ...
    // (see the list at the top of this file).
    virtual void append_interface_extension(std::string& /*out*/) const {}
    // One block per disabled peer, after the enabled ones: append_disabled_peer().
    virtual void append_disabled_peers(std::string& /*out*/) const {}

    // ---- disabled peers (extension; see apply_set for when they are called).
    // Keep `config`, the peer's complete configuration (public key, name,
    // preshared key, endpoint, keepalive, allowed IPs: snapshot_peer merged with
    // the request's block), as a disabled peer. `current` is the live peer
    // apply_set removes from the Device afterwards, or nullptr when the Device
    // has no such peer (the Host then replaces what it kept for that key, or
    // keeps a new disabled peer). A Host keeps a disabled peer's name in
    // `config`: apply_set does not call set_peer_name for it, so the Host drops
    // its live name entry for the key here. An error refuses the whole request.
    virtual std::optional<UapiError> disable_peer(const core::Peer* /*current*/, const PeerChange& /*config*/) {
        return UapiError{EOPNOTSUPP, "disabling peers needs gateway mode (wgated --config)"};
    }
    // Hand back (and forget) what disable_peer kept for this key; nullopt when
    // the key is not a disabled peer. Also used to undo a disable_peer of a
    // request that fails later, and by remove=true for a disabled peer.
    virtual std::optional<PeerChange> take_disabled_peer(const crypto::PublicKey& /*key*/) { return std::nullopt; }
};

// The complete configuration of a live peer as a block: public key, preshared
// key (when set), endpoint (remote side, when known), persistent keepalive
// (when on), replace_allowed_ips and every allowed IP, and the Host's name.
PeerChange snapshot_peer(const core::Device& device, const core::Peer& peer, const Host& host);
// Applies the fields of `change` to a kept configuration as apply_set applies
// them to a live peer (all-zero preshared key and keepalive 0 clear, replace_
// allowed_ips empties the list, an allowed IP already there moves to the end,
// name "" removes it). `config` stays complete (replace_allowed_ips = true).
void merge_peer_change(PeerChange& config, const PeerChange& change);
// The get=wgate block of a disabled peer: public_key, name (when set),
// wgate_disabled=true, preshared_key / endpoint / persistent_keepalive_interval
// (when set and non-zero), allowed_ip lines. For Host::append_disabled_peers.
void append_disabled_peer(std::string& out, const PeerChange& config);

// Applies a parsed request, atomically: first what can fail (the peer limit,
// then Host::set_listen_port, then Host::set_fwmark, which on failure puts the
// old port back), and only when all of that succeeded anything else, so a
// failed request changes nothing. Then, as wg and the kernel do: the private
// key (clamped like wireguard-go and the kernel; all-zero removes it; a peer
// with the new public key is removed), replace_peers, and each peer block in
// order: a block for our own public key is ignored; remove deletes; update_only
// skips a peer that does not exist; otherwise the peer is created if needed and
// gets its preshared key (all-zero clears it), endpoint, persistent keepalive
// (turning it on sends a keepalive into `out` when the device is up),
// replace_allowed_ips (clear first), allowed IPs (an IP already on this peer
// moves to the end of its list, as in wireguard-go and the kernel) and name.
// Names of peers that are gone afterwards are removed from the Host.
//
// Disabled peers (wgate extension; the Host keeps them, the Device does not):
// - A block with wgate_disabled=true must be its peer's only block in the
//   request (else EINVAL). Before anything changes (after the listen port and
//   fwmark), each such block calls Host::disable_peer with the peer's complete
//   configuration: snapshot_peer of the live peer, or what the Host kept for
//   an already disabled peer (taken with take_disabled_peer), merged with the
//   block. A block for a key that is neither live nor disabled keeps a new
//   disabled peer, unless update_only is set (then it is skipped). When a
//   disable_peer fails, the earlier ones of the request are undone, the port
//   and fwmark put back, and the error returned. In order, the block then
//   removes the live peer from the Device.
// - Any other block (not remove) for a key the Device does not have first
//   takes what the Host kept (take_disabled_peer): the peer is re-created with
//   that configuration and name, then the block applies on top. So
//   wgate_disabled=false enables, and so does any block that would create the
//   peer (a plain update_only block skips a disabled peer, as a missing one).
// - remove=true for a disabled peer forgets it (take_disabled_peer).
// - replace_peers leaves disabled peers alone (`wg` cannot see them).
std::optional<UapiError> apply_set(core::Device& device, Host& host, const SetRequest& request, core::Now now,
                                   core::Outputs& out);

// The full get answer including the final "errno=0\n\n", formatted as
// wireguard-go formats it: private_key (clamped; only when set), listen_port
// (only when not 0), fwmark (only when not 0), then per peer: public_key,
// [name (with_names, when the Host has a valid one)], preshared_key (always, zeros
// when none), protocol_version=1, endpoint (only when known), last_handshake_time_sec
// and _nsec (0 and 0 when never), tx_bytes, rx_bytes, persistent_keepalive_interval,
// and allowed_ip lines in the peer's order. Keys are lower-case hex; addresses as
// Go prints them (RFC 5952; "::ffff:a.b.c.d" for IPv4-mapped addresses, and
// hex otherwise, unlike glibc's "::a.b.c.d"). Peers come in creation order
// (wireguard-go's order is random: it walks a Go map).
// With `extensions` (get=wgate) the answer also carries the wgate_* lines and
// the disabled peers listed at the top of this file.
std::string format_get(const core::Device& device, const Host& host, bool with_names, bool extensions = false);
void append_get(std::string& out, const core::Device& device, const Host& host, bool with_names,
                bool extensions = false);

// "errno=0\n\n", or "errno=-N\n\n" for an error with errno_value N.
std::string format_errno(int errno_value);

// Go's spelling of an address, endpoint and prefix (see format_get).
std::string format_address(const core::IpAddress& address);
std::string format_endpoint(const core::Endpoint& endpoint);
std::string format_prefix(const core::IpPrefix& prefix);

struct SessionLimits {
    // Bytes of one set request (its lines and the final blank line). `wg setconf`
    // with 130,000 allowed IPs sends about 4 MB; the parsed form takes up to
    // about 2.6 times the text (a request of only public_key lines).
    std::size_t max_request_bytes = 32u << 20;
    // One set line, '\n' included (bufio.Scanner's limit in wireguard-go).
    std::size_t max_line_bytes = 64u << 10;
    // Whether get=1 lists peer names (get=wgate always does).
    bool names_in_get = true;
};

// One control connection: feed bytes as they arrive; each completed request is
// executed and its answer appended to `reply`. The daemon writes `reply` out
// and closes the connection when told to (after writing the reply).
//
// - get=1 / get=wgate, then "\n": the get answer (get=wgate with names and
//   extensions).
// - set=1: lines are validated as they come. At the blank line the request is
//   applied (apply_set) and answered. A bad value answers errno=-22 at once;
//   the rest of that request is then read and dropped, and the connection stays
//   usable. A line without '=' (EPROTO, -71), a line longer than
//   max_line_bytes (EIO, -5, wireguard-go's answer to an over-long line) or a
//   request over max_request_bytes (EMSGSIZE, -90) answer and close.
// - Any other command: close without an answer (wireguard-go does the same).
class Session {
public:
    enum class Status { keep_open, close };
    using Clock = std::function<core::Now()>;

    // `clock` is asked for the time when a set is applied; whatever the set
    // emits (keepalives) goes into `out`, which the daemon drains afterwards.
    Session(core::Device& device, Host& host, Clock clock, core::Outputs& out, SessionLimits limits = {});

    Status feed(std::string_view bytes, std::string& reply);
    // The client shut down its sending side. Like wireguard-go, a set request
    // still open is applied as it stands (its last line may lack the '\n') and
    // answered; anything else unfinished is dropped. Always returns close.
    Status finish(std::string& reply);
    bool closed() const { return state_ == State::closed; }
    // Set requests applied successfully so far (the daemon persists or logs on change).
    std::uint64_t sets_applied() const { return sets_applied_; }

private:
    enum class State { command, get_blank, set_lines, set_discard, closed };

    Status on_line(std::string_view line, std::string& reply);
    Status on_set_line(std::string_view line, std::string& reply);
    void end_set(std::string& reply);
    Status fail_and_close(int errno_value, std::string& reply);

    core::Device& device_;
    Host& host_;
    Clock clock_;
    core::Outputs& out_;
    SessionLimits limits_;
    State state_ = State::command;
    bool get_names_ = false;
    bool get_extensions_ = false;
    std::string pending_;  // an incomplete line
    std::size_t request_bytes_ = 0;
    SetParser parser_;
    std::uint64_t sets_applied_ = 0;
};

}  // namespace wgate::control
