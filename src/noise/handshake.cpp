#include "wgate/noise/handshake.hpp"

#include <cstring>
#include <string_view>

#include "wgate/crypto/aead.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::noise {
namespace {

using Span = std::span<const std::uint8_t>;
using ChainingKey = crypto::Secret<32>;

constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";

Span as_span(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

struct InitialState {
    Hash chaining_key;
    Hash hash;
    InitialState() {
        chaining_key = crypto::blake2s({as_span(kConstruction)});
        hash = crypto::blake2s({chaining_key, as_span(kIdentifier)});
    }
};

const InitialState& initial() {
    static const InitialState state;
    return state;
}

void mix_hash(Hash& h, Span data) { h = crypto::blake2s({h, data}); }

void mix_key(ChainingKey& ck, Span input) { crypto::kdf(ck.data(), nullptr, nullptr, ck.data(), input); }

void mix_key_out(ChainingKey& ck, SymmetricKey& key, Span input) {
    crypto::kdf(ck.data(), key.data(), nullptr, ck.data(), input);
}

[[nodiscard]] bool mix_dh(ChainingKey& ck, SymmetricKey* key, const PrivateKey& priv, const PublicKey& pub) {
    SymmetricKey shared;
    if (!crypto::x25519(shared, priv, pub)) return false;
    if (key)
        mix_key_out(ck, *key, shared.span());
    else
        mix_key(ck, shared.span());
    return true;
}

// (C, tau, k) = KDF3(C, psk); H = HASH(H || tau)
void mix_psk(ChainingKey& ck, Hash& h, SymmetricKey& key, const PresharedKey& psk) {
    crypto::Secret<32> tau;
    crypto::kdf(ck.data(), tau.data(), key.data(), ck.data(), psk.span());
    mix_hash(h, tau.span());
}

// The hash and chaining key both sides start from for a given responder key.
void start(ChainingKey& ck, Hash& h, const PublicKey& responder_static) {
    ck = ChainingKey(initial().chaining_key);
    h = initial().hash;
    mix_hash(h, responder_static);
}

}  // namespace

const char* to_string(HandshakeError e) {
    switch (e) {
        case HandshakeError::none: return "ok";
        case HandshakeError::no_local_key: return "interface has no private key";
        case HandshakeError::low_order_point: return "low-order public key";
        case HandshakeError::decryption_failed: return "handshake decryption failed";
        case HandshakeError::replayed_timestamp: return "timestamp not newer than the last accepted (replay or clock problem)";
        case HandshakeError::flood: return "initiations arrive faster than 50 per second";
        case HandshakeError::wrong_state: return "response to no pending initiation";
    }
    return "unknown";
}

void LocalIdentity::set(const PrivateKey& key) {
    // Clamped as X25519 uses it, so the key we report is the key we use (as wg does).
    private_key = key;
    private_key.data()[0] &= 248;
    private_key.data()[31] = static_cast<std::uint8_t>((private_key.data()[31] & 127) | 64);
    public_key = crypto::public_key_of(key);
    has_key = !key.is_zero();
}

void LocalIdentity::clear() {
    private_key.clear();
    public_key.fill(0);
    has_key = false;
}

void Handshake::configure(const LocalIdentity& local, const PublicKey& remote_static) {
    remote_static_ = remote_static;
    static_static_.clear();
    static_static_state_ = local.has_key ? StaticStatic::not_computed : StaticStatic::unusable;
}

bool Handshake::usable(const LocalIdentity& local) {
    if (static_static_state_ == StaticStatic::not_computed) {
        const bool ok = local.has_key && crypto::x25519(static_static_, local.private_key, remote_static_);
        if (!ok) static_static_.clear();
        static_static_state_ = ok ? StaticStatic::computed : StaticStatic::unusable;
    }
    return static_static_state_ == StaticStatic::computed;
}

void Handshake::clear() {
    state_ = State::zeroed;
    crypto::secure_zero(hash_.data(), hash_.size());
    chaining_key_.clear();
    ephemeral_private_.clear();
    remote_ephemeral_.fill(0);
    local_index_ = 0;
    remote_index_ = 0;
}

HandshakeError Handshake::create_initiation(const LocalIdentity& local, std::uint32_t local_index,
                                            const crypto::Timestamp& now_tai64n, crypto::Random& random,
                                            Initiation& out) {
    if (!local.has_key) return HandshakeError::no_local_key;
    if (!usable(local)) return HandshakeError::low_order_point;

    ChainingKey ck;
    Hash h;
    start(ck, h, remote_static_);
    PrivateKey ephemeral = crypto::generate_private_key(random);
    out.ephemeral = crypto::public_key_of(ephemeral);
    mix_key(ck, out.ephemeral);
    mix_hash(h, out.ephemeral);

    SymmetricKey key;
    if (!mix_dh(ck, &key, ephemeral, remote_static_)) return HandshakeError::low_order_point;
    crypto::aead_seal(out.encrypted_static.data(), local.public_key, h, key, 0);
    mix_hash(h, out.encrypted_static);

    mix_key_out(ck, key, static_static_.span());
    crypto::aead_seal(out.encrypted_timestamp.data(), now_tai64n, h, key, 0);
    mix_hash(h, out.encrypted_timestamp);

    out.sender = local_index;
    out.mac1.fill(0);
    out.mac2.fill(0);

    hash_ = h;
    chaining_key_ = ck;
    ephemeral_private_ = ephemeral;
    remote_ephemeral_.fill(0);
    local_index_ = local_index;
    remote_index_ = 0;
    state_ = State::created_initiation;
    return HandshakeError::none;
}

HandshakeError open_initiation(const LocalIdentity& local, const Initiation& msg, OpenedInitiation& out) {
    if (!local.has_key) return HandshakeError::no_local_key;
    start(out.chaining_key, out.hash, local.public_key);
    mix_key(out.chaining_key, msg.ephemeral);
    mix_hash(out.hash, msg.ephemeral);

    SymmetricKey key;
    if (!mix_dh(out.chaining_key, &key, local.private_key, msg.ephemeral)) return HandshakeError::low_order_point;
    if (!crypto::aead_open(out.initiator_static.data(), msg.encrypted_static, out.hash, key, 0))
        return HandshakeError::decryption_failed;
    mix_hash(out.hash, msg.encrypted_static);
    out.initiator_ephemeral = msg.ephemeral;
    out.sender = msg.sender;
    return HandshakeError::none;
}

HandshakeError Handshake::consume_initiation(const LocalIdentity& local, const OpenedInitiation& opened,
                                             const Initiation& msg, Duration now) {
    if (!usable(local)) return HandshakeError::low_order_point;
    ChainingKey ck = opened.chaining_key;
    Hash h = opened.hash;
    SymmetricKey key;
    mix_key_out(ck, key, static_static_.span());
    crypto::Timestamp timestamp;
    if (!crypto::aead_open(timestamp.data(), msg.encrypted_timestamp, h, key, 0))
        return HandshakeError::decryption_failed;
    mix_hash(h, msg.encrypted_timestamp);

    if (!crypto::timestamp_after(timestamp, latest_timestamp_)) return HandshakeError::replayed_timestamp;
    if (last_initiation_consumption_ && now < *last_initiation_consumption_ + kMinInitiationInterval)
        return HandshakeError::flood;

    latest_timestamp_ = timestamp;
    last_initiation_consumption_ = now;
    hash_ = h;
    chaining_key_ = ck;
    ephemeral_private_.clear();
    remote_ephemeral_ = opened.initiator_ephemeral;
    remote_index_ = opened.sender;
    state_ = State::consumed_initiation;
    return HandshakeError::none;
}

HandshakeError Handshake::create_response(std::uint32_t local_index, crypto::Random& random, Response& out) {
    if (state_ != State::consumed_initiation) return HandshakeError::wrong_state;
    ChainingKey ck = chaining_key_;
    Hash h = hash_;

    PrivateKey ephemeral = crypto::generate_private_key(random);
    out.ephemeral = crypto::public_key_of(ephemeral);
    mix_key(ck, out.ephemeral);
    mix_hash(h, out.ephemeral);
    if (!mix_dh(ck, nullptr, ephemeral, remote_ephemeral_)) return HandshakeError::low_order_point;
    if (!mix_dh(ck, nullptr, ephemeral, remote_static_)) return HandshakeError::low_order_point;

    SymmetricKey key;
    mix_psk(ck, h, key, preshared_key_);
    crypto::aead_seal(out.encrypted_nothing.data(), {}, h, key, 0);
    mix_hash(h, out.encrypted_nothing);

    out.sender = local_index;
    out.receiver = remote_index_;
    out.mac1.fill(0);
    out.mac2.fill(0);

    hash_ = h;
    chaining_key_ = ck;
    ephemeral_private_ = ephemeral;
    local_index_ = local_index;
    state_ = State::created_response;
    return HandshakeError::none;
}

HandshakeError Handshake::consume_response(const LocalIdentity& local, const Response& msg) {
    if (state_ != State::created_initiation || msg.receiver != local_index_) return HandshakeError::wrong_state;
    if (!local.has_key) return HandshakeError::no_local_key;
    ChainingKey ck = chaining_key_;
    Hash h = hash_;

    mix_key(ck, msg.ephemeral);
    mix_hash(h, msg.ephemeral);
    if (!mix_dh(ck, nullptr, ephemeral_private_, msg.ephemeral)) return HandshakeError::low_order_point;
    if (!mix_dh(ck, nullptr, local.private_key, msg.ephemeral)) return HandshakeError::low_order_point;

    SymmetricKey key;
    mix_psk(ck, h, key, preshared_key_);
    std::uint8_t nothing[1];
    if (!crypto::aead_open(nothing, msg.encrypted_nothing, h, key, 0)) return HandshakeError::decryption_failed;
    mix_hash(h, msg.encrypted_nothing);

    hash_ = h;
    chaining_key_ = ck;
    remote_ephemeral_ = msg.ephemeral;
    remote_index_ = msg.sender;
    state_ = State::consumed_response;
    return HandshakeError::none;
}

std::optional<SessionKeys> Handshake::begin_session() {
    if (state_ != State::created_response && state_ != State::consumed_response) return std::nullopt;
    SessionKeys keys;
    keys.initiator = state_ == State::consumed_response;
    SymmetricKey first;
    SymmetricKey second;
    crypto::kdf(first.data(), second.data(), nullptr, chaining_key_.data(), {});
    keys.send = keys.initiator ? first : second;
    keys.receive = keys.initiator ? second : first;
    keys.local_index = local_index_;
    keys.remote_index = remote_index_;
    clear();
    return keys;
}

}  // namespace wgate::noise
