// The WireGuard timer rules (paper section 6; the kernel's timers.c is the
// reference behaviour). Each timers_* function is one protocol event.
#include "wgate/core/device.hpp"

namespace wgate::core {

using noise::kKeepaliveTimeout;
using noise::kRejectAfterTime;
using noise::kRekeyTimeout;

Duration Device::jitter() {
    const auto max_us = std::chrono::duration_cast<std::chrono::microseconds>(noise::kRekeyTimeoutJitterMax).count();
    return std::chrono::microseconds(random_.uniform(static_cast<std::uint32_t>(max_us)));
}

void Device::timers_data_sent(Peer& peer, Now now) {
    if (!peer.timers_.pending(Timer::new_handshake))
        peer.timers_.arm(Timer::new_handshake, now.mono + kKeepaliveTimeout + kRekeyTimeout + jitter());
}

void Device::timers_data_received(Peer& peer, Now now) {
    if (!peer.timers_.pending(Timer::send_keepalive))
        peer.timers_.arm(Timer::send_keepalive, now.mono + kKeepaliveTimeout);
    else
        peer.timers_.need_another_keepalive = true;
}

void Device::timers_any_authenticated_packet_sent(Peer& peer) { peer.timers_.cancel(Timer::send_keepalive); }

void Device::timers_any_authenticated_packet_received(Peer& peer) { peer.timers_.cancel(Timer::new_handshake); }

void Device::timers_any_authenticated_packet_traversal(Peer& peer, Now now) {
    if (peer.persistent_keepalive_)
        peer.timers_.arm(Timer::persistent_keepalive, now.mono + std::chrono::seconds(peer.persistent_keepalive_));
}

void Device::timers_handshake_initiated(Peer& peer, Now now) {
    peer.timers_.arm(Timer::retransmit_handshake, now.mono + kRekeyTimeout + jitter());
}

void Device::timers_handshake_complete(Peer& peer, Now now) {
    peer.timers_.cancel(Timer::retransmit_handshake);
    peer.timers_.handshake_attempts = 0;
    peer.timers_.sent_lastminute_handshake = false;
    peer.last_handshake_wall_ = now.wall;
}

void Device::timers_session_derived(Peer& peer, Now now) {
    peer.timers_.arm(Timer::zero_key_material, now.mono + 3 * kRejectAfterTime);
}

void Device::fire(Peer& peer, Timer timer, Now now, Outputs& out) {
    switch (timer) {
        case Timer::retransmit_handshake:
            if (peer.timers_.handshake_attempts > noise::kMaxTimerHandshakes) {
                record(out, EventKind::handshake_gave_up, peer, peer.endpoint_.value_or(Endpoint{}),
                       peer.timers_.handshake_attempts + 1);
                peer.timers_.cancel(Timer::send_keepalive);
                peer.staged_.clear();
                if (!peer.timers_.pending(Timer::zero_key_material))
                    peer.timers_.arm(Timer::zero_key_material, now.mono + 3 * kRejectAfterTime);
            } else {
                ++peer.timers_.handshake_attempts;
                // The address we answered from may be gone: let the OS pick again.
                if (peer.endpoint_) peer.endpoint_->clear_local();
                send_initiation(peer, true, now, out);
            }
            break;
        case Timer::send_keepalive:
            send_keepalive(peer, now, out);
            if (peer.timers_.need_another_keepalive) {
                peer.timers_.need_another_keepalive = false;
                peer.timers_.arm(Timer::send_keepalive, now.mono + kKeepaliveTimeout);
            }
            break;
        case Timer::new_handshake:
            if (peer.endpoint_) peer.endpoint_->clear_local();
            send_initiation(peer, false, now, out);
            break;
        case Timer::zero_key_material:
            clear_sessions(peer);
            record(out, EventKind::keys_zeroed, peer);
            break;
        case Timer::persistent_keepalive:
            if (peer.persistent_keepalive_) send_keepalive(peer, now, out);
            break;
    }
}

void Device::reschedule(Peer& peer) {
    if (peer.scheduled_at_) schedule_.erase({*peer.scheduled_at_, peer.serial_, &peer});
    peer.scheduled_at_ = peer.timers_.earliest();
    if (peer.scheduled_at_) schedule_.insert({*peer.scheduled_at_, peer.serial_, &peer});
}

void Device::tick(Now now, Outputs& out) {
    while (!schedule_.empty() && std::get<0>(*schedule_.begin()) <= now.mono) {
        Peer& peer = *std::get<2>(*schedule_.begin());
        schedule_.erase(schedule_.begin());
        peer.scheduled_at_.reset();
        for (std::size_t i = 0; i < kTimerCount; ++i) {
            const auto timer = static_cast<Timer>(i);
            const auto deadline = peer.timers_.deadline(timer);
            if (!deadline || *deadline > now.mono) continue;
            peer.timers_.cancel(timer);
            if (up_) fire(peer, timer, now, out);
        }
        reschedule(peer);
    }
}

std::optional<Duration> Device::next_deadline() const {
    if (schedule_.empty()) return std::nullopt;
    return std::get<0>(*schedule_.begin());
}

}  // namespace wgate::core
