// The Noise_IKpsk2 handshake as WireGuard uses it: one state per peer, driven
// by create/consume calls. Pure computation: indices, randomness and time come
// from the caller, and nothing here knows endpoints or other peers.
#pragma once

#include <cstdint>
#include <optional>

#include "wgate/crypto/blake2s.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/secret.hpp"
#include "wgate/crypto/tai64n.hpp"
#include "wgate/noise/constants.hpp"
#include "wgate/noise/messages.hpp"

namespace wgate::noise {

using crypto::Hash;
using crypto::PresharedKey;
using crypto::PrivateKey;
using crypto::PublicKey;
using crypto::SymmetricKey;

// Our interface's static key pair.
struct LocalIdentity {
    PrivateKey private_key;
    PublicKey public_key{};
    bool has_key = false;

    void set(const PrivateKey& key);
    void clear();
};

// The keys a completed handshake yields.
struct SessionKeys {
    SymmetricKey send;
    SymmetricKey receive;
    bool initiator = false;
    std::uint32_t local_index = 0;
    std::uint32_t remote_index = 0;
};

// An initiation whose static key decrypted: enough to find the peer it is
// from, before any per-peer state changes.
struct OpenedInitiation {
    PublicKey initiator_static{};
    PublicKey initiator_ephemeral{};
    std::uint32_t sender = 0;
    Hash hash{};
    crypto::Secret<32> chaining_key;
};

enum class HandshakeError {
    none,
    no_local_key,       // our interface has no private key
    low_order_point,    // a DH result was all zero
    decryption_failed,  // an AEAD field did not authenticate
    replayed_timestamp, // initiation timestamp not newer than the last accepted one
    flood,              // initiations from this peer come faster than 50/s
    wrong_state,        // a response to no initiation of ours
};
const char* to_string(HandshakeError e);

class Handshake {
public:
    enum class State { zeroed, created_initiation, consumed_initiation, created_response, consumed_response };

    Handshake() = default;
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;

    // Per-peer configuration. Call again after our or their static key changes.
    // DH(our static, their static) is computed on first use, not here: loading
    // 100,000 peers (or changing our key under them) must not cost 100,000
    // X25519 operations up front.
    void configure(const LocalIdentity& local, const PublicKey& remote_static);
    void set_preshared_key(const PresharedKey& psk) { preshared_key_ = psk; }
    const PresharedKey& preshared_key() const { return preshared_key_; }
    const PublicKey& remote_static() const { return remote_static_; }
    // False without a local key or when DH(our static, their static) is all
    // zero: no handshake possible. `local` is the identity configure() saw.
    bool usable(const LocalIdentity& local);

    // Initiator, step 1. Fills everything but the MACs.
    HandshakeError create_initiation(const LocalIdentity& local, std::uint32_t local_index,
                                     const crypto::Timestamp& now_tai64n, crypto::Random& random, Initiation& out);
    // Responder, step 1 second half: commits an opened initiation for this peer.
    HandshakeError consume_initiation(const LocalIdentity& local, const OpenedInitiation& opened, const Initiation& msg,
                                      Duration now);
    // Responder, step 2.
    HandshakeError create_response(std::uint32_t local_index, crypto::Random& random, Response& out);
    // Initiator, step 2 (the caller found this handshake by msg.receiver).
    HandshakeError consume_response(const LocalIdentity& local, const Response& msg);

    // After created_response or consumed_response: derive the transport keys
    // and return to zeroed. Returns nothing in any other state.
    std::optional<SessionKeys> begin_session();

    void clear();  // back to zeroed, ephemeral state wiped; keeps configuration and replay state
    State state() const { return state_; }
    std::uint32_t local_index() const { return local_index_; }
    std::uint32_t remote_index() const { return remote_index_; }

private:
    // Configuration
    PublicKey remote_static_{};
    PresharedKey preshared_key_;
    enum class StaticStatic : std::uint8_t { unusable, not_computed, computed };
    SymmetricKey static_static_;
    StaticStatic static_static_state_ = StaticStatic::unusable;
    // Replay and flood state, kept across handshakes
    crypto::Timestamp latest_timestamp_{};
    std::optional<Duration> last_initiation_consumption_;
    // In-flight state
    State state_ = State::zeroed;
    Hash hash_{};
    crypto::Secret<32> chaining_key_;
    PrivateKey ephemeral_private_;
    PublicKey remote_ephemeral_{};
    std::uint32_t local_index_ = 0;
    std::uint32_t remote_index_ = 0;
};

// Responder, step 1 first half: verify that an initiation is for us and
// decrypt the initiator's static key. MACs are checked by the cookie checker.
HandshakeError open_initiation(const LocalIdentity& local, const Initiation& msg, OpenedInitiation& out);

}  // namespace wgate::noise
