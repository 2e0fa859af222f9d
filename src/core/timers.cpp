#include "wgate/core/timers.hpp"

namespace wgate::core {

const char* to_string(Timer t) {
    switch (t) {
        case Timer::retransmit_handshake: return "retransmit_handshake";
        case Timer::send_keepalive: return "send_keepalive";
        case Timer::new_handshake: return "new_handshake";
        case Timer::zero_key_material: return "zero_key_material";
        case Timer::persistent_keepalive: return "persistent_keepalive";
    }
    return "unknown";
}

std::optional<Duration> PeerTimers::earliest() const {
    std::optional<Duration> best;
    for (const Duration d : deadlines_)
        if (d != kDisarmed && (!best || d < *best)) best = d;
    return best;
}

}  // namespace wgate::core
