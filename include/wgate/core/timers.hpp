// A peer's timers as deadlines. The Device fires whichever are due in tick();
// the rules that arm and cancel them live in Device (device_timers.cpp),
// one function per protocol event, mirroring the WireGuard paper section 6.
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "wgate/core/clock.hpp"

namespace wgate::core {

enum class Timer : std::size_t {
    retransmit_handshake,  // no response to our initiation within REKEY_TIMEOUT
    send_keepalive,        // we received data and have sent nothing back
    new_handshake,         // we sent data and have heard nothing back
    zero_key_material,     // nothing happened for 3 * REJECT_AFTER_TIME
    persistent_keepalive,  // user-configured keepalive interval
};
inline constexpr std::size_t kTimerCount = 5;
const char* to_string(Timer t);

class PeerTimers {
public:
    bool pending(Timer t) const { return deadlines_[index(t)] != kDisarmed; }
    std::optional<Duration> deadline(Timer t) const {
        if (!pending(t)) return std::nullopt;
        return deadlines_[index(t)];
    }
    void arm(Timer t, Duration at) { deadlines_[index(t)] = at; }
    void cancel(Timer t) { deadlines_[index(t)] = kDisarmed; }
    void cancel_all() { deadlines_.fill(kDisarmed); }
    std::optional<Duration> earliest() const;

    int handshake_attempts = 0;
    bool need_another_keepalive = false;
    bool sent_lastminute_handshake = false;

private:
    static std::size_t index(Timer t) { return static_cast<std::size_t>(t); }
    // A marker rather than std::optional halves the deadlines' size on every
    // peer; no monotonic time is this far in the past.
    static constexpr Duration kDisarmed = Duration::min();
    std::array<Duration, kTimerCount> deadlines_ = disarmed();

    static constexpr std::array<Duration, kTimerCount> disarmed() {
        std::array<Duration, kTimerCount> all{};
        all.fill(kDisarmed);
        return all;
    }
};

}  // namespace wgate::core
