// Receiver index table: allocation from the random source, lookup, rebinding
// a handshake's index to its keypair, release, and retry on collision.
#include "wgate/core/index_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <set>
#include <vector>

#include "wgate/core/peer.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/noise/keypair.hpp"

namespace wgate::core {
namespace {

using namespace std::chrono_literals;

// Hands out a fixed sequence of 32-bit values (little-endian, as next_u32
// reads them) and counts the draws.
class ScriptedRandom final : public crypto::Random {
public:
    explicit ScriptedRandom(std::initializer_list<std::uint32_t> values) : values_(values) {}
    void fill(std::uint8_t* out, std::size_t size) override {
        ASSERT_EQ(size, 4u);
        ASSERT_FALSE(values_.empty()) << "script exhausted";
        const std::uint32_t v = values_.front();
        values_.pop_front();
        for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
        ++draws;
    }
    int draws = 0;

private:
    std::deque<std::uint32_t> values_;
};

noise::Keypair make_keypair() {
    noise::SessionKeys keys;
    return noise::Keypair(std::move(keys), 0s);
}

class IndexTableTest : public ::testing::Test {
protected:
    Peer peer_a{crypto::PublicKey{1}, 1};
    Peer peer_b{crypto::PublicKey{2}, 2};
    noise::Keypair keypair = make_keypair();
    IndexTable table;
};

TEST_F(IndexTableTest, AllocateReturnsDistinctIndicesBoundToEntries) {
    crypto::DeterministicRandom random(5);
    std::set<std::uint32_t> seen;
    std::vector<std::uint32_t> order;
    for (int i = 0; i < 1000; ++i) {
        Peer* p = i % 2 ? &peer_a : &peer_b;
        const std::uint32_t index = table.allocate({p, nullptr}, random);
        EXPECT_TRUE(seen.insert(index).second) << index;
        order.push_back(index);
    }
    EXPECT_EQ(table.size(), 1000u);
    for (int i = 0; i < 1000; ++i) {
        const IndexEntry* e = table.find(order[i]);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->peer, i % 2 ? &peer_a : &peer_b);
        EXPECT_EQ(e->keypair, nullptr);
    }
}

TEST_F(IndexTableTest, FindUnknownIndex) {
    EXPECT_EQ(table.find(0), nullptr);
    ScriptedRandom random({42});
    ASSERT_EQ(table.allocate({&peer_a, nullptr}, random), 42u);
    EXPECT_EQ(table.find(41), nullptr);
    EXPECT_EQ(table.find(43), nullptr);
    ASSERT_NE(table.find(42), nullptr);
}

TEST_F(IndexTableTest, AllocateIsLittleEndianDraw) {
    ScriptedRandom random({0x12345678});
    EXPECT_EQ(table.allocate({&peer_a, nullptr}, random), 0x12345678u);
}

TEST_F(IndexTableTest, RebindMovesIndexToKeypair) {
    crypto::DeterministicRandom random(6);
    const std::uint32_t index = table.allocate({&peer_a, nullptr}, random);
    table.rebind(index, {&peer_a, &keypair});
    const IndexEntry* e = table.find(index);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->peer, &peer_a);
    EXPECT_EQ(e->keypair, &keypair);
    EXPECT_EQ(table.size(), 1u);
}

TEST_F(IndexTableTest, ReleaseFreesIndex) {
    ScriptedRandom random({7, 8, 7});
    EXPECT_EQ(table.allocate({&peer_a, nullptr}, random), 7u);
    EXPECT_EQ(table.allocate({&peer_b, nullptr}, random), 8u);
    table.release(7);
    EXPECT_EQ(table.find(7), nullptr);
    ASSERT_NE(table.find(8), nullptr);
    EXPECT_EQ(table.find(8)->peer, &peer_b);
    EXPECT_EQ(table.size(), 1u);
    table.release(7);  // twice: harmless
    table.release(12345);
    EXPECT_EQ(table.size(), 1u);
    // A released index may be handed out again.
    EXPECT_EQ(table.allocate({&peer_b, &keypair}, random), 7u);
    ASSERT_NE(table.find(7), nullptr);
    EXPECT_EQ(table.find(7)->keypair, &keypair);
}

TEST_F(IndexTableTest, AllocateRetriesOnCollision) {
    ScriptedRandom random({7, 7, 7, 7, 9});
    EXPECT_EQ(table.allocate({&peer_a, nullptr}, random), 7u);
    EXPECT_EQ(random.draws, 1);
    // Three collisions with 7, then a free value.
    EXPECT_EQ(table.allocate({&peer_b, nullptr}, random), 9u);
    EXPECT_EQ(random.draws, 5);
    // The collisions did not disturb the existing binding.
    ASSERT_NE(table.find(7), nullptr);
    ASSERT_NE(table.find(9), nullptr);
    EXPECT_EQ(table.find(7)->peer, &peer_a);
    EXPECT_EQ(table.find(9)->peer, &peer_b);
    EXPECT_EQ(table.size(), 2u);
}

}  // namespace
}  // namespace wgate::core
