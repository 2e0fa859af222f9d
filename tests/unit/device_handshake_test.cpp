// Two Devices in memory: handshakes, data, sessions and cryptokey routing.
#include <gtest/gtest.h>

#include "device_harness.hpp"
#include "wgate/noise/messages.hpp"

namespace wgate::test {
namespace {

using core::EventKind;
using core::Reason;

constexpr std::uint8_t kInit = 1, kResp = 2, kCookie = 3, kData = 4;

TEST(DeviceHandshake, InitiatorSideCompletesAndDataFlowsBothWays) {
    Harness h;
    h.connect();
    h.a_sends(100, 0x11);
    EXPECT_EQ(h.count_sent(h.a, kInit), 1u);
    EXPECT_EQ(h.count_sent(h.b, kResp), 1u);
    // a completed on the response, then flushed its queued packet.
    ASSERT_NE(h.pa->keypairs().current(), nullptr);
    EXPECT_TRUE(h.pa->keypairs().current()->initiator);
    ASSERT_EQ(h.b.tun.size(), 1u);
    EXPECT_EQ(h.b.tun[0], ipv4_packet("10.0.0.1", "10.0.0.2", 100, 0x11));
    // b promoted its next keypair on receiving data with it.
    ASSERT_NE(h.pb->keypairs().current(), nullptr);
    EXPECT_EQ(h.pb->keypairs().next(), nullptr);
    EXPECT_FALSE(h.pb->keypairs().current()->initiator);

    h.b_sends(200, 0x22);
    ASSERT_EQ(h.a.tun.size(), 1u);
    EXPECT_EQ(h.a.tun[0], ipv4_packet("10.0.0.2", "10.0.0.1", 200, 0x22));
    EXPECT_EQ(h.count_sent(h.a, kInit), 1u);  // no second handshake
    EXPECT_EQ(h.count_events(h.a, EventKind::handshake_completed), 1u);
    EXPECT_EQ(h.count_events(h.b, EventKind::handshake_completed), 1u);
    EXPECT_TRUE(h.pa->last_handshake().has_value());
    EXPECT_EQ(*h.pa->last_handshake(), h.now.wall);
    EXPECT_EQ(h.a.device.counters().total_dropped(), 0u);
    EXPECT_EQ(h.b.device.counters().total_dropped(), 0u);
}

TEST(DeviceHandshake, ResponderSideInitiatesToo) {
    Harness h;
    h.connect();
    h.b_sends(10);
    EXPECT_EQ(h.count_sent(h.b, kInit), 1u);
    EXPECT_EQ(h.count_sent(h.a, kResp), 1u);
    ASSERT_EQ(h.a.tun.size(), 1u);
    h.a_sends(10);
    ASSERT_EQ(h.b.tun.size(), 1u);
}

TEST(DeviceHandshake, WithPresharedKey) {
    Harness h;
    h.connect(/*with_psk=*/true);
    h.a_sends();
    h.b_sends();
    EXPECT_EQ(h.a.tun.size(), 1u);
    EXPECT_EQ(h.b.tun.size(), 1u);
}

TEST(DeviceHandshake, PresharedKeyMismatchFailsWithoutSession) {
    Harness h;
    h.connect();
    crypto::PresharedKey psk;
    psk.bytes().fill(7);
    h.a.device.set_preshared_key(*h.pa, psk);
    h.a_sends();
    EXPECT_EQ(h.count_sent(h.b, kResp), 1u);
    EXPECT_EQ(h.a.device.counters()[Reason::bad_handshake], 1u);
    EXPECT_EQ(h.pa->keypairs().current(), nullptr);
    EXPECT_EQ(h.pa->last_rejection(), Reason::bad_handshake);
    EXPECT_TRUE(h.b.tun.empty());
}

TEST(DeviceHandshake, Ipv6InnerPackets) {
    Harness h;
    h.connect();
    auto p = ipv6_packet("fd00::1", "fd00::2", 300);
    h.tun_in(h.a, p);
    ASSERT_EQ(h.b.tun.size(), 1u);
    EXPECT_EQ(h.b.tun[0], p);
}

TEST(DeviceHandshake, PaddingToSixteenAndTrimmingOnReceive) {
    Harness h;
    h.connect();
    h.a_sends(1);  // 21-byte packet -> 32 padded -> 64-byte message
    ASSERT_EQ(h.b.tun.size(), 1u);
    EXPECT_EQ(h.b.tun[0].size(), 21u);
    const auto& last = h.a.sent.back();
    EXPECT_EQ(last[0], kData);
    EXPECT_EQ(last.size(), 32u + 32u);
}

TEST(DeviceHandshake, PacketsQueuedDuringHandshakeAreFlushedInOrder) {
    Harness h;
    h.connect();
    h.link_up = false;
    for (int i = 0; i < 5; ++i) h.a_sends(10, static_cast<std::uint8_t>(i));
    EXPECT_EQ(h.pa->staged_count(), 5u);
    EXPECT_EQ(h.count_sent(h.a, kInit), 1u);  // one initiation, not five
    h.link_up = true;
    h.advance(6s);  // retransmission gets through
    ASSERT_EQ(h.b.tun.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(h.b.tun[i][25], i);
    EXPECT_EQ(h.pa->staged_count(), 0u);
}

TEST(DeviceHandshake, StagedQueueIsBounded) {
    core::DeviceConfig config;
    config.max_staged_packets = 4;
    Harness h(config);
    h.connect();
    h.link_up = false;
    for (int i = 0; i < 10; ++i) h.a_sends(10, static_cast<std::uint8_t>(i));
    EXPECT_EQ(h.pa->staged_count(), 4u);
    EXPECT_EQ(h.a.device.counters()[Reason::staged_overflow], 6u);
    h.link_up = true;
    h.advance(6s);
    ASSERT_EQ(h.b.tun.size(), 4u);
    EXPECT_EQ(h.b.tun.front()[25], 6);  // the oldest were dropped
}

TEST(DeviceHandshake, ResponderDoesNotSendOnUnconfirmedSession) {
    Harness h;
    h.connect();
    // Drop a's keepalive and data after the handshake so b never sees its new session used.
    h.intercept = [&](InFlight& f) { return !(f.from == &h.a && f.bytes[0] == kData); };
    h.a_sends();
    ASSERT_NE(h.pb->keypairs().next(), nullptr);
    EXPECT_EQ(h.pb->keypairs().current(), nullptr);
    h.link_up = false;
    h.b_sends();
    // b has no usable session, and its response just now counts against the
    // one-handshake-per-REKEY_TIMEOUT limit: the packet waits.
    EXPECT_EQ(h.count_sent(h.b, kData), 0u);
    EXPECT_EQ(h.count_sent(h.b, kInit), 0u);
    EXPECT_EQ(h.pb->staged_count(), 1u);
    // Once a uses the new session, b promotes it and flushes.
    h.link_up = true;
    h.intercept = nullptr;
    h.a_sends();
    EXPECT_EQ(h.pb->staged_count(), 0u);
    EXPECT_EQ(h.a.tun.size(), 1u);
}

TEST(DeviceHandshake, SimultaneousInitiationResolves) {
    Harness h(core::DeviceConfig{}, core::DeviceConfig{}, 11, 12);
    h.connect();
    // Both queue data while the link is down, so both initiate at the same instant.
    h.link_up = false;
    h.a_sends(10, 1);
    h.b_sends(10, 2);
    h.a.sent.clear();
    h.b.sent.clear();
    h.link_up = true;
    h.advance(30s);
    EXPECT_EQ(h.a.tun.size(), 1u);
    EXPECT_EQ(h.b.tun.size(), 1u);
    ASSERT_NE(h.pa->keypairs().current(), nullptr);
    ASSERT_NE(h.pb->keypairs().current(), nullptr);
    h.a_sends(10, 3);
    h.b_sends(10, 4);
    EXPECT_EQ(h.a.tun.size(), 2u);
    EXPECT_EQ(h.b.tun.size(), 2u);
}

TEST(DeviceHandshake, CrossingInitiationsWhileOnline) {
    Harness h(core::DeviceConfig{}, core::DeviceConfig{}, 21, 22);
    h.connect();
    // Hold both initiations in flight, then deliver them crossed.
    h.link_up = true;
    std::vector<InFlight> held;
    h.intercept = [&](InFlight& f) {
        if (f.bytes[0] == kInit && held.size() < 2) {
            held.push_back(f);
            return false;
        }
        return true;
    };
    h.a_sends(10, 1);
    h.b_sends(10, 2);
    ASSERT_EQ(held.size(), 2u);
    for (auto& f : held) h.queue.push_back(f);
    h.deliver();
    h.advance(30s);
    h.a_sends(10, 3);
    h.b_sends(10, 4);
    EXPECT_GE(h.a.tun.size(), 2u);
    EXPECT_GE(h.b.tun.size(), 2u);
}

TEST(DeviceHandshake, RoamingFollowsAuthenticatedSource) {
    Harness h;
    h.connect();
    h.a_sends();
    ASSERT_EQ(h.b.tun.size(), 1u);
    // a now appears from another address: capture a data packet and inject it from there.
    h.link_up = false;
    h.a_sends(20, 5);
    const auto packet = h.a.sent.back();
    h.link_up = true;
    const auto moved = endpoint("203.0.113.9:40000");
    h.inject(h.b, packet, moved);
    ASSERT_TRUE(h.pb->endpoint().has_value());
    EXPECT_TRUE(h.pb->endpoint()->same_remote(moved));
    EXPECT_EQ(h.count_events(h.b, EventKind::endpoint_changed), 1u);
    // An unauthenticated packet from elsewhere does not move it.
    auto forged = packet;
    forged[20] ^= 1;
    h.inject(h.b, forged, endpoint("203.0.113.66:1"));
    EXPECT_TRUE(h.pb->endpoint()->same_remote(moved));
}

TEST(DeviceHandshake, DisallowedInnerSourceIsDropped) {
    Harness h;
    h.connect();
    h.a_sends();
    ASSERT_EQ(h.b.tun.size(), 1u);
    // a routes 10.0.0.2 to b, but claims a source b does not allow for a.
    auto p = ipv4_packet("10.9.9.9", "10.0.0.2");
    h.tun_in(h.a, p);
    EXPECT_EQ(h.b.tun.size(), 1u);
    EXPECT_EQ(h.b.device.counters()[Reason::disallowed_source], 1u);
    EXPECT_EQ(h.pb->last_rejection(), Reason::disallowed_source);
}

TEST(DeviceHandshake, SourceOfAnotherPeersMoreSpecificPrefixIsDropped) {
    Harness h;
    h.connect();
    // b allows 10.0.0.0/24 from a, but 10.0.0.77/32 belongs to a third peer.
    h.b.device.add_allowed_ip(*h.pb, prefix("10.0.0.0/24"));
    crypto::DeterministicRandom r(99);
    auto third = crypto::public_key_of(crypto::generate_private_key(r));
    auto* pc = h.b.device.add_peer(third);
    h.b.device.add_allowed_ip(*pc, prefix("10.0.0.77/32"));
    h.a.device.add_allowed_ip(*h.pa, prefix("10.0.0.0/24"));
    auto ok = ipv4_packet("10.0.0.55", "10.0.0.2");
    auto bad = ipv4_packet("10.0.0.77", "10.0.0.2");
    h.tun_in(h.a, ok);
    h.tun_in(h.a, bad);
    ASSERT_EQ(h.b.tun.size(), 1u);
    EXPECT_EQ(h.b.tun[0], ok);
    EXPECT_EQ(h.b.device.counters()[Reason::disallowed_source], 1u);
}

TEST(DeviceHandshake, NoRouteAndNoEndpointAreCounted) {
    Harness h;
    h.connect(false, /*a_knows_b_endpoint=*/false);
    auto p = ipv4_packet("10.0.0.1", "10.7.7.7");
    h.tun_in(h.a, p);
    EXPECT_EQ(h.a.device.counters()[Reason::no_route], 1u);
    h.a_sends();
    EXPECT_EQ(h.a.device.counters()[Reason::no_endpoint], 1u);
    EXPECT_TRUE(h.a.sent.empty());
    std::vector<std::uint8_t> junk{0x45, 0, 0};
    h.tun_in(h.a, junk);
    EXPECT_EQ(h.a.device.counters()[Reason::bad_tun_packet], 1u);
}

TEST(DeviceHandshake, ResponderLearnsEndpointFromInitiation) {
    Harness h;
    h.connect(false, true, /*b_knows_a_endpoint=*/false);
    h.a_sends();
    ASSERT_TRUE(h.pb->endpoint().has_value());
    EXPECT_TRUE(h.pb->endpoint()->same_remote(h.a.address));
    h.b_sends();
    EXPECT_EQ(h.a.tun.size(), 1u);
}

TEST(DeviceHandshake, UnknownPeerAndWrongKeyAreRejected) {
    Harness h;
    h.connect();
    // A third node that b does not know, but which knows b's public key.
    Node c(77, "192.0.2.99:5000");
    auto* pc = c.device.add_peer(h.b.public_key);
    c.device.add_allowed_ip(*pc, prefix("10.0.0.2/32"));
    c.device.set_endpoint(*pc, h.b.address);
    core::Outputs out;
    auto p = ipv4_packet("10.0.0.3", "10.0.0.2");
    c.device.on_tun_packet(p, h.now, out);
    ASSERT_EQ(out.to_network.size(), 1u);
    h.inject(h.b, out.to_network[0].bytes, c.address);
    EXPECT_EQ(h.b.device.counters()[Reason::unknown_peer], 1u);
    ASSERT_FALSE(h.b.events.empty());
    EXPECT_EQ(h.b.events.back().reason, Reason::unknown_peer);
    EXPECT_EQ(*h.b.events.back().peer, c.public_key);

    // c believes b has another key: mac1 fails.
    Node d(78, "192.0.2.98:5000");
    auto* pd = d.device.add_peer(c.public_key);
    d.device.add_allowed_ip(*pd, prefix("10.0.0.2/32"));
    d.device.set_endpoint(*pd, h.b.address);
    out.clear();
    d.device.on_tun_packet(p, h.now, out);
    ASSERT_EQ(out.to_network.size(), 1u);
    h.inject(h.b, out.to_network[0].bytes, d.address);
    EXPECT_EQ(h.b.device.counters()[Reason::bad_mac1], 1u);
}

TEST(DeviceHandshake, ReplayedInitiationIsRejected) {
    Harness h;
    h.connect();
    std::vector<std::uint8_t> initiation;
    h.intercept = [&](InFlight& f) {
        if (f.bytes[0] == kInit) initiation = f.bytes;
        return true;
    };
    h.a_sends();
    ASSERT_EQ(initiation.size(), noise::kInitiationSize);
    h.advance(1s);
    const auto responses = h.count_sent(h.b, kResp);
    h.inject(h.b, initiation, h.a.address);
    EXPECT_EQ(h.b.device.counters()[Reason::replayed_timestamp], 1u);
    EXPECT_EQ(h.count_sent(h.b, kResp), responses);
    // The existing session still works.
    h.a_sends();
    EXPECT_EQ(h.b.tun.size(), 2u);
}

TEST(DeviceHandshake, InitiationFloodFromOnePeerIsRejected) {
    Harness h;
    h.connect();
    std::vector<std::vector<std::uint8_t>> initiations;
    h.link_up = false;
    // Two initiations with fresh timestamps 17 ms apart (a new peer object each
    // time so a's own REKEY_TIMEOUT limit does not hold the second back).
    h.a_sends();
    initiations.push_back(h.a.sent.back());
    h.a.device.remove_peer(h.b.public_key);
    h.connect();
    h.now.wall += 17ms;
    h.now.mono += 17ms;
    h.a_sends();
    initiations.push_back(h.a.sent.back());
    h.link_up = true;
    h.inject(h.b, initiations[0], h.a.address);
    h.inject(h.b, initiations[1], h.a.address);
    EXPECT_EQ(h.b.device.counters()[Reason::handshake_flood], 1u);
}

TEST(DeviceHandshake, PeerRemovalReleasesEverything) {
    Harness h;
    h.connect();
    h.a_sends();
    EXPECT_GT(h.a.device.index_count(), 0u);
    h.a.device.remove_peer(h.b.public_key);
    EXPECT_EQ(h.a.device.index_count(), 0u);
    EXPECT_EQ(h.a.device.peer_count(), 0u);
    EXPECT_EQ(h.a.device.allowed_ips().size(), 0u);
    EXPECT_FALSE(h.a.device.next_deadline().has_value());
    // Data for the removed peer now finds no index.
    h.b_sends();
    EXPECT_EQ(h.a.device.counters()[Reason::unknown_index], 1u);
}

TEST(DeviceHandshake, OwnPublicKeyCannotBeAPeer) {
    Harness h;
    EXPECT_EQ(h.a.device.add_peer(h.a.public_key), nullptr);
    h.connect();
    // Taking b's key as our own removes the peer b, as wg does.
    h.a.device.set_private_key(h.b.key);
    EXPECT_EQ(h.a.device.find_peer(h.b.public_key), nullptr);
}

TEST(DeviceHandshake, PrivateKeyChangeForcesNewHandshake) {
    Harness h;
    h.connect();
    h.a_sends();
    const auto inits = h.count_sent(h.a, kInit);
    crypto::DeterministicRandom r(5);
    h.a.device.set_private_key(crypto::generate_private_key(r));
    h.a_sends();
    EXPECT_EQ(h.count_sent(h.a, kInit), inits + 1);
    // b does not know a's new public key.
    EXPECT_EQ(h.b.device.counters()[Reason::unknown_peer], 1u);
}

TEST(DeviceHandshake, NoPrivateKeyMeansNoHandshake) {
    crypto::DeterministicRandom r(3);
    core::Device d(r);
    auto key = crypto::public_key_of(crypto::generate_private_key(r));
    auto* p = d.add_peer(key);
    d.add_allowed_ip(*p, prefix("10.0.0.2/32"));
    d.set_endpoint(*p, endpoint("192.0.2.2:1"));
    core::Outputs out;
    core::Now now{100s, 1'700'000'000s};
    auto packet = ipv4_packet("10.0.0.1", "10.0.0.2");
    d.on_tun_packet(packet, now, out);
    EXPECT_TRUE(out.to_network.empty());
    std::vector<std::uint8_t> init(noise::kInitiationSize, 0);
    init[0] = kInit;
    d.on_datagram({endpoint("192.0.2.2:1"), init}, now, out);
    EXPECT_EQ(d.counters()[Reason::no_private_key], 1u);
}

TEST(DeviceHandshake, DownDropsSessionsAndUpResumes) {
    Harness h;
    h.connect();
    h.a_sends();
    ASSERT_NE(h.pa->keypairs().current(), nullptr);
    core::Outputs out;
    h.a.device.set_up(false, h.now, out);
    EXPECT_EQ(h.pa->keypairs().current(), nullptr);
    EXPECT_EQ(h.a.device.index_count(), 0u);
    h.a.device.set_up(true, h.now, out);
    h.advance(1s);  // b accepts at most one initiation per 20 ms from a
    h.a_sends();
    EXPECT_EQ(h.b.tun.size(), 2u);
}

TEST(DeviceHandshake, ByteCountersCountAuthenticatedTraffic) {
    Harness h;
    h.connect();
    h.a_sends(100);
    h.b_sends(100);
    std::uint64_t a_sent = 0, b_sent = 0;
    for (auto& s : h.a.sent) a_sent += s.size();
    for (auto& s : h.b.sent) b_sent += s.size();
    EXPECT_EQ(h.pa->tx_bytes(), a_sent);
    EXPECT_EQ(h.pb->rx_bytes(), a_sent);
    EXPECT_EQ(h.pb->tx_bytes(), b_sent);
    EXPECT_EQ(h.pa->rx_bytes(), b_sent);
}

}  // namespace
}  // namespace wgate::test

namespace wgate::test {
namespace {

TEST(DeviceHandshake, SettingTheSamePrivateKeyKeepsSessions) {
    Harness h;
    h.connect();
    h.a_sends();
    const auto* session = h.pa->keypairs().current();
    ASSERT_NE(session, nullptr);
    // wg syncconf sends the key again, possibly unclamped.
    crypto::PrivateKey unclamped = h.a.key;
    unclamped.data()[0] |= 7;
    h.a.device.set_private_key(unclamped);
    EXPECT_EQ(h.pa->keypairs().current(), session);
    EXPECT_TRUE(h.pa->keypairs().current()->can_send(h.now.mono));
    h.a_sends();
    EXPECT_EQ(h.b.tun.size(), 2u);
}

}  // namespace
}  // namespace wgate::test
