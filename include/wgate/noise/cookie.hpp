// mac1/mac2 and cookie replies (WireGuard paper, section 5.4.7 and 5.3).
//
// mac1 proves the sender knows our public key; mac2 proves it can receive at
// its source address, via a cookie we handed it earlier. Under load we answer
// initiations that lack a valid mac2 with a cookie reply instead of doing DH.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "wgate/crypto/random.hpp"
#include "wgate/crypto/secret.hpp"
#include "wgate/noise/constants.hpp"
#include "wgate/noise/messages.hpp"

namespace wgate::noise {

enum class MacCheck { invalid_mac1, valid_mac1, valid_mac1_and_mac2 };

// Responder side: one per interface.
class CookieChecker {
public:
    void set_local_public_key(const crypto::PublicKey* key);  // nullptr: no key, every mac1 invalid

    // msg is a whole initiation or response; source is an opaque, stable
    // encoding of the sender's address and port.
    MacCheck check(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> source, Duration now,
                   crypto::Random& random);

    // A cookie reply to msg (initiation or response) from source.
    void make_reply(std::span<const std::uint8_t> msg, std::uint32_t sender_index,
                    std::span<const std::uint8_t> source, Duration now, crypto::Random& random, CookieReply& out);

private:
    Bytes<kCookieSize> cookie_for(std::span<const std::uint8_t> source, Duration now, crypto::Random& random);

    bool has_key_ = false;
    crypto::Secret<32> mac1_key_;
    crypto::Secret<32> cookie_key_;
    crypto::Secret<32> secret_;
    std::optional<Duration> secret_birth_;
};

// Initiator side of mac1/mac2 and receiver of cookie replies: one per peer.
// The keys derived from the peer's public key are derived again for each
// message (one BLAKE2s block each, next to a handshake's four X25519) instead
// of being kept: 64 bytes on each of a big gateway's idle peers.
class CookieGenerator {
public:
    // Writes mac1 and mac2 into the last 32 bytes of a serialised initiation
    // or response for remote_static. mac2 is zero unless we hold a fresh cookie.
    void add_macs(const crypto::PublicKey& remote_static, std::uint8_t* msg, std::size_t size, Duration now);

    // Accepts a cookie reply from remote_static for the last message we MACed.
    [[nodiscard]] bool consume_reply(const crypto::PublicKey& remote_static, const CookieReply& reply, Duration now);
    bool has_fresh_cookie(Duration now) const;

private:
    Bytes<kCookieSize> cookie_{};
    std::optional<Duration> cookie_birth_;
    Bytes<crypto::kMacSize> last_mac1_sent_{};
    bool have_sent_mac1_ = false;
};

}  // namespace wgate::noise
