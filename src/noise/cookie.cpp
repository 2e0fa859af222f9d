#include "wgate/noise/cookie.hpp"

#include <string_view>

#include "wgate/crypto/aead.hpp"
#include "wgate/crypto/blake2s.hpp"

namespace wgate::noise {
namespace {

using Span = std::span<const std::uint8_t>;

constexpr std::string_view kLabelMac1 = "mac1----";
constexpr std::string_view kLabelCookie = "cookie--";

Span as_span(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

crypto::Secret<32> derive(std::string_view label, const crypto::PublicKey& key) {
    return crypto::Secret<32>(crypto::blake2s({as_span(label), key}));
}

// Bytes covered by mac1 and mac2 respectively.
Span mac1_input(Span msg) { return msg.first(msg.size() - kMacsSize); }
Span mac2_input(Span msg) { return msg.first(msg.size() - crypto::kMacSize); }
Span mac1_of(Span msg) { return msg.subspan(msg.size() - kMacsSize, crypto::kMacSize); }
Span mac2_of(Span msg) { return msg.subspan(msg.size() - crypto::kMacSize); }

bool is_handshake_size(std::size_t size) { return size == kInitiationSize || size == kResponseSize; }

}  // namespace

void CookieChecker::set_local_public_key(const crypto::PublicKey* key) {
    has_key_ = key != nullptr;
    if (key) {
        mac1_key_ = derive(kLabelMac1, *key);
        cookie_key_ = derive(kLabelCookie, *key);
    } else {
        mac1_key_.clear();
        cookie_key_.clear();
    }
}

Bytes<kCookieSize> CookieChecker::cookie_for(Span source, Duration now, crypto::Random& random) {
    if (!secret_birth_ || now - *secret_birth_ >= kCookieSecretMaxAge) {
        random.fill(secret_.data(), secret_.size());
        secret_birth_ = now;
    }
    return crypto::mac16(secret_.span(), source);
}

MacCheck CookieChecker::check(Span msg, Span source, Duration now, crypto::Random& random) {
    if (!has_key_ || !is_handshake_size(msg.size())) return MacCheck::invalid_mac1;
    const auto mac1 = crypto::mac16(mac1_key_.span(), mac1_input(msg));
    if (!crypto::equal_ct(mac1.data(), mac1_of(msg).data(), mac1.size())) return MacCheck::invalid_mac1;
    // A cookie made under a secret older than its max age is stale: that secret is gone.
    const auto cookie = cookie_for(source, now, random);
    const auto mac2 = crypto::mac16(cookie, mac2_input(msg));
    if (!crypto::equal_ct(mac2.data(), mac2_of(msg).data(), mac2.size())) return MacCheck::valid_mac1;
    return MacCheck::valid_mac1_and_mac2;
}

void CookieChecker::make_reply(Span msg, std::uint32_t sender_index, Span source, Duration now,
                               crypto::Random& random, CookieReply& out) {
    const auto cookie = cookie_for(source, now, random);
    out.receiver = sender_index;
    random.fill(out.nonce.data(), out.nonce.size());
    crypto::xaead_seal(out.encrypted_cookie.data(), cookie, mac1_of(msg), cookie_key_.data(), out.nonce.data());
}

void CookieGenerator::add_macs(const crypto::PublicKey& remote_static, std::uint8_t* msg, std::size_t size,
                               Duration now) {
    const Span all(msg, size);
    const auto mac1 = crypto::mac16(derive(kLabelMac1, remote_static).span(), mac1_input(all));
    std::memcpy(msg + size - kMacsSize, mac1.data(), mac1.size());
    last_mac1_sent_ = mac1;
    have_sent_mac1_ = true;

    Bytes<crypto::kMacSize> mac2{};
    if (has_fresh_cookie(now)) mac2 = crypto::mac16(cookie_, mac2_input(all));
    std::memcpy(msg + size - crypto::kMacSize, mac2.data(), mac2.size());
}

bool CookieGenerator::has_fresh_cookie(Duration now) const {
    return cookie_birth_ && now - *cookie_birth_ < kCookieSecretMaxAge - kCookieSecretLatency;
}

bool CookieGenerator::consume_reply(const crypto::PublicKey& remote_static, const CookieReply& reply,
                                    Duration now) {
    if (!have_sent_mac1_) return false;
    Bytes<kCookieSize> cookie;
    if (!crypto::xaead_open(cookie.data(), reply.encrypted_cookie, last_mac1_sent_,
                            derive(kLabelCookie, remote_static).data(), reply.nonce.data()))
        return false;
    cookie_ = cookie;
    cookie_birth_ = now;
    // One reply per MACed message, so a replayed reply cannot refresh the cookie.
    have_sent_mac1_ = false;
    return true;
}

}  // namespace wgate::noise
