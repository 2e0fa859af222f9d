// Type-4 transport messages: padding, header fields, counters, and that any
// change to the authenticated parts makes open_transport fail.
#include "wgate/noise/transport.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "wgate/crypto/random.hpp"
#include "wgate/noise/keypair.hpp"

namespace wgate::noise {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMtu = 1420;

// Two ends of one session with keys from a seeded source: a.send = b.receive
// and the other way round, as a handshake would leave them.
struct Session {
    Session() {
        crypto::DeterministicRandom random(3);
        SessionKeys ka;
        SessionKeys kb;
        random.fill(ka.send.data(), 32);
        random.fill(ka.receive.data(), 32);
        kb.send = ka.receive;
        kb.receive = ka.send;
        ka.initiator = true;
        ka.local_index = kb.remote_index = 0x0a0a0a0a;
        kb.local_index = ka.remote_index = 0x0b0b0b0b;
        a = std::make_unique<Keypair>(std::move(ka), 10s);
        b = std::make_unique<Keypair>(std::move(kb), 10s);
    }
    std::unique_ptr<Keypair> a;
    std::unique_ptr<Keypair> b;
};

std::vector<std::uint8_t> seal(Keypair& kp, std::span<const std::uint8_t> plain, std::size_t mtu = kMtu) {
    std::vector<std::uint8_t> out(kTransportOverhead + padded_size(plain.size(), mtu));
    out.resize(seal_transport(kp, plain, mtu, out.data()));
    return out;
}

std::vector<std::uint8_t> payload(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(seed + 3 * i);
    return p;
}

TEST(Transport, PaddedSize) {
    EXPECT_EQ(padded_size(0, kMtu), 0u);  // keepalive
    EXPECT_EQ(padded_size(1, kMtu), 16u);
    EXPECT_EQ(padded_size(15, kMtu), 16u);
    EXPECT_EQ(padded_size(16, kMtu), 16u);
    EXPECT_EQ(padded_size(17, kMtu), 32u);
    EXPECT_EQ(padded_size(1400, kMtu), 1408u);
    // Near the MTU the padding stops at the MTU, which need not be a multiple of 16.
    EXPECT_EQ(padded_size(1409, kMtu), 1420u);
    EXPECT_EQ(padded_size(1419, kMtu), 1420u);
    EXPECT_EQ(padded_size(1420, kMtu), 1420u);
    // A packet already larger than the MTU is still padded to 16.
    EXPECT_EQ(padded_size(1421, kMtu), 1424u);
    EXPECT_EQ(padded_size(1424, kMtu), 1424u);
    EXPECT_EQ(padded_size(2000, kMtu), 2000u);
    EXPECT_EQ(padded_size(2001, kMtu), 2016u);
    // MTU a multiple of 16.
    EXPECT_EQ(padded_size(1279, 1280), 1280u);
    EXPECT_EQ(padded_size(1280, 1280), 1280u);
    EXPECT_EQ(padded_size(1281, 1280), 1296u);

    for (std::size_t n = 0; n <= 1500; ++n) {
        const std::size_t p = padded_size(n, kMtu);
        ASSERT_GE(p, n);
        ASSERT_LT(p - n, 16u) << n;
        if (n <= kMtu) {
            ASSERT_LE(p, kMtu) << n;
            ASSERT_TRUE(p % 16 == 0 || p == kMtu) << n;
        } else {
            ASSERT_EQ(p % 16, 0u) << n;
        }
    }
}

TEST(Transport, SealLayoutAndCounters) {
    Session s;
    for (std::uint64_t n = 0; n < 5; ++n) {
        const auto plain = payload(10 * n + 1, static_cast<std::uint8_t>(n));
        const auto msg = seal(*s.a, plain);
        ASSERT_EQ(msg.size(), kTransportOverhead + padded_size(plain.size(), kMtu));
        EXPECT_EQ(msg[0], 4);
        EXPECT_EQ(msg[1], 0);
        EXPECT_EQ(msg[2], 0);
        EXPECT_EQ(msg[3], 0);
        EXPECT_EQ(load_le32(msg.data() + 4), 0x0b0b0b0bu);  // their index
        EXPECT_EQ(transport_receiver(msg), s.b->local_index);
        EXPECT_EQ(load_le64(msg.data() + 8), n);
        EXPECT_EQ(transport_counter(msg), n);
        EXPECT_EQ(s.a->send_counter, n + 1);
    }
    EXPECT_EQ(s.b->send_counter, 0u);
}

TEST(Transport, RoundTripBothWaysWithPadding) {
    Session s;
    std::vector<std::uint8_t> out(2048);
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{16}, std::size_t{17}, std::size_t{100},
                          std::size_t{1419}, kMtu, kMtu + 1}) {
        for (auto [from, to] : {std::pair{s.a.get(), s.b.get()}, std::pair{s.b.get(), s.a.get()}}) {
            const auto plain = payload(n, static_cast<std::uint8_t>(n));
            const auto msg = seal(*from, plain);
            std::fill(out.begin(), out.end(), 0xee);
            ASSERT_TRUE(open_transport(*to, msg, out.data())) << n;
            const std::size_t opened = msg.size() - kTransportOverhead;
            EXPECT_EQ(opened, padded_size(n, kMtu));
            EXPECT_TRUE(std::equal(plain.begin(), plain.end(), out.begin())) << n;
            // The padding is zeros.
            EXPECT_TRUE(std::all_of(out.begin() + n, out.begin() + opened, [](auto b) { return b == 0; })) << n;
            EXPECT_TRUE(to->replay.accept(transport_counter(msg)));
        }
    }
}

// A keepalive is sealed from an empty span whose data() is null (the Device
// stages an empty vector); under UBSan this once tripped memmove(dst, nullptr, 0).
TEST(Transport, KeepaliveIsBareOverhead) {
    Session s;
    const auto msg = seal(*s.a, std::span<const std::uint8_t>());
    EXPECT_EQ(msg.size(), kTransportOverhead);
    std::uint8_t nothing[1];
    EXPECT_TRUE(open_transport(*s.b, msg, nothing));
}

TEST(Transport, SealInPlace) {
    Session s;
    const auto plain = payload(50, 9);
    std::vector<std::uint8_t> buf(kTransportOverhead + padded_size(plain.size(), kMtu), 0xcc);
    std::copy(plain.begin(), plain.end(), buf.begin() + kTransportHeaderSize);
    const std::span<const std::uint8_t> in_place(buf.data() + kTransportHeaderSize, plain.size());
    ASSERT_EQ(seal_transport(*s.a, in_place, kMtu, buf.data()), buf.size());
    std::vector<std::uint8_t> out(buf.size());
    ASSERT_TRUE(open_transport(*s.b, buf, out.data()));
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), out.begin()));
    EXPECT_TRUE(std::all_of(out.begin() + 50, out.begin() + 64, [](auto b) { return b == 0; }));
}

TEST(Transport, TamperingFails) {
    Session s;
    const auto msg = seal(*s.a, payload(40, 1));
    std::vector<std::uint8_t> out(msg.size());
    ASSERT_TRUE(open_transport(*s.b, msg, out.data()));
    // Every byte of counter, ciphertext and tag is authenticated (the counter
    // as the nonce).
    for (std::size_t i = 8; i < msg.size(); ++i) {
        auto bad = msg;
        bad[i] ^= 0x01;
        EXPECT_FALSE(open_transport(*s.b, bad, out.data())) << "byte " << i;
    }
    // Truncated messages fail, also those shorter than header plus tag.
    for (std::size_t n : {std::size_t{0}, std::size_t{16}, kTransportOverhead - 1, msg.size() - 1}) {
        EXPECT_FALSE(open_transport(*s.b, std::span(msg).first(n), out.data())) << n;
    }
    // Its own direction's key does not open it.
    EXPECT_FALSE(open_transport(*s.a, msg, out.data()));
    // The receiver index is only a lookup hint (the AEAD has no associated
    // data, as in the protocol): changing it alone does not break the tag.
    auto other_index = msg;
    other_index[4] ^= 0x01;
    EXPECT_TRUE(open_transport(*s.b, other_index, out.data()));
}

TEST(Transport, KeypairLimits) {
    Session s;
    EXPECT_FALSE(s.a->expired(10s + kRejectAfterTime - 1ns));
    EXPECT_TRUE(s.a->expired(10s + kRejectAfterTime));
    EXPECT_TRUE(s.a->can_send(10s));
    EXPECT_FALSE(s.a->can_send(10s + kRejectAfterTime));
    s.a->send_counter = kRejectAfterMessages - 1;
    EXPECT_TRUE(s.a->can_send(10s));
    s.a->send_counter = kRejectAfterMessages;
    EXPECT_FALSE(s.a->can_send(10s));
}

}  // namespace
}  // namespace wgate::noise
