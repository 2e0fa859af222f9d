// The sans-IO heart of wgate: peers, the index table, cryptokey routing,
// cookies and rate limiting. The shell feeds it TUN packets, datagrams and the
// current time; it answers with what to send, what to write to the TUN and
// what happened. It never reads a clock, touches a socket or starts a thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "wgate/core/allowed_ips.hpp"
#include "wgate/core/clock.hpp"
#include "wgate/core/events.hpp"
#include "wgate/core/index_table.hpp"
#include "wgate/core/packet.hpp"
#include "wgate/core/peer.hpp"
#include "wgate/core/rate_limiter.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/noise/cookie.hpp"
#include "wgate/noise/handshake.hpp"

namespace wgate::core {

struct DeviceConfig {
    std::size_t mtu = 1420;
    // Handshake messages pending at once (this batch plus the shell's backlog)
    // from which we are "under load": initiations must then carry a valid mac2.
    std::size_t under_load_threshold = 64;
    std::size_t max_staged_packets = 128;  // per peer, while a handshake is in flight
};

struct DeviceCounters {
    std::array<std::uint64_t, kReasonCount> dropped{};
    std::uint64_t cookie_replies_sent = 0;
    std::uint64_t handshakes_completed = 0;
    std::uint64_t keepalives_received = 0;

    std::uint64_t operator[](Reason r) const { return dropped[static_cast<std::size_t>(r)]; }
    std::uint64_t total_dropped() const;
};

// What one call asks the shell to do. Cleared by the caller, reused across calls.
struct Outputs {
    Batch<Datagram> to_network;
    Batch<TunPacket> to_tun;
    std::vector<Event> events;

    void clear() {
        to_network.clear();
        to_tun.clear();
        events.clear();
    }
};

class Device {
public:
    explicit Device(crypto::Random& random, DeviceConfig config = {});
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    // ---- configuration (what UAPI `set` maps onto)
    // Removes a peer whose public key equals the new public key, as wg does.
    void set_private_key(const crypto::PrivateKey& key);
    void clear_private_key();
    const noise::LocalIdentity& identity() const { return identity_; }
    void set_mtu(std::size_t mtu) { config_.mtu = mtu; }
    std::size_t mtu() const { return config_.mtu; }
    void set_under_load_threshold(std::size_t n) { config_.under_load_threshold = n; }
    // The shell's count of handshake datagrams still waiting to be read.
    void set_handshake_backlog(std::size_t n) { handshake_backlog_ = n; }

    // nullptr when public_key is our own (such a peer is ignored, as wg does).
    Peer* add_peer(const crypto::PublicKey& public_key);
    Peer* find_peer(const crypto::PublicKey& public_key);
    const Peer* find_peer(const crypto::PublicKey& public_key) const;
    void remove_peer(const crypto::PublicKey& public_key);
    void remove_all_peers();
    std::vector<Peer*> peers();  // in creation order
    std::vector<const Peer*> peers() const;
    std::size_t peer_count() const { return peers_.size(); }

    void set_preshared_key(Peer& peer, const crypto::PresharedKey& psk);
    void set_endpoint(Peer& peer, const Endpoint& endpoint);
    // A local address disappeared: peers that replied from it let the OS choose again.
    void forget_local_address(const IpAddress& address);
    // Turning keepalive on sends one at once on an up device, as wg does.
    void set_persistent_keepalive(Peer& peer, std::uint16_t seconds, Now now, Outputs& out);
    void add_allowed_ip(Peer& peer, const IpPrefix& prefix);
    bool remove_allowed_ip(Peer& peer, const IpPrefix& prefix);
    void clear_allowed_ips(Peer& peer);
    std::vector<IpPrefix> allowed_ips_of(const Peer& peer) const;
    const AllowedIps& allowed_ips() const { return allowed_ips_; }

    // Down drops every session and queued packet; up sends what is queued and
    // starts persistent keepalives.
    void set_up(bool up, Now now, Outputs& out);
    bool is_up() const { return up_; }

    // ---- the data path
    void on_tun_packets(std::span<const std::span<const std::uint8_t>> packets, Now now, Outputs& out);
    void on_datagrams(std::span<const ReceivedDatagram> datagrams, Now now, Outputs& out);
    void tick(Now now, Outputs& out);
    // When tick() next has work: the shell sleeps until then.
    std::optional<Duration> next_deadline() const;

    // Single-packet conveniences.
    void on_tun_packet(std::span<const std::uint8_t> packet, Now now, Outputs& out);
    void on_datagram(const ReceivedDatagram& datagram, Now now, Outputs& out);

    const DeviceCounters& counters() const { return counters_; }

    // Public keys are uniformly random and only the operator adds them: their
    // first bytes make a good hash.
    struct KeyHash {
        std::size_t operator()(const crypto::PublicKey& k) const noexcept;
    };
    bool under_load(Duration now) const;
    std::size_t index_count() const { return index_.size(); }

private:
    // receive path
    void handle_datagram(const ReceivedDatagram& d, Now now, Outputs& out, bool under_load);
    void handle_initiation(const ReceivedDatagram& d, Now now, Outputs& out);
    void handle_response(const ReceivedDatagram& d, Now now, Outputs& out);
    void handle_cookie_reply(const ReceivedDatagram& d, Now now, Outputs& out);
    void handle_data(const ReceivedDatagram& d, Now now, Outputs& out);
    bool admit_handshake(const ReceivedDatagram& d, std::uint32_t sender, Now now, Outputs& out, bool under_load);

    // send path
    void stage(Peer& peer, std::span<const std::uint8_t> packet, Outputs& out);
    void mark_dirty(Peer& peer);
    // Encrypts and emits one packet if the peer has a usable session and endpoint.
    bool send_now(Peer& peer, std::span<const std::uint8_t> plain, Now now, Outputs& out);
    void send_staged(Peer& peer, Now now, Outputs& out);
    void send_keepalive(Peer& peer, Now now, Outputs& out);
    void send_initiation(Peer& peer, bool is_retry, Now now, Outputs& out);
    void send_response(Peer& peer, Now now, Outputs& out);
    void emit(Peer& peer, std::span<const std::uint8_t> bytes, Outputs& out);
    void keep_key_fresh_sending(Peer& peer, Now now, Outputs& out);
    void keep_key_fresh_receiving(Peer& peer, Now now, Outputs& out);

    // sessions
    bool begin_session(Peer& peer, Now now);
    void release_handshake_index(Peer& peer);
    void release(std::unique_ptr<noise::Keypair>& kp);
    void clear_sessions(Peer& peer);
    void update_endpoint(Peer& peer, const Endpoint& from, Outputs& out);

    // timers (device_timers.cpp)
    void timers_data_sent(Peer& peer, Now now);
    void timers_data_received(Peer& peer, Now now);
    void timers_any_authenticated_packet_sent(Peer& peer);
    void timers_any_authenticated_packet_received(Peer& peer);
    void timers_any_authenticated_packet_traversal(Peer& peer, Now now);
    void timers_handshake_initiated(Peer& peer, Now now);
    void timers_handshake_complete(Peer& peer, Now now);
    void timers_session_derived(Peer& peer, Now now);
    void fire(Peer& peer, Timer timer, Now now, Outputs& out);
    void reschedule(Peer& peer);
    Duration jitter();

    void reject(Reason reason, Peer* peer, const Endpoint& from, Outputs& out);
    void record(Outputs& out, EventKind kind, const Peer& peer, const Endpoint& endpoint = {}, int attempt = 0);

    crypto::Random& random_;
    DeviceConfig config_;
    noise::LocalIdentity identity_;
    noise::CookieChecker cookie_checker_;
    RateLimiter rate_limiter_;
    IndexTable index_;
    AllowedIps allowed_ips_;
    // Peers by public key. A set looked up by key (the key is the peer's own)
    // rather than a map that would store every key twice.
    struct PeerKeyHash : KeyHash {
        using is_transparent = void;
        using KeyHash::operator();
        std::size_t operator()(const std::unique_ptr<Peer>& p) const noexcept { return (*this)(p->public_key()); }
    };
    struct PeerKeyEqual {
        using is_transparent = void;
        static const crypto::PublicKey& key(const crypto::PublicKey& k) { return k; }
        static const crypto::PublicKey& key(const std::unique_ptr<Peer>& p) { return p->public_key(); }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept { return key(a) == key(b); }
    };
    std::unordered_set<std::unique_ptr<Peer>, PeerKeyHash, PeerKeyEqual> peers_;
    Peer* first_in_order_ = nullptr;
    Peer* last_in_order_ = nullptr;
    std::uint64_t next_serial_ = 0;
    std::set<std::tuple<Duration, std::uint64_t, Peer*>> schedule_;
    std::vector<Peer*> dirty_;  // peers with newly staged packets in this call
    bool up_ = true;
    std::size_t handshake_backlog_ = 0;
    std::optional<Duration> last_under_load_;
    DeviceCounters counters_;
    std::vector<std::uint8_t> scratch_;
};

}  // namespace wgate::core
