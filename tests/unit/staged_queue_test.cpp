// StagedQueue: the per-peer FIFO of packets waiting for a session.
#include "wgate/core/staged_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace wgate::core {
namespace {

std::vector<std::uint8_t> packet(std::uint8_t tag, std::size_t size = 3) { return std::vector<std::uint8_t>(size, tag); }

std::uint8_t front_tag(const StagedQueue& q) { return q.front().empty() ? 0 : q.front()[0]; }

TEST(StagedQueue, FirstInFirstOut) {
    StagedQueue q;
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.size(), 0u);
    for (std::uint8_t i = 1; i <= 5; ++i) q.push_back(packet(i, i));
    EXPECT_EQ(q.size(), 5u);
    for (std::uint8_t i = 1; i <= 5; ++i) {
        ASSERT_FALSE(q.empty());
        EXPECT_EQ(front_tag(q), i);
        EXPECT_EQ(q.front().size(), i);  // the bytes were copied whole
        q.pop_front();
    }
    EXPECT_TRUE(q.empty());
}

TEST(StagedQueue, KeepsOrderThroughCompaction) {
    // Drop-oldest at a bound, as the Device does: the consumed front is
    // compacted away without losing or reordering what is left.
    StagedQueue q;
    const std::size_t bound = 7;
    for (int i = 1; i <= 200; ++i) {
        if (q.size() >= bound) q.pop_front();
        q.push_back(packet(static_cast<std::uint8_t>(i)));
        ASSERT_LE(q.size(), bound);
    }
    for (int i = 200 - static_cast<int>(bound) + 1; i <= 200; ++i) {
        EXPECT_EQ(front_tag(q), static_cast<std::uint8_t>(i));
        q.pop_front();
    }
    EXPECT_TRUE(q.empty());
}

TEST(StagedQueue, EmptyPacketsAndClear) {
    StagedQueue q;
    q.push_back({});  // a keepalive is an empty packet
    q.push_back(packet(9));
    EXPECT_EQ(q.size(), 2u);
    EXPECT_TRUE(q.front().empty());
    q.clear();
    EXPECT_TRUE(q.empty());
    q.push_back(packet(4));  // usable again after clear
    EXPECT_EQ(front_tag(q), 4);
}

}  // namespace
}  // namespace wgate::core
