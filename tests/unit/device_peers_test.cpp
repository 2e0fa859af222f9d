// The Device's peer set: lookup by key, creation order through additions and
// removals, our own key refused.
#include <gtest/gtest.h>

#include <vector>

#include "wgate/core/device.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::core {
namespace {

crypto::PublicKey key(std::uint8_t n) {
    crypto::PublicKey k{};
    k[0] = n;
    k[31] = static_cast<std::uint8_t>(0x40 | n);
    return k;
}

std::vector<std::uint8_t> order(const Device& d) {
    std::vector<std::uint8_t> tags;
    for (const Peer* p : d.peers()) tags.push_back(p->public_key()[0]);
    return tags;
}

TEST(DevicePeers, CreationOrderSurvivesRemovals) {
    crypto::DeterministicRandom random(7);
    Device d(random);
    for (std::uint8_t i = 1; i <= 5; ++i) ASSERT_NE(d.add_peer(key(i)), nullptr);
    EXPECT_EQ(order(d), (std::vector<std::uint8_t>{1, 2, 3, 4, 5}));
    d.remove_peer(key(3));  // middle
    d.remove_peer(key(1));  // first
    d.remove_peer(key(5));  // last
    EXPECT_EQ(order(d), (std::vector<std::uint8_t>{2, 4}));
    EXPECT_EQ(d.peer_count(), 2u);
    d.add_peer(key(1));  // re-created: now the newest
    EXPECT_EQ(order(d), (std::vector<std::uint8_t>{2, 4, 1}));
    d.remove_peer(key(9));  // unknown: nothing happens
    EXPECT_EQ(d.peer_count(), 3u);
    d.remove_all_peers();
    EXPECT_TRUE(d.peers().empty());
    EXPECT_EQ(d.peer_count(), 0u);
    d.add_peer(key(6));
    EXPECT_EQ(order(d), (std::vector<std::uint8_t>{6}));
}

TEST(DevicePeers, FindByKeyAndAddIsIdempotent) {
    crypto::DeterministicRandom random(8);
    Device d(random);
    Peer* p = d.add_peer(key(1));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(d.add_peer(key(1)), p);  // the same peer, not a second one
    EXPECT_EQ(d.peer_count(), 1u);
    EXPECT_EQ(d.find_peer(key(1)), p);
    EXPECT_EQ(static_cast<const Device&>(d).find_peer(key(1)), p);
    EXPECT_EQ(d.find_peer(key(2)), nullptr);
    d.remove_peer(key(1));
    EXPECT_EQ(d.find_peer(key(1)), nullptr);
}

TEST(DevicePeers, OwnKeyIsRefusedAndTakingItRemovesThePeer) {
    crypto::DeterministicRandom random(9);
    Device d(random);
    const auto priv = crypto::generate_private_key(random);
    const auto pub = crypto::public_key_of(priv);
    d.add_peer(key(1));
    d.add_peer(pub);
    d.add_peer(key(2));
    d.set_private_key(priv);  // a peer with our new public key goes, as in wg
    EXPECT_EQ(d.find_peer(pub), nullptr);
    EXPECT_EQ(order(d), (std::vector<std::uint8_t>{1, 2}));
    EXPECT_EQ(d.add_peer(pub), nullptr);
    EXPECT_EQ(d.peer_count(), 2u);
}

}  // namespace
}  // namespace wgate::core
