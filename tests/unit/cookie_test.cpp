// mac1 / mac2 and cookie replies between one responder's CookieChecker and an
// initiator's CookieGenerator, with a virtual clock.
#include "wgate/noise/cookie.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "wgate/crypto/aead.hpp"
#include "wgate/crypto/blake2s.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"
#include "wgate/noise/messages.hpp"

namespace wgate::noise {
namespace {

using namespace std::chrono_literals;
using Span = std::span<const std::uint8_t>;

using InitiationBytes = std::array<std::uint8_t, kInitiationSize>;
using ResponseBytes = std::array<std::uint8_t, kResponseSize>;

// An initiation with contents that depend on `seed`, MACs zero.
InitiationBytes initiation_bytes(std::uint8_t seed) {
    Initiation m;
    m.sender = 0x01020300u + seed;
    for (std::size_t i = 0; i < m.ephemeral.size(); ++i) m.ephemeral[i] = static_cast<std::uint8_t>(seed + i);
    for (std::size_t i = 0; i < m.encrypted_static.size(); ++i)
        m.encrypted_static[i] = static_cast<std::uint8_t>(seed * 3 + i);
    for (std::size_t i = 0; i < m.encrypted_timestamp.size(); ++i)
        m.encrypted_timestamp[i] = static_cast<std::uint8_t>(seed * 7 + i);
    InitiationBytes out{};
    m.write(out.data());
    return out;
}

ResponseBytes response_bytes(std::uint8_t seed) {
    Response m;
    m.sender = 0x0a0b0c00u + seed;
    m.receiver = 0x01020300u + seed;
    for (std::size_t i = 0; i < m.ephemeral.size(); ++i) m.ephemeral[i] = static_cast<std::uint8_t>(seed ^ i);
    for (std::size_t i = 0; i < m.encrypted_nothing.size(); ++i)
        m.encrypted_nothing[i] = static_cast<std::uint8_t>(seed + 5 * i);
    ResponseBytes out{};
    m.write(out.data());
    return out;
}

template <std::size_t N>
bool mac2_is_zero(const std::array<std::uint8_t, N>& msg) {
    for (std::size_t i = N - crypto::kMacSize; i < N; ++i)
        if (msg[i] != 0) return false;
    return true;
}

class CookieTest : public ::testing::Test {
protected:
    CookieTest() {
        responder_public = crypto::public_key_of(crypto::generate_private_key(random));
        other_public = crypto::public_key_of(crypto::generate_private_key(random));
        checker.set_local_public_key(&responder_public);
    }

    // The initiation `seed` MACed by the generator at `now`.
    InitiationBytes maced_initiation(std::uint8_t seed, Duration now) {
        InitiationBytes msg = initiation_bytes(seed);
        generator.add_macs(responder_public, msg.data(), msg.size(), now);
        return msg;
    }

    MacCheck check(Span msg, Span src, Duration now) { return checker.check(msg, src, now, random); }

    // A cookie reply to msg, as the generator would receive it off the wire.
    CookieReply reply_to(Span msg, Span src, Duration now) {
        CookieReply reply;
        checker.make_reply(msg, 0x55667788, src, now, random, reply);
        std::array<std::uint8_t, kCookieReplySize> wire{};
        reply.write(wire.data());
        CookieReply parsed;
        EXPECT_TRUE(CookieReply::read(wire, parsed));
        return parsed;
    }

    crypto::DeterministicRandom random{42};
    crypto::PublicKey responder_public{};
    crypto::PublicKey other_public{};
    CookieChecker checker;
    CookieGenerator generator;
    // 192.0.2.1:51820 and two neighbours (address, then port).
    const std::array<std::uint8_t, 6> source{192, 0, 2, 1, 0xca, 0x6c};
    const std::array<std::uint8_t, 6> other_address{192, 0, 2, 2, 0xca, 0x6c};
    const std::array<std::uint8_t, 6> other_port{192, 0, 2, 1, 0xca, 0x6d};
    const Duration t0 = 1000s;
};

TEST_F(CookieTest, Mac1FromGeneratorAcceptedByResponder) {
    const auto msg = maced_initiation(1, t0);
    EXPECT_TRUE(mac2_is_zero(msg));  // no cookie yet
    EXPECT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
}

// mac1 = MAC(HASH("mac1----" || responder public key), message up to mac1),
// as the WireGuard paper defines it; stock peers compute exactly this.
TEST_F(CookieTest, Mac1MatchesPaperDefinition) {
    const auto msg = maced_initiation(2, t0);
    constexpr std::string_view label = "mac1----";
    const auto key = crypto::blake2s({Span(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()),
                                      responder_public});
    const auto expected = crypto::mac16(key, Span(msg).first(116));
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), msg.begin() + 116));
}

TEST_F(CookieTest, Mac1OnResponse) {
    ResponseBytes msg = response_bytes(3);
    generator.add_macs(responder_public, msg.data(), msg.size(), t0);
    EXPECT_TRUE(mac2_is_zero(msg));
    EXPECT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
}

TEST_F(CookieTest, CheckerOfAnotherKeyRejects) {
    CookieChecker other;
    other.set_local_public_key(&other_public);
    const auto msg = maced_initiation(1, t0);
    EXPECT_EQ(other.check(msg, source, t0, random), MacCheck::invalid_mac1);

    // And the generator aimed at another key is rejected by our responder.
    CookieGenerator wrong;
    InitiationBytes msg2 = initiation_bytes(1);
    wrong.add_macs(other_public, msg2.data(), msg2.size(), t0);
    EXPECT_EQ(check(msg2, source, t0), MacCheck::invalid_mac1);
}

TEST_F(CookieTest, FlippingAnyCoveredByteInvalidatesMac1) {
    const auto msg = maced_initiation(4, t0);
    ASSERT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
    for (std::size_t i = 0; i < kInitiationSize - crypto::kMacSize; ++i) {
        auto bad = msg;
        bad[i] ^= 0x01;
        EXPECT_EQ(check(bad, source, t0), MacCheck::invalid_mac1) << "byte " << i;
    }
    // mac2 is not covered by mac1: changing it leaves mac1 valid.
    for (std::size_t i = kInitiationSize - crypto::kMacSize; i < kInitiationSize; ++i) {
        auto bad = msg;
        bad[i] ^= 0x80;
        EXPECT_EQ(check(bad, source, t0), MacCheck::valid_mac1) << "byte " << i;
    }
}

TEST_F(CookieTest, FlippingAnyCoveredByteOfResponseInvalidatesMac1) {
    ResponseBytes msg = response_bytes(5);
    generator.add_macs(responder_public, msg.data(), msg.size(), t0);
    ASSERT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
    for (std::size_t i = 0; i < kResponseSize - crypto::kMacSize; ++i) {
        auto bad = msg;
        bad[i] ^= 0x10;
        EXPECT_EQ(check(bad, source, t0), MacCheck::invalid_mac1) << "byte " << i;
    }
}

TEST_F(CookieTest, CookieReplyEnablesMac2ForThatSourceOnly) {
    const auto msg = maced_initiation(1, t0);
    ASSERT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
    CookieReply reply;
    checker.make_reply(msg, 0x55667788, source, t0, random, reply);
    EXPECT_EQ(reply.receiver, 0x55667788u);
    ASSERT_FALSE(generator.has_fresh_cookie(t0));
    ASSERT_TRUE(generator.consume_reply(responder_public, reply, t0 + 10ms));
    EXPECT_TRUE(generator.has_fresh_cookie(t0 + 10ms));

    const auto next = maced_initiation(2, t0 + 20ms);
    EXPECT_FALSE(mac2_is_zero(next));
    EXPECT_EQ(check(next, source, t0 + 30ms), MacCheck::valid_mac1_and_mac2);
    EXPECT_EQ(check(next, other_address, t0 + 30ms), MacCheck::valid_mac1);
    EXPECT_EQ(check(next, other_port, t0 + 30ms), MacCheck::valid_mac1);

    // mac2 covers everything before it, mac1 included.
    auto bad = next;
    bad[kInitiationSize - 1] ^= 0x01;
    EXPECT_EQ(check(bad, source, t0 + 30ms), MacCheck::valid_mac1);

    // Responses carry mac2 the same way.
    ResponseBytes resp = response_bytes(6);
    generator.add_macs(responder_public, resp.data(), resp.size(), t0 + 40ms);
    EXPECT_EQ(check(resp, source, t0 + 40ms), MacCheck::valid_mac1_and_mac2);
    EXPECT_EQ(check(resp, other_address, t0 + 40ms), MacCheck::valid_mac1);
}

// The reply is XChaCha20-Poly1305 under HASH("cookie--" || responder key) with
// the message's mac1 as associated data, and mac2 = MAC(cookie, message up to
// mac2), mac1 included: what a stock peer decrypts and computes.
TEST_F(CookieTest, ReplyAndMac2MatchPaperDefinition) {
    const auto msg = maced_initiation(1, t0);
    const CookieReply reply = reply_to(msg, source, t0);
    constexpr std::string_view label = "cookie--";
    const auto key = crypto::blake2s({Span(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()),
                                      responder_public});
    Bytes<kCookieSize> cookie{};
    ASSERT_TRUE(crypto::xaead_open(cookie.data(), reply.encrypted_cookie, Span(msg).subspan(116, 16), key.data(),
                                   reply.nonce.data()));

    ASSERT_TRUE(generator.consume_reply(responder_public, reply, t0));
    const auto next = maced_initiation(2, t0 + 1s);
    const auto expected = crypto::mac16(cookie, Span(next).first(132));
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), next.begin() + 132));
}

TEST_F(CookieTest, ReplyAcceptedOnlyOnce) {
    const auto msg = maced_initiation(1, t0);
    const CookieReply reply = reply_to(msg, source, t0);
    ASSERT_TRUE(generator.consume_reply(responder_public, reply, t0));
    EXPECT_FALSE(generator.consume_reply(responder_public, reply, t0 + 1s));  // replay

    // Nor after we MACed another message: the reply is bound to the old mac1.
    maced_initiation(2, t0 + 2s);
    EXPECT_FALSE(generator.consume_reply(responder_public, reply, t0 + 2s));
}

TEST_F(CookieTest, ReplyWithoutSentMessageRejected) {
    const auto msg = maced_initiation(1, t0);
    const CookieReply reply = reply_to(msg, source, t0);
    CookieGenerator fresh;
    EXPECT_FALSE(fresh.consume_reply(responder_public, reply, t0));
}

TEST_F(CookieTest, ReplyToAnotherMessageRejected) {
    maced_initiation(1, t0);
    // The responder answers a message the generator did not send last.
    CookieGenerator someone_else;
    InitiationBytes theirs = initiation_bytes(9);
    someone_else.add_macs(responder_public, theirs.data(), theirs.size(), t0);
    const CookieReply reply = reply_to(theirs, source, t0);
    EXPECT_FALSE(generator.consume_reply(responder_public, reply, t0));
    EXPECT_TRUE(someone_else.consume_reply(responder_public, reply, t0));
}

TEST_F(CookieTest, TamperedReplyRejected) {
    const auto msg = maced_initiation(1, t0);
    const CookieReply reply = reply_to(msg, source, t0);
    for (std::size_t i = 0; i < reply.nonce.size(); ++i) {
        CookieReply bad = reply;
        bad.nonce[i] ^= 0x01;
        EXPECT_FALSE(generator.consume_reply(responder_public, bad, t0)) << "nonce byte " << i;
    }
    for (std::size_t i = 0; i < reply.encrypted_cookie.size(); ++i) {
        CookieReply bad = reply;
        bad.encrypted_cookie[i] ^= 0x01;
        EXPECT_FALSE(generator.consume_reply(responder_public, bad, t0)) << "cookie byte " << i;
    }
    EXPECT_FALSE(generator.has_fresh_cookie(t0));
    // Failed attempts do not use up the one reply we wait for.
    EXPECT_TRUE(generator.consume_reply(responder_public, reply, t0));
}

TEST_F(CookieTest, ReplyFromAnotherResponderRejected) {
    const auto msg = maced_initiation(1, t0);
    CookieChecker other;
    other.set_local_public_key(&other_public);
    CookieReply reply;
    other.make_reply(msg, 1, source, t0, random, reply);
    EXPECT_FALSE(generator.consume_reply(responder_public, reply, t0));
}

TEST_F(CookieTest, CookieExpiresAfterMaxAgeMinusLatency) {
    const auto msg = maced_initiation(1, t0);
    ASSERT_TRUE(generator.consume_reply(responder_public, reply_to(msg, source, t0), t0));
    const Duration expiry = t0 + kCookieSecretMaxAge - kCookieSecretLatency;  // t0 + 115 s

    EXPECT_TRUE(generator.has_fresh_cookie(expiry - 1ns));
    const auto last_with_mac2 = maced_initiation(2, expiry - 1ns);
    EXPECT_FALSE(mac2_is_zero(last_with_mac2));
    EXPECT_EQ(check(last_with_mac2, source, expiry - 1ns), MacCheck::valid_mac1_and_mac2);

    EXPECT_FALSE(generator.has_fresh_cookie(expiry));
    const auto stale = maced_initiation(3, expiry);
    EXPECT_TRUE(mac2_is_zero(stale));
    EXPECT_EQ(check(stale, source, expiry), MacCheck::valid_mac1);
}

TEST_F(CookieTest, CheckerSecretRotatesAfterMaxAge) {
    // The checker's secret is born at the first check, t0.
    const auto msg = maced_initiation(1, t0);
    ASSERT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
    ASSERT_TRUE(generator.consume_reply(responder_public, reply_to(msg, source, t0), t0));

    const auto with_cookie = maced_initiation(2, t0 + 100s);
    ASSERT_FALSE(mac2_is_zero(with_cookie));
    EXPECT_EQ(check(with_cookie, source, t0 + kCookieSecretMaxAge - 1ns), MacCheck::valid_mac1_and_mac2);
    // At max age the secret is replaced: the cookie from before is worthless.
    EXPECT_EQ(check(with_cookie, source, t0 + kCookieSecretMaxAge), MacCheck::valid_mac1);
    EXPECT_EQ(check(with_cookie, source, t0 + kCookieSecretMaxAge + 1s), MacCheck::valid_mac1);

    // A new cookie under the new secret works again.
    const Duration t1 = t0 + kCookieSecretMaxAge + 2s;
    const auto again = maced_initiation(3, t1);
    ASSERT_TRUE(generator.consume_reply(responder_public, reply_to(again, source, t1), t1));
    const auto renewed = maced_initiation(4, t1 + 1s);
    EXPECT_EQ(check(renewed, source, t1 + 1s), MacCheck::valid_mac1_and_mac2);
}

TEST_F(CookieTest, CheckerWithoutKeyRejectsEverything) {
    const auto msg = maced_initiation(1, t0);
    ASSERT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
    checker.set_local_public_key(nullptr);
    EXPECT_EQ(check(msg, source, t0), MacCheck::invalid_mac1);

    CookieChecker never_configured;
    EXPECT_EQ(never_configured.check(msg, source, t0, random), MacCheck::invalid_mac1);

    // Setting the key again restores it.
    checker.set_local_public_key(&responder_public);
    EXPECT_EQ(check(msg, source, t0), MacCheck::valid_mac1);
}

// A message of any other size is refused even when its mac1 is consistent
// with its own (wrong) length.
TEST_F(CookieTest, WrongSizeRejected) {
    for (std::size_t size : {std::size_t{0}, std::size_t{31}, std::size_t{32}, kCookieReplySize,
                             kResponseSize - 1, kResponseSize + 1, kInitiationSize - 1, kInitiationSize + 1,
                             std::size_t{1500}}) {
        std::vector<std::uint8_t> msg(size, 0x5a);
        if (size >= kMacsSize) generator.add_macs(responder_public, msg.data(), msg.size(), t0);
        EXPECT_EQ(check(msg, source, t0), MacCheck::invalid_mac1) << size;
    }
}

}  // namespace
}  // namespace wgate::noise
