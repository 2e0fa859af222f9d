// Every timer path on a virtual clock: minutes of protocol time in milliseconds.
#include <gtest/gtest.h>

#include "device_harness.hpp"
#include "wgate/noise/constants.hpp"
#include "wgate/noise/messages.hpp"

namespace wgate::test {
namespace {

using core::EventKind;
using core::Reason;
using core::Timer;

constexpr std::uint8_t kInit = 1, kResp = 2, kData = 4;

TEST(DeviceTimers, RetransmitWithJitterThenGiveUp) {
    Harness h;
    h.connect();
    std::vector<Duration> sent_at;
    h.intercept = [&](InFlight& f) {
        if (f.from == &h.a && f.bytes[0] == kInit) sent_at.push_back(h.now.mono);
        return false;  // b never answers
    };
    const Duration start = h.now.mono;
    h.a_sends();
    h.advance(200s);
    // 1 initiation + 19 retries (attempts 1..19, give up when attempts > 18).
    ASSERT_EQ(sent_at.size(), 20u);
    EXPECT_EQ(sent_at[0], start);
    bool some_jitter = false;
    for (std::size_t i = 1; i < sent_at.size(); ++i) {
        const Duration gap = sent_at[i] - sent_at[i - 1];
        EXPECT_GE(gap, noise::kRekeyTimeout);
        EXPECT_LT(gap, noise::kRekeyTimeout + noise::kRekeyTimeoutJitterMax);
        if (gap != noise::kRekeyTimeout) some_jitter = true;
    }
    EXPECT_TRUE(some_jitter);
    EXPECT_EQ(h.count_events(h.a, EventKind::handshake_gave_up), 1u);
    EXPECT_EQ(h.pa->staged_count(), 0u);  // queued packets dropped on give-up
    EXPECT_FALSE(h.pa->timers().pending(Timer::retransmit_handshake));
    // Attempts are numbered in the events (1 for the first, 20 for the last).
    int max_attempt = 0;
    for (auto& e : h.a.events)
        if (e.kind == EventKind::initiation_sent) max_attempt = std::max(max_attempt, e.attempt);
    EXPECT_EQ(max_attempt, 20);
    // The key material timer was armed by the give-up.
    EXPECT_TRUE(h.pa->timers().pending(Timer::zero_key_material));
}

TEST(DeviceTimers, RetransmissionSucceedsWhenLinkReturns) {
    Harness h;
    h.connect();
    h.link_up = false;
    h.a_sends();
    h.advance(12s);  // two retries lost
    EXPECT_EQ(h.count_sent(h.a, kInit), 3u);
    h.link_up = true;
    h.advance(6s);
    EXPECT_EQ(h.b.tun.size(), 1u);
    EXPECT_EQ(h.pa->timers().handshake_attempts, 0);
    EXPECT_FALSE(h.pa->timers().pending(Timer::retransmit_handshake));
}

TEST(DeviceTimers, RekeyAfterTimeByInitiatorOnly) {
    Harness h;
    h.connect();
    h.a_sends();
    h.b_sends();
    const auto* first = h.pa->keypairs().current();
    ASSERT_NE(first, nullptr);
    h.advance(noise::kRekeyAfterTime - 1s);
    h.b_sends();  // responder: no rekey by time
    EXPECT_EQ(h.count_sent(h.b, kInit), 0u);
    h.a_sends();  // 119 s: not yet
    EXPECT_EQ(h.count_sent(h.a, kInit), 1u);
    h.advance(2s);
    h.a_sends();  // 121 s: initiator rekeys after sending
    EXPECT_EQ(h.count_sent(h.a, kInit), 2u);
    EXPECT_NE(h.pa->keypairs().current(), first);
    EXPECT_EQ(h.pa->keypairs().previous(), first);
    h.a_sends();
    h.b_sends();
    EXPECT_EQ(h.a.tun.size(), 3u);
    EXPECT_EQ(h.b.tun.size(), 4u);
}

TEST(DeviceTimers, RekeyAfterMessages) {
    Harness h;
    h.connect();
    h.a_sends();
    h.advance(6s);  // past the REKEY_TIMEOUT limit on initiations
    h.pa->keypairs().current()->send_counter = noise::kRekeyAfterMessages + 1;
    // A forward jump of the counter is fine for b's window: the message arrives, and a rekeys.
    h.a_sends();
    EXPECT_EQ(h.count_sent(h.a, kInit), 2u);
    EXPECT_EQ(h.b.tun.size(), 2u);
}

TEST(DeviceTimers, RejectAfterMessagesStopsSending) {
    Harness h;
    h.connect();
    h.a_sends();
    h.link_up = false;
    const auto data_before = h.count_sent(h.a, kData);
    h.pa->keypairs().current()->send_counter = noise::kRejectAfterMessages;
    h.advance(6s);  // past REKEY_TIMEOUT since the last initiation
    h.a_sends();
    EXPECT_EQ(h.count_sent(h.a, kData), data_before);
    EXPECT_EQ(h.count_sent(h.a, kInit), 2u);
    EXPECT_EQ(h.pa->staged_count(), 1u);
}

TEST(DeviceTimers, RejectAfterTimeExpiresSessions) {
    Harness h;
    h.connect();
    h.a_sends();
    h.b_sends();
    std::vector<std::uint8_t> old_packet;
    for (auto& s : h.a.sent)
        if (s[0] == kData) old_packet = s;
    ASSERT_FALSE(old_packet.empty());
    h.advance(noise::kRejectAfterTime + 1s);
    // Expiry is checked before decryption and the replay window.
    h.inject(h.b, old_packet, h.a.address);
    EXPECT_EQ(h.b.device.counters()[Reason::expired_keypair], 1u);
    // b cannot send on an expired session: it initiates.
    h.b_sends();
    EXPECT_EQ(h.count_sent(h.b, kInit), 1u);
    EXPECT_EQ(h.a.tun.size(), 2u);
}

TEST(DeviceTimers, LastMinuteRekeyOnReceive) {
    Harness h;
    h.connect();
    h.a_sends();
    // a is initiator; at 165 s a receives data and rekeys even though it sends nothing.
    h.advance(noise::kRejectAfterTime - noise::kKeepaliveTimeout - noise::kRekeyTimeout + 1s);
    h.a.sent.clear();
    h.b_sends();
    EXPECT_EQ(h.count_sent(h.a, kInit), 1u);
    EXPECT_TRUE(h.pa->timers().sent_lastminute_handshake == false);  // reset by the completed handshake
}

TEST(DeviceTimers, PassiveKeepaliveAfterReceivingData) {
    Harness h;
    h.connect();
    h.a_sends();
    h.b.sent.clear();
    h.advance(noise::kKeepaliveTimeout - 1ms);
    EXPECT_TRUE(h.b.sent.empty());
    h.advance(1ms);
    ASSERT_EQ(h.b.sent.size(), 1u);
    EXPECT_EQ(h.b.sent[0][0], kData);
    EXPECT_EQ(h.b.sent[0].size(), noise::kTransportOverhead);  // empty payload
    EXPECT_EQ(h.a.device.counters().keepalives_received, 1u);
    // Nothing more while idle.
    h.b.sent.clear();
    h.advance(60s);
    EXPECT_EQ(h.count_sent(h.b, kData), 0u);
}

TEST(DeviceTimers, NoPassiveKeepaliveWhenReplyingWithData) {
    Harness h;
    h.connect();
    h.a_sends();
    h.advance(1s);
    h.b_sends();
    h.b.sent.clear();
    h.advance(noise::kKeepaliveTimeout);
    EXPECT_EQ(h.count_sent(h.b, kData), 0u);
}

TEST(DeviceTimers, PersistentKeepalive) {
    Harness h;
    h.connect();
    core::Outputs out;
    h.a.device.set_persistent_keepalive(*h.pa, 25, h.now, out);
    // Turning it on sends a keepalive at once: here that starts a handshake.
    ASSERT_EQ(out.to_network.size(), 1u);
    EXPECT_EQ(out.to_network[0].bytes[0], kInit);
    for (auto& d : out.to_network) h.queue.push_back({&h.a, &h.b, d.bytes});
    h.deliver();
    ASSERT_NE(h.pa->keypairs().current(), nullptr);
    std::vector<Duration> keepalives;
    h.intercept = [&](InFlight& f) {
        if (f.from == &h.a && f.bytes[0] == kData && f.bytes.size() == noise::kTransportOverhead)
            keepalives.push_back(h.now.mono);
        return true;
    };
    const Duration start = h.now.mono;
    h.advance(100s);
    ASSERT_GE(keepalives.size(), 4u);
    EXPECT_EQ(keepalives[0], start + 25s);
    EXPECT_EQ(keepalives[1], start + 50s);
    // Turning it off stops them.
    h.a.device.set_persistent_keepalive(*h.pa, 0, h.now, out);
    keepalives.clear();
    h.advance(100s);
    // Only rekey-related traffic, no 25 s keepalives.
    EXPECT_TRUE(keepalives.empty());
}

TEST(DeviceTimers, NewHandshakeWhenSentDataGetsNoReply) {
    Harness h;
    h.connect();
    h.a_sends();
    h.b_sends();
    // b stops answering: it never sends anything again.
    h.intercept = [&](InFlight& f) { return f.from != &h.b; };
    h.a.sent.clear();
    const Duration start = h.now.mono;
    h.a_sends();
    std::vector<Duration> inits;
    h.intercept = [&](InFlight& f) {
        if (f.from == &h.a && f.bytes[0] == kInit) inits.push_back(h.now.mono);
        return f.from != &h.b;
    };
    h.advance(16s);
    ASSERT_GE(inits.size(), 1u);
    EXPECT_GE(inits[0] - start, noise::kKeepaliveTimeout + noise::kRekeyTimeout);
    EXPECT_LT(inits[0] - start, noise::kKeepaliveTimeout + noise::kRekeyTimeout + noise::kRekeyTimeoutJitterMax);
}

TEST(DeviceTimers, KeysZeroedAfterThreeRejectAfterTime) {
    Harness h;
    h.connect();
    h.a_sends();
    h.b_sends();
    ASSERT_NE(h.pa->keypairs().current(), nullptr);
    h.advance(3 * noise::kRejectAfterTime - 1s);
    EXPECT_NE(h.pa->keypairs().current(), nullptr);
    h.advance(1s);
    EXPECT_EQ(h.pa->keypairs().current(), nullptr);
    EXPECT_EQ(h.pa->keypairs().previous(), nullptr);
    EXPECT_EQ(h.pa->keypairs().next(), nullptr);
    EXPECT_EQ(h.count_events(h.a, EventKind::keys_zeroed), 1u);
    EXPECT_EQ(h.pb->keypairs().current(), nullptr);
    EXPECT_EQ(h.a.device.index_count(), 0u);
    EXPECT_EQ(h.b.device.index_count(), 0u);
    EXPECT_FALSE(h.a.device.next_deadline().has_value());
    // And a new handshake starts cleanly afterwards.
    h.a_sends();
    EXPECT_EQ(h.b.tun.size(), 2u);
}

TEST(DeviceTimers, OneInitiationPerRekeyTimeout) {
    Harness h;
    h.connect();
    h.link_up = false;
    for (int i = 0; i < 50; ++i) {
        h.a_sends();
        h.advance(100ms);
    }
    // 5 s of traffic with no session: the first initiation, then one retry at 5 s + jitter at most.
    EXPECT_LE(h.count_sent(h.a, kInit), 2u);
}

TEST(DeviceTimers, NextDeadlineTracksEarliestTimer) {
    Harness h;
    h.connect();
    EXPECT_FALSE(h.a.device.next_deadline().has_value());
    h.link_up = false;
    h.a_sends();
    auto dl = h.a.device.next_deadline();
    ASSERT_TRUE(dl.has_value());
    EXPECT_EQ(*dl, *h.pa->timers().deadline(Timer::retransmit_handshake));
}

TEST(DeviceTimers, ThreeMinutesOfTrafficWithRekeys) {
    Harness h;
    h.connect();
    for (int s = 0; s < 180; ++s) {
        h.a_sends(50);
        if (s % 3 == 0) h.b_sends(50);
        h.advance(1s);
    }
    EXPECT_EQ(h.b.tun.size(), 180u);
    EXPECT_EQ(h.a.tun.size(), 60u);
    EXPECT_EQ(h.a.device.counters().total_dropped(), 0u);
    EXPECT_EQ(h.b.device.counters().total_dropped(), 0u);
    EXPECT_GE(h.count_events(h.a, EventKind::handshake_completed), 2u);  // rekeyed at least once
}

}  // namespace
}  // namespace wgate::test
