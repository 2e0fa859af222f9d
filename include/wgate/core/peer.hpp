// One configured peer: its keys, sessions, timers, endpoint and counters.
// Owned by the Device, which is the only code that changes it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "wgate/core/clock.hpp"
#include "wgate/core/endpoint.hpp"
#include "wgate/core/events.hpp"
#include "wgate/core/staged_queue.hpp"
#include "wgate/core/timers.hpp"
#include "wgate/noise/cookie.hpp"
#include "wgate/noise/handshake.hpp"
#include "wgate/noise/keypair.hpp"

namespace wgate::core {

class Peer {
public:
    Peer(const crypto::PublicKey& public_key, std::uint64_t serial) : public_key_(public_key), serial_(serial) {}
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    const crypto::PublicKey& public_key() const { return public_key_; }
    // Order of creation: peers are listed in this order.
    std::uint64_t serial() const { return serial_; }

    const std::optional<Endpoint>& endpoint() const { return endpoint_; }
    std::uint16_t persistent_keepalive() const { return persistent_keepalive_; }
    const crypto::PresharedKey& preshared_key() const { return handshake_.preshared_key(); }
    std::uint64_t rx_bytes() const { return rx_bytes_; }
    std::uint64_t tx_bytes() const { return tx_bytes_; }
    // Wall-clock time of the last completed handshake, if any.
    std::optional<Duration> last_handshake() const { return last_handshake_wall_; }
    // The last reason an input from or for this peer was dropped.
    Reason last_rejection() const { return last_rejection_; }
    const PeerTimers& timers() const { return timers_; }
    const noise::Keypairs& keypairs() const { return keypairs_; }
    std::size_t staged_count() const { return staged_.size(); }

private:
    friend class Device;

    crypto::PublicKey public_key_;
    std::uint64_t serial_;
    // The Device's list of peers in creation order (16 bytes here instead of
    // a node of an ordered map per peer).
    Peer* prev_in_order_ = nullptr;
    Peer* next_in_order_ = nullptr;
    std::optional<Endpoint> endpoint_;
    std::uint16_t persistent_keepalive_ = 0;

    noise::Handshake handshake_;
    std::optional<std::uint32_t> handshake_index_;
    noise::Keypairs keypairs_;
    noise::CookieGenerator cookies_;
    PeerTimers timers_;
    std::optional<Duration> scheduled_at_;       // our key in the Device's timer schedule
    std::optional<Duration> last_sent_handshake_;  // monotonic

    StagedQueue staged_;  // waiting for a session

    std::uint64_t rx_bytes_ = 0;
    std::uint64_t tx_bytes_ = 0;
    std::optional<Duration> last_handshake_wall_;
    Reason last_rejection_ = Reason::none;
};

}  // namespace wgate::core
