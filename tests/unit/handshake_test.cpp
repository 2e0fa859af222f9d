// The Noise_IKpsk2 handshake between two identities, end to end through the
// wire formats and into transport keypairs, and every refusal leaving the
// state as it was.
#include "wgate/noise/handshake.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "wgate/crypto/aead.hpp"
#include "wgate/crypto/blake2s.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/tai64n.hpp"
#include "wgate/crypto/x25519.hpp"
#include "wgate/noise/keypair.hpp"
#include "wgate/noise/messages.hpp"
#include "wgate/noise/transport.hpp"

namespace wgate::noise {
namespace {

using namespace std::chrono_literals;
using State = Handshake::State;

constexpr std::uint32_t kAliceIndex = 0x11111111;
constexpr std::uint32_t kBobIndex = 0x22222222;

// Messages as the other side sees them: written to bytes and parsed back.
Initiation over_wire(const Initiation& m) {
    std::array<std::uint8_t, kInitiationSize> bytes{};
    m.write(bytes.data());
    Initiation out;
    EXPECT_TRUE(Initiation::read(bytes, out));
    return out;
}

Response over_wire(const Response& m) {
    std::array<std::uint8_t, kResponseSize> bytes{};
    m.write(bytes.data());
    Response out;
    EXPECT_TRUE(Response::read(bytes, out));
    return out;
}

PublicKey key_from_bytes(std::initializer_list<std::uint8_t> head) {
    PublicKey k{};
    std::copy(head.begin(), head.end(), k.begin());
    return k;
}

// Alice initiates to Bob. at_alice is Alice's state for peer Bob, at_bob
// Bob's state for peer Alice.
struct Parties {
    explicit Parties(std::uint64_t seed) : random(seed) {
        alice.set(crypto::generate_private_key(random));
        bob.set(crypto::generate_private_key(random));
        carol.set(crypto::generate_private_key(random));
        at_alice.configure(alice, bob.public_key);
        at_bob.configure(bob, alice.public_key);
    }

    Initiation initiate(std::uint32_t index = kAliceIndex, Duration wall_offset = 0s) {
        Initiation m;
        EXPECT_EQ(at_alice.create_initiation(alice, index, crypto::tai64n(wall + wall_offset), random, m),
                  HandshakeError::none);
        return over_wire(m);
    }

    // Bob opens and consumes an initiation at monotonic time now.
    HandshakeError receive_initiation(const Initiation& m, Duration now) {
        OpenedInitiation opened;
        const HandshakeError e = open_initiation(bob, m, opened);
        if (e != HandshakeError::none) return e;
        EXPECT_EQ(opened.initiator_static, alice.public_key);
        return at_bob.consume_initiation(bob, opened, m, now);
    }

    Response respond(std::uint32_t index = kBobIndex) {
        Response m;
        EXPECT_EQ(at_bob.create_response(index, random, m), HandshakeError::none);
        return over_wire(m);
    }

    // The whole exchange; both sides end with session keys.
    void complete(std::optional<SessionKeys>& initiator, std::optional<SessionKeys>& responder) {
        const Initiation init = initiate();
        ASSERT_EQ(receive_initiation(init, mono), HandshakeError::none);
        const Response resp = respond();
        ASSERT_EQ(at_alice.consume_response(alice, resp), HandshakeError::none);
        initiator = at_alice.begin_session();
        responder = at_bob.begin_session();
        ASSERT_TRUE(initiator.has_value());
        ASSERT_TRUE(responder.has_value());
    }

    crypto::DeterministicRandom random;
    LocalIdentity alice;
    LocalIdentity bob;
    LocalIdentity carol;
    Handshake at_alice;
    Handshake at_bob;
    const Duration wall = 1'700'000'000s;  // a TAI64N granule starts here
    const Duration mono = 500s;
};

class HandshakeTest : public ::testing::Test, protected Parties {
protected:
    HandshakeTest() : Parties(7) {}
};

void expect_matching_sessions(const SessionKeys& i, const SessionKeys& r) {
    EXPECT_TRUE(i.send == r.receive);
    EXPECT_TRUE(i.receive == r.send);
    EXPECT_FALSE(i.send == i.receive);
    EXPECT_FALSE(i.send.is_zero());
    EXPECT_FALSE(i.receive.is_zero());
    EXPECT_TRUE(i.initiator);
    EXPECT_FALSE(r.initiator);
    EXPECT_EQ(i.local_index, kAliceIndex);
    EXPECT_EQ(i.remote_index, kBobIndex);
    EXPECT_EQ(r.local_index, kBobIndex);
    EXPECT_EQ(r.remote_index, kAliceIndex);
}

TEST_F(HandshakeTest, IdentitiesAndConfiguration) {
    EXPECT_TRUE(alice.has_key);
    EXPECT_EQ(alice.public_key, crypto::public_key_of(alice.private_key));
    EXPECT_NE(alice.public_key, bob.public_key);
    EXPECT_TRUE(at_alice.usable(alice));
    EXPECT_TRUE(at_bob.usable(bob));
    EXPECT_EQ(at_alice.remote_static(), bob.public_key);
    EXPECT_EQ(at_alice.state(), State::zeroed);
}

TEST_F(HandshakeTest, FullHandshakeStepByStep) {
    Initiation sent;
    ASSERT_EQ(at_alice.create_initiation(alice, kAliceIndex, crypto::tai64n(wall), random, sent),
              HandshakeError::none);
    EXPECT_EQ(at_alice.state(), State::created_initiation);
    EXPECT_EQ(at_alice.local_index(), kAliceIndex);
    EXPECT_EQ(sent.sender, kAliceIndex);
    // The MACs are the cookie layer's business.
    EXPECT_EQ(sent.mac1, Bytes<16>{});
    EXPECT_EQ(sent.mac2, Bytes<16>{});
    // The initiator's static key travels encrypted.
    EXPECT_FALSE(std::equal(alice.public_key.begin(), alice.public_key.end(), sent.encrypted_static.begin()));

    const Initiation init = over_wire(sent);
    OpenedInitiation opened;
    ASSERT_EQ(open_initiation(bob, init, opened), HandshakeError::none);
    EXPECT_EQ(opened.initiator_static, alice.public_key);
    EXPECT_EQ(opened.initiator_ephemeral, init.ephemeral);
    EXPECT_EQ(opened.sender, kAliceIndex);
    EXPECT_EQ(at_bob.state(), State::zeroed);  // opening alone changes no peer state

    ASSERT_EQ(at_bob.consume_initiation(bob, opened, init, mono), HandshakeError::none);
    EXPECT_EQ(at_bob.state(), State::consumed_initiation);
    EXPECT_EQ(at_bob.remote_index(), kAliceIndex);

    Response sent_resp;
    ASSERT_EQ(at_bob.create_response(kBobIndex, random, sent_resp), HandshakeError::none);
    EXPECT_EQ(at_bob.state(), State::created_response);
    EXPECT_EQ(at_bob.local_index(), kBobIndex);
    EXPECT_EQ(sent_resp.sender, kBobIndex);
    EXPECT_EQ(sent_resp.receiver, kAliceIndex);
    EXPECT_NE(sent_resp.ephemeral, init.ephemeral);

    ASSERT_EQ(at_alice.consume_response(alice, over_wire(sent_resp)), HandshakeError::none);
    EXPECT_EQ(at_alice.state(), State::consumed_response);
    EXPECT_EQ(at_alice.remote_index(), kBobIndex);

    const auto initiator = at_alice.begin_session();
    const auto responder = at_bob.begin_session();
    ASSERT_TRUE(initiator && responder);
    expect_matching_sessions(*initiator, *responder);

    for (const Handshake* h : {&at_alice, &at_bob}) {
        EXPECT_EQ(h->state(), State::zeroed);
        EXPECT_EQ(h->local_index(), 0u);
        EXPECT_EQ(h->remote_index(), 0u);
    }
    // Keys come out once.
    EXPECT_FALSE(at_alice.begin_session().has_value());
    EXPECT_FALSE(at_bob.begin_session().has_value());
}

TEST_F(HandshakeTest, FullHandshakeWithPresharedKey) {
    crypto::PresharedKey psk;
    random.fill(psk.data(), psk.size());
    at_alice.set_preshared_key(psk);
    at_bob.set_preshared_key(psk);
    EXPECT_TRUE(at_alice.preshared_key() == psk);
    std::optional<SessionKeys> i, r;
    ASSERT_NO_FATAL_FAILURE(complete(i, r));
    expect_matching_sessions(*i, *r);
}

// Two runs with the same seed differ only in the PSK: the PSK must change the
// session keys, and without it the run must be reproducible.
TEST(HandshakeDeterminism, PresharedKeyChangesSessionKeys) {
    struct Run : Parties {
        Run() : Parties(99) {}
        SessionKeys keys(const crypto::PresharedKey* psk) {
            if (psk) {
                at_alice.set_preshared_key(*psk);
                at_bob.set_preshared_key(*psk);
            }
            std::optional<SessionKeys> i, r;
            complete(i, r);
            return i.value_or(SessionKeys{});
        }
    };
    crypto::PresharedKey psk(Bytes<32>{1, 2, 3});
    const SessionKeys plain1 = Run().keys(nullptr);
    const SessionKeys plain2 = Run().keys(nullptr);
    const SessionKeys with_psk = Run().keys(&psk);
    EXPECT_TRUE(plain1.send == plain2.send);
    EXPECT_TRUE(plain1.receive == plain2.receive);
    EXPECT_FALSE(plain1.send == with_psk.send);
    EXPECT_FALSE(plain1.receive == with_psk.receive);
}

// After the handshake both sides talk through Keypairs.
TEST_F(HandshakeTest, TransportBothWaysAfterHandshake) {
    std::optional<SessionKeys> i, r;
    ASSERT_NO_FATAL_FAILURE(complete(i, r));
    Keypair a(std::move(*i), mono);
    Keypair b(std::move(*r), mono);
    EXPECT_TRUE(i->send.is_zero());  // the keypair took the keys
    EXPECT_TRUE(a.initiator);
    EXPECT_FALSE(b.initiator);

    constexpr std::size_t mtu = 1420;
    std::vector<std::uint8_t> wire(kTransportOverhead + 1440);
    std::vector<std::uint8_t> plain_out(1440);
    for (std::uint64_t n = 0; n < 4; ++n) {
        for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
            std::vector<std::uint8_t> packet(20 + 37 * n, static_cast<std::uint8_t>(n + (from == &a ? 0 : 100)));
            const std::size_t size = seal_transport(*from, packet, mtu, wire.data());
            EXPECT_EQ(size, kTransportOverhead + padded_size(packet.size(), mtu));
            const std::span<const std::uint8_t> msg(wire.data(), size);
            EXPECT_EQ(message_type_of(msg), 4u);
            EXPECT_EQ(transport_receiver(msg), to->local_index);
            EXPECT_EQ(transport_counter(msg), n);
            EXPECT_EQ(from->send_counter, n + 1);
            ASSERT_TRUE(open_transport(*to, msg, plain_out.data()));
            EXPECT_TRUE(to->replay.accept(transport_counter(msg)));
            EXPECT_TRUE(std::equal(packet.begin(), packet.end(), plain_out.begin()));
            // The sender cannot open its own message: the directions use different keys.
            EXPECT_FALSE(open_transport(*from, msg, plain_out.data()));
        }
    }
}

TEST_F(HandshakeTest, PresharedKeyMismatchFailsWithoutStateChange) {
    crypto::PresharedKey alice_psk(Bytes<32>{0xaa});
    crypto::PresharedKey bob_psk(Bytes<32>{0xbb});
    at_alice.set_preshared_key(alice_psk);
    at_bob.set_preshared_key(bob_psk);

    const Initiation init = initiate();
    // The PSK only enters with the response, so Bob does not notice yet.
    ASSERT_EQ(receive_initiation(init, mono), HandshakeError::none);
    const Response bad = respond();
    EXPECT_EQ(at_alice.consume_response(alice, bad), HandshakeError::decryption_failed);
    EXPECT_EQ(at_alice.state(), State::created_initiation);
    EXPECT_EQ(at_alice.local_index(), kAliceIndex);
    EXPECT_FALSE(at_alice.begin_session().has_value());

    // The initiation still completes with a responder holding the right PSK.
    Handshake right;
    right.configure(bob, alice.public_key);
    right.set_preshared_key(alice_psk);
    OpenedInitiation opened;
    ASSERT_EQ(open_initiation(bob, init, opened), HandshakeError::none);
    ASSERT_EQ(right.consume_initiation(bob, opened, init, mono), HandshakeError::none);
    Response good;
    ASSERT_EQ(right.create_response(kBobIndex, random, good), HandshakeError::none);
    ASSERT_EQ(at_alice.consume_response(alice, over_wire(good)), HandshakeError::none);
    const auto i = at_alice.begin_session();
    const auto r = right.begin_session();
    ASSERT_TRUE(i && r);
    expect_matching_sessions(*i, *r);
}

TEST_F(HandshakeTest, ReplayedInitiationRejected) {
    const Initiation init = initiate();
    ASSERT_EQ(receive_initiation(init, mono), HandshakeError::none);
    // Replayed while the first is still in flight: nothing changes.
    EXPECT_EQ(receive_initiation(init, mono + 1s), HandshakeError::replayed_timestamp);
    EXPECT_EQ(at_bob.state(), State::consumed_initiation);
    EXPECT_EQ(at_bob.remote_index(), kAliceIndex);

    // And after the session began: the replay state survives begin_session.
    respond();
    ASSERT_TRUE(at_bob.begin_session().has_value());
    EXPECT_EQ(receive_initiation(init, mono + 2s), HandshakeError::replayed_timestamp);
    EXPECT_EQ(at_bob.state(), State::zeroed);
    Response unused;
    EXPECT_EQ(at_bob.create_response(kBobIndex, random, unused), HandshakeError::wrong_state);
}

TEST_F(HandshakeTest, OlderOrEqualTimestampRejected) {
    ASSERT_EQ(receive_initiation(initiate(kAliceIndex, 10s), mono), HandshakeError::none);
    // A fresh initiation (new ephemeral) but an older timestamp.
    EXPECT_EQ(receive_initiation(initiate(kAliceIndex + 1, 9s), mono + 1s), HandshakeError::replayed_timestamp);
    // Within the same 2^24 ns granule the TAI64N timestamp is equal: not newer.
    EXPECT_EQ(receive_initiation(initiate(kAliceIndex + 2, 10s + 1ms), mono + 2s),
              HandshakeError::replayed_timestamp);
    EXPECT_EQ(at_bob.remote_index(), kAliceIndex);
    EXPECT_EQ(receive_initiation(initiate(kAliceIndex + 3, 11s), mono + 3s), HandshakeError::none);
    EXPECT_EQ(at_bob.remote_index(), kAliceIndex + 3);
}

TEST_F(HandshakeTest, InitiationFloodLimit) {
    ASSERT_EQ(receive_initiation(initiate(kAliceIndex, 0s), mono), HandshakeError::none);
    // Newer timestamp, but under 20 ms after the last accepted one.
    const Initiation second = initiate(kAliceIndex + 1, 1s);
    EXPECT_EQ(receive_initiation(second, mono + kMinInitiationInterval - 1ns), HandshakeError::flood);
    EXPECT_EQ(receive_initiation(second, mono + 19ms), HandshakeError::flood);
    EXPECT_EQ(at_bob.state(), State::consumed_initiation);
    EXPECT_EQ(at_bob.remote_index(), kAliceIndex);
    // Exactly 20 ms later it is accepted (the refusals did not count).
    EXPECT_EQ(kMinInitiationInterval, 20ms);
    EXPECT_EQ(receive_initiation(second, mono + 20ms), HandshakeError::none);
    EXPECT_EQ(at_bob.remote_index(), kAliceIndex + 1);
    // The handshake goes on with the second initiation, which is Alice's latest.
    ASSERT_EQ(at_alice.consume_response(alice, respond()), HandshakeError::none);
    const auto i = at_alice.begin_session();
    const auto r = at_bob.begin_session();
    ASSERT_TRUE(i && r);
    EXPECT_TRUE(i->send == r->receive);
    EXPECT_EQ(r->remote_index, kAliceIndex + 1);
}

TEST_F(HandshakeTest, InitiationToWrongResponderKey) {
    at_alice.configure(alice, carol.public_key);  // Alice thinks Bob is Carol
    const Initiation init = initiate();
    OpenedInitiation opened;
    EXPECT_EQ(open_initiation(bob, init, opened), HandshakeError::decryption_failed);
    // Carol, the intended responder, can open it.
    EXPECT_EQ(open_initiation(carol, init, opened), HandshakeError::none);
    EXPECT_EQ(opened.initiator_static, alice.public_key);
}

// An initiation opened fine but handed to the state of another peer: the
// static-static DH differs, so the timestamp does not decrypt.
TEST_F(HandshakeTest, InitiationConsumedByWrongPeerState) {
    const Initiation init = initiate();
    OpenedInitiation opened;
    ASSERT_EQ(open_initiation(bob, init, opened), HandshakeError::none);
    Handshake for_carol;
    for_carol.configure(bob, carol.public_key);
    EXPECT_EQ(for_carol.consume_initiation(bob, opened, init, mono), HandshakeError::decryption_failed);
    EXPECT_EQ(for_carol.state(), State::zeroed);
    // The failure did not record the timestamp: the right peer still takes it.
    EXPECT_EQ(at_bob.consume_initiation(bob, opened, init, mono), HandshakeError::none);
}

TEST_F(HandshakeTest, TamperedInitiationRejected) {
    const Initiation init = initiate();
    OpenedInitiation opened;
    for (std::size_t i = 0; i < init.encrypted_static.size(); i += 7) {
        Initiation bad = init;
        bad.encrypted_static[i] ^= 0x01;
        EXPECT_EQ(open_initiation(bob, bad, opened), HandshakeError::decryption_failed) << i;
    }
    Initiation bad_ephemeral = init;
    bad_ephemeral.ephemeral[3] ^= 0x01;
    EXPECT_EQ(open_initiation(bob, bad_ephemeral, opened), HandshakeError::decryption_failed);

    Initiation bad_timestamp = init;
    bad_timestamp.encrypted_timestamp[0] ^= 0x01;
    EXPECT_EQ(receive_initiation(bad_timestamp, mono), HandshakeError::decryption_failed);
    EXPECT_EQ(at_bob.state(), State::zeroed);
    EXPECT_EQ(receive_initiation(init, mono), HandshakeError::none);
}

TEST_F(HandshakeTest, LowOrderEphemeralInInitiation) {
    Initiation init = initiate();
    init.ephemeral.fill(0);
    OpenedInitiation opened;
    EXPECT_EQ(open_initiation(bob, init, opened), HandshakeError::low_order_point);
}

TEST_F(HandshakeTest, ResponseWithWrongReceiverIndex) {
    ASSERT_EQ(receive_initiation(initiate(), mono), HandshakeError::none);
    const Response resp = respond();
    Response wrong = resp;
    wrong.receiver = kAliceIndex ^ 1;
    EXPECT_EQ(at_alice.consume_response(alice, wrong), HandshakeError::wrong_state);
    EXPECT_EQ(at_alice.state(), State::created_initiation);
    EXPECT_EQ(at_alice.consume_response(alice, resp), HandshakeError::none);
    // The same response again: no initiation is pending any more.
    EXPECT_EQ(at_alice.consume_response(alice, resp), HandshakeError::wrong_state);
    EXPECT_EQ(at_alice.state(), State::consumed_response);
}

TEST_F(HandshakeTest, TamperedResponseRejectedWithoutStateChange) {
    ASSERT_EQ(receive_initiation(initiate(), mono), HandshakeError::none);
    const Response resp = respond();
    Response bad = resp;
    bad.encrypted_nothing[15] ^= 0x01;
    EXPECT_EQ(at_alice.consume_response(alice, bad), HandshakeError::decryption_failed);
    bad = resp;
    bad.ephemeral[0] ^= 0x01;
    EXPECT_EQ(at_alice.consume_response(alice, bad), HandshakeError::decryption_failed);
    EXPECT_EQ(at_alice.state(), State::created_initiation);
    EXPECT_EQ(at_alice.consume_response(alice, resp), HandshakeError::none);
}

TEST_F(HandshakeTest, ResponseWithoutInitiation) {
    Response resp;
    resp.receiver = 0;  // matches the zeroed local index, still no initiation
    EXPECT_EQ(at_alice.consume_response(alice, resp), HandshakeError::wrong_state);
    EXPECT_EQ(at_alice.state(), State::zeroed);
}

TEST_F(HandshakeTest, LowOrderPeerKeyMakesHandshakeUnusable) {
    const PublicKey low_order[] = {
        PublicKey{},            // 0
        key_from_bytes({1}),    // 1
        key_from_bytes({0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
                        0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00}),
    };
    for (const PublicKey& key : low_order) {
        Handshake h;
        h.configure(alice, key);
        EXPECT_FALSE(h.usable(alice));
        Initiation m;
        EXPECT_EQ(h.create_initiation(alice, kAliceIndex, crypto::tai64n(wall), random, m),
                  HandshakeError::low_order_point);
        EXPECT_EQ(h.state(), State::zeroed);
        // Nor can it accept an initiation.
        const Initiation init = initiate();
        OpenedInitiation opened;
        ASSERT_EQ(open_initiation(bob, init, opened), HandshakeError::none);
        EXPECT_EQ(h.consume_initiation(alice, opened, init, mono), HandshakeError::low_order_point);
        EXPECT_EQ(h.state(), State::zeroed);
    }
    // Reconfiguring with a good key makes it usable.
    at_alice.configure(alice, PublicKey{});
    EXPECT_FALSE(at_alice.usable(alice));
    at_alice.configure(alice, bob.public_key);
    EXPECT_TRUE(at_alice.usable(alice));
}

TEST_F(HandshakeTest, BeginSessionOnlyAfterResponse) {
    EXPECT_FALSE(at_alice.begin_session().has_value());  // zeroed
    const Initiation init = initiate();
    EXPECT_FALSE(at_alice.begin_session().has_value());  // created_initiation
    EXPECT_EQ(at_alice.state(), State::created_initiation);
    ASSERT_EQ(receive_initiation(init, mono), HandshakeError::none);
    EXPECT_FALSE(at_bob.begin_session().has_value());  // consumed_initiation
    EXPECT_EQ(at_bob.state(), State::consumed_initiation);
    // The handshake still completes after those refusals.
    ASSERT_EQ(at_alice.consume_response(alice, respond()), HandshakeError::none);
    EXPECT_TRUE(at_alice.begin_session().has_value());
    EXPECT_TRUE(at_bob.begin_session().has_value());
}

TEST_F(HandshakeTest, ClearReturnsToZeroed) {
    initiate();
    at_alice.clear();
    EXPECT_EQ(at_alice.state(), State::zeroed);
    EXPECT_EQ(at_alice.local_index(), 0u);
    EXPECT_TRUE(at_alice.usable(alice));  // configuration kept
}

TEST_F(HandshakeTest, NoLocalKey) {
    LocalIdentity none;
    EXPECT_FALSE(none.has_key);
    Handshake h;
    h.configure(none, bob.public_key);
    EXPECT_FALSE(h.usable(none));
    Initiation m;
    EXPECT_EQ(h.create_initiation(none, kAliceIndex, crypto::tai64n(wall), random, m), HandshakeError::no_local_key);
    EXPECT_EQ(h.state(), State::zeroed);

    OpenedInitiation opened;
    EXPECT_EQ(open_initiation(none, initiate(), opened), HandshakeError::no_local_key);

    // Key removed between initiation and response.
    ASSERT_EQ(receive_initiation(initiate(), mono), HandshakeError::none);
    const Response resp = respond();
    EXPECT_EQ(at_alice.consume_response(none, resp), HandshakeError::no_local_key);
    EXPECT_EQ(at_alice.state(), State::created_initiation);

    // clear() forgets the key; a zero private key is no key.
    LocalIdentity id;
    id.set(crypto::generate_private_key(random));
    id.clear();
    EXPECT_FALSE(id.has_key);
    EXPECT_EQ(id.public_key, PublicKey{});
    id.set(crypto::PrivateKey{});
    EXPECT_FALSE(id.has_key);
}

// Fills every request with the same bytes: a known ephemeral key.
class FixedRandom final : public crypto::Random {
public:
    explicit FixedRandom(std::uint8_t seed) : seed_(seed) {}
    void fill(std::uint8_t* out, std::size_t size) override {
        for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed_ + 13 * i);
    }

private:
    std::uint8_t seed_;
};

// The handshake recomputed step by step from the WireGuard paper (section
// 5.4) with the crypto primitives only, and compared byte for byte: pins the
// message contents and the direction of the transport keys, which two wgate
// instances alone could not tell apart from a consistent mistake.
TEST(HandshakeSpec, MatchesPaperComputation) {
    using Span = std::span<const std::uint8_t>;
    auto text = [](std::string_view s) { return Span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); };
    auto hash = [](Span a, Span b) { return crypto::blake2s({a, b}); };
    // (C, k1, k2) = KDF(C, input), outputs as requested.
    auto kdf = [](Bytes<32>& ck, Span input, std::uint8_t* k1 = nullptr, std::uint8_t* k2 = nullptr) {
        Bytes<32> next{};
        crypto::kdf(next.data(), k1, k2, ck.data(), input);
        ck = next;
    };
    auto dh = [](const crypto::PrivateKey& priv, const PublicKey& pub) {
        SymmetricKey shared;
        EXPECT_TRUE(crypto::x25519(shared, priv, pub));
        return shared;
    };
    auto clamped = [](std::uint8_t seed) {
        Bytes<32> b{};
        FixedRandom(seed).fill(b.data(), b.size());
        b[0] &= 248;
        b[31] = static_cast<std::uint8_t>((b[31] & 127) | 64);
        return crypto::PrivateKey(b);
    };

    crypto::DeterministicRandom key_source(11);
    LocalIdentity ini;
    LocalIdentity res;
    ini.set(crypto::generate_private_key(key_source));
    res.set(crypto::generate_private_key(key_source));
    const PresharedKey psk(Bytes<32>{9, 8, 7, 6, 5, 4, 3, 2, 1});
    Handshake hi;
    Handshake hr;
    hi.configure(ini, res.public_key);
    hi.set_preshared_key(psk);
    hr.configure(res, ini.public_key);
    hr.set_preshared_key(psk);
    const crypto::Timestamp timestamp = crypto::tai64n(1'700'000'123s);

    // Initiator's message.
    FixedRandom initiator_random(0x11);
    Initiation init;
    ASSERT_EQ(hi.create_initiation(ini, 0x01020304, timestamp, initiator_random, init), HandshakeError::none);

    const crypto::PrivateKey ei = clamped(0x11);
    const PublicKey ei_pub = crypto::public_key_of(ei);
    Bytes<32> c = crypto::blake2s({text("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")});
    Hash h = hash(c, text("WireGuard v1 zx2c4 Jason@zx2c4.com"));
    h = hash(h, res.public_key);
    kdf(c, ei_pub);
    h = hash(h, ei_pub);
    SymmetricKey k;
    kdf(c, dh(ei, res.public_key).span(), k.data());
    Bytes<48> enc_static{};
    crypto::aead_seal(enc_static.data(), ini.public_key, h, k, 0);
    h = hash(h, enc_static);
    kdf(c, dh(ini.private_key, res.public_key).span(), k.data());
    Bytes<28> enc_timestamp{};
    crypto::aead_seal(enc_timestamp.data(), timestamp, h, k, 0);
    h = hash(h, enc_timestamp);

    EXPECT_EQ(init.sender, 0x01020304u);
    EXPECT_EQ(init.ephemeral, ei_pub);
    EXPECT_EQ(init.encrypted_static, enc_static);
    EXPECT_EQ(init.encrypted_timestamp, enc_timestamp);

    // Responder's message.
    OpenedInitiation opened;
    ASSERT_EQ(open_initiation(res, init, opened), HandshakeError::none);
    ASSERT_EQ(hr.consume_initiation(res, opened, init, 1s), HandshakeError::none);
    FixedRandom responder_random(0x77);
    Response resp;
    ASSERT_EQ(hr.create_response(0x0a0b0c0d, responder_random, resp), HandshakeError::none);

    const crypto::PrivateKey er = clamped(0x77);
    const PublicKey er_pub = crypto::public_key_of(er);
    kdf(c, er_pub);
    h = hash(h, er_pub);
    kdf(c, dh(er, ei_pub).span());
    kdf(c, dh(er, ini.public_key).span());
    Bytes<32> tau{};
    kdf(c, psk.span(), tau.data(), k.data());
    h = hash(h, tau);
    Bytes<16> enc_nothing{};
    crypto::aead_seal(enc_nothing.data(), {}, h, k, 0);

    EXPECT_EQ(resp.sender, 0x0a0b0c0du);
    EXPECT_EQ(resp.receiver, 0x01020304u);
    EXPECT_EQ(resp.ephemeral, er_pub);
    EXPECT_EQ(resp.encrypted_nothing, enc_nothing);

    // Transport keys: (T_send_i = T_recv_r, T_recv_i = T_send_r) = KDF2(C, empty).
    ASSERT_EQ(hi.consume_response(ini, resp), HandshakeError::none);
    SymmetricKey t1;
    SymmetricKey t2;
    crypto::kdf(t1.data(), t2.data(), nullptr, c.data(), {});
    const auto si = hi.begin_session();
    const auto sr = hr.begin_session();
    ASSERT_TRUE(si && sr);
    EXPECT_TRUE(si->send == t1);
    EXPECT_TRUE(si->receive == t2);
    EXPECT_TRUE(sr->send == t2);
    EXPECT_TRUE(sr->receive == t1);
}

TEST(HandshakeErrorNames, EveryErrorHasText) {
    for (auto e : {HandshakeError::none, HandshakeError::no_local_key, HandshakeError::low_order_point,
                   HandshakeError::decryption_failed, HandshakeError::replayed_timestamp, HandshakeError::flood,
                   HandshakeError::wrong_state}) {
        EXPECT_STRNE(to_string(e), "unknown");
    }
}

}  // namespace
}  // namespace wgate::noise
