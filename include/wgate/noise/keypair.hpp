// Transport keys of one session, and a peer's three slots of them.
//
// previous: the last session, kept so packets in flight still decrypt;
// current:  the session we send with;
// next:     a session we derived as responder and may not send with until the
//           initiator proved it has it by sending data on it.
#pragma once

#include <cstdint>
#include <memory>

#include "wgate/crypto/secret.hpp"
#include "wgate/noise/constants.hpp"
#include "wgate/noise/handshake.hpp"
#include "wgate/noise/replay_window.hpp"

namespace wgate::noise {

struct Keypair {
    crypto::SymmetricKey send_key;
    crypto::SymmetricKey receive_key;
    std::uint64_t send_counter = 0;
    ReplayWindow replay;
    Duration created{};
    bool initiator = false;
    std::uint32_t local_index = 0;
    std::uint32_t remote_index = 0;

    Keypair(SessionKeys&& keys, Duration now);

    bool expired(Duration now) const { return now - created >= kRejectAfterTime; }
    // Whether we may still send with it (time and message limits).
    bool can_send(Duration now) const { return !expired(now) && send_counter < kRejectAfterMessages; }
};

class Keypairs {
public:
    // Installs a new session. Returns the keypairs that fell out of all slots
    // (their indices must be released by the caller).
    void install(std::unique_ptr<Keypair> keypair, std::unique_ptr<Keypair> dropped[2]);
    // Data arrived on kp: if it is `next`, it becomes current. Returns true
    // when that happened; `dropped` receives the old previous.
    bool received_with(const Keypair* kp, std::unique_ptr<Keypair>& dropped);
    // Stop sending with current: a new handshake is needed.
    void expire_current_for_sending() { if (current_) current_->send_counter = kRejectAfterMessages; }
    // Releases all three.
    void clear(std::unique_ptr<Keypair> dropped[3]);

    Keypair* previous() const { return previous_.get(); }
    Keypair* current() const { return current_.get(); }
    Keypair* next() const { return next_.get(); }

private:
    std::unique_ptr<Keypair> previous_;
    std::unique_ptr<Keypair> current_;
    std::unique_ptr<Keypair> next_;
};

}  // namespace wgate::noise
