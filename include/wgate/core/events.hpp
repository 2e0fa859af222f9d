// What the core reports to the shell besides packets: handshake progress per
// peer and the reason for every rejected input, for logs that answer "why is
// there no handshake?". The shell decides what to log and rate-limits it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "wgate/core/endpoint.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::core {

enum class EventKind {
    initiation_sent,      // attempt: 1 for the first, N for retry N-1
    initiation_received,
    response_sent,
    response_received,
    handshake_completed,
    handshake_gave_up,    // REKEY_ATTEMPT_TIME passed without a response
    cookie_sent,          // under load: a cookie reply instead of a response
    cookie_received,
    keys_zeroed,          // 3 * REJECT_AFTER_TIME without a new session
    endpoint_changed,     // roaming
    rejected,             // an input dropped; `reason` says why
};
const char* to_string(EventKind k);

// Why an input was dropped. Each has a device counter.
enum class Reason {
    none,
    bad_length,         // a datagram shorter or longer than its type allows
    bad_type,           // unknown message type (or non-zero reserved bytes)
    bad_mac1,           // the sender used a different public key for this interface
    no_private_key,     // this interface has no private key yet
    unknown_peer,       // a valid initiation from a public key we do not know
    bad_handshake,      // a handshake field did not decrypt
    replayed_timestamp, // the initiation is not newer than the last one (replay or clock problem)
    handshake_flood,    // initiations from one peer faster than 50 per second
    unknown_index,      // a receiver index we never handed out (or already released)
    wrong_state,        // a response for an initiation we no longer wait for
    rate_limited,       // under load, this source sent too many handshakes
    bad_cookie,         // a cookie reply that did not decrypt
    expired_keypair,    // data on a session past REJECT_AFTER_TIME or its message limit
    decrypt_failed,     // transport data did not authenticate
    replay,             // transport counter already seen or too old
    bad_inner_packet,   // decrypted data that is not a valid IPv4/IPv6 packet
    disallowed_source,  // the inner source address is not in this peer's allowed IPs
    no_route,           // TUN packet to an address no peer's allowed IPs cover
    no_endpoint,        // TUN packet for a peer whose endpoint is unknown
    bad_tun_packet,     // TUN packet without a valid IP header
    staged_overflow,    // packets queued for a handshake exceeded the queue
};
inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::staged_overflow) + 1;
const char* to_string(Reason r);
// A stable snake_case key ("bad_mac1", "unknown_peer", ...): the enumerator's
// name. Machine-readable outputs (the UAPI's wgate_dropped / wgate_last_rejection,
// `wgate show --json`) use it, so it never changes once released.
const char* key_of(Reason r);
// The Reason with that key; nullopt for an unknown key.
std::optional<Reason> reason_from_key(std::string_view key);

struct Event {
    EventKind kind = EventKind::rejected;
    Reason reason = Reason::none;
    std::optional<crypto::PublicKey> peer;  // when the input could be tied to a peer
    Endpoint endpoint;                      // remote side involved, if any
    int attempt = 0;
};

}  // namespace wgate::core
