#include "wgate/core/events.hpp"

namespace wgate::core {

const char* to_string(EventKind k) {
    switch (k) {
        case EventKind::initiation_sent: return "handshake initiation sent";
        case EventKind::initiation_received: return "handshake initiation received";
        case EventKind::response_sent: return "handshake response sent";
        case EventKind::response_received: return "handshake response received";
        case EventKind::handshake_completed: return "handshake completed";
        case EventKind::handshake_gave_up: return "handshake gave up";
        case EventKind::cookie_sent: return "cookie reply sent (under load)";
        case EventKind::cookie_received: return "cookie reply received";
        case EventKind::keys_zeroed: return "session keys zeroed";
        case EventKind::endpoint_changed: return "endpoint changed";
        case EventKind::rejected: return "rejected";
    }
    return "unknown";
}

const char* to_string(Reason r) {
    switch (r) {
        case Reason::none: return "none";
        case Reason::bad_length: return "bad message length";
        case Reason::bad_type: return "unknown message type";
        case Reason::bad_mac1: return "mac1 invalid: the sender uses a different public key for this server";
        case Reason::no_private_key: return "interface has no private key";
        case Reason::unknown_peer: return "unknown peer: initiation from a public key not configured here";
        case Reason::bad_handshake: return "handshake did not decrypt";
        case Reason::replayed_timestamp: return "timestamp not newer: replay or clock problem";
        case Reason::handshake_flood: return "initiations faster than 50/s from this peer";
        case Reason::unknown_index: return "unknown receiver index";
        case Reason::wrong_state: return "response without a pending initiation";
        case Reason::rate_limited: return "rate limited under load";
        case Reason::bad_cookie: return "cookie reply did not decrypt";
        case Reason::expired_keypair: return "session expired";
        case Reason::decrypt_failed: return "decryption failed";
        case Reason::replay: return "replayed or too old counter";
        case Reason::bad_inner_packet: return "decrypted packet is not valid IPv4/IPv6";
        case Reason::disallowed_source: return "source address not in the peer's allowed IPs";
        case Reason::no_route: return "no peer's allowed IPs cover the destination";
        case Reason::no_endpoint: return "peer has no endpoint";
        case Reason::bad_tun_packet: return "packet from TUN without a valid IP header";
        case Reason::staged_overflow: return "queue for pending handshake full";
    }
    return "unknown";
}

const char* key_of(Reason r) {
    switch (r) {
        case Reason::none: return "none";
        case Reason::bad_length: return "bad_length";
        case Reason::bad_type: return "bad_type";
        case Reason::bad_mac1: return "bad_mac1";
        case Reason::no_private_key: return "no_private_key";
        case Reason::unknown_peer: return "unknown_peer";
        case Reason::bad_handshake: return "bad_handshake";
        case Reason::replayed_timestamp: return "replayed_timestamp";
        case Reason::handshake_flood: return "handshake_flood";
        case Reason::unknown_index: return "unknown_index";
        case Reason::wrong_state: return "wrong_state";
        case Reason::rate_limited: return "rate_limited";
        case Reason::bad_cookie: return "bad_cookie";
        case Reason::expired_keypair: return "expired_keypair";
        case Reason::decrypt_failed: return "decrypt_failed";
        case Reason::replay: return "replay";
        case Reason::bad_inner_packet: return "bad_inner_packet";
        case Reason::disallowed_source: return "disallowed_source";
        case Reason::no_route: return "no_route";
        case Reason::no_endpoint: return "no_endpoint";
        case Reason::bad_tun_packet: return "bad_tun_packet";
        case Reason::staged_overflow: return "staged_overflow";
    }
    return "unknown";
}

std::optional<Reason> reason_from_key(std::string_view key) {
    for (std::size_t i = 0; i < kReasonCount; ++i) {
        const auto r = static_cast<Reason>(i);
        if (key == key_of(r)) return r;
    }
    return std::nullopt;
}

}  // namespace wgate::core
