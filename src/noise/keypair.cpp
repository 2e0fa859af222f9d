#include "wgate/noise/keypair.hpp"

namespace wgate::noise {

Keypair::Keypair(SessionKeys&& keys, Duration now)
    : send_key(keys.send),
      receive_key(keys.receive),
      created(now),
      initiator(keys.initiator),
      local_index(keys.local_index),
      remote_index(keys.remote_index) {
    keys.send.clear();
    keys.receive.clear();
}

void Keypairs::install(std::unique_ptr<Keypair> keypair, std::unique_ptr<Keypair> dropped[2]) {
    if (keypair->initiator) {
        // We know the responder has this session: use it at once. An unconfirmed
        // `next` is the session of a crossing handshake; it becomes previous so
        // packets the other side sends on it still decrypt.
        if (next_) {
            dropped[0] = std::move(previous_);
            dropped[1] = std::move(current_);
            previous_ = std::move(next_);
        } else {
            dropped[0] = std::move(previous_);
            previous_ = std::move(current_);
        }
        current_ = std::move(keypair);
    } else {
        // Keep current for sending until the initiator uses the new one; at most
        // three slots, so previous goes.
        dropped[0] = std::move(next_);
        dropped[1] = std::move(previous_);
        next_ = std::move(keypair);
    }
}

bool Keypairs::received_with(const Keypair* kp, std::unique_ptr<Keypair>& dropped) {
    if (!next_ || next_.get() != kp) return false;
    dropped = std::move(previous_);
    previous_ = std::move(current_);
    current_ = std::move(next_);
    return true;
}

void Keypairs::clear(std::unique_ptr<Keypair> dropped[3]) {
    dropped[0] = std::move(previous_);
    dropped[1] = std::move(current_);
    dropped[2] = std::move(next_);
}

}  // namespace wgate::noise
