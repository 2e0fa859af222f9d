// The sliding replay window: exact boundaries, ring aliasing after big jumps,
// the message limit, and a randomized cross-check against a plain set model.
#include "wgate/noise/replay_window.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <set>

#include "wgate/noise/constants.hpp"

namespace wgate::noise {
namespace {

constexpr std::uint64_t kW = ReplayWindow::kWindowSize;  // 8128
constexpr std::uint64_t kRing = ReplayWindow::kBitsTotal;  // 8192

TEST(ReplayWindow, WindowConstants) {
    EXPECT_EQ(kRing, 8192u);
    EXPECT_EQ(kW, 8192u - 64u);
}

TEST(ReplayWindow, CounterZeroFirst) {
    ReplayWindow w;
    EXPECT_TRUE(w.accept(0));
    EXPECT_FALSE(w.accept(0));
}

TEST(ReplayWindow, InOrderAcceptedOnce) {
    ReplayWindow w;
    for (std::uint64_t c = 0; c < 3 * kRing; ++c) ASSERT_TRUE(w.accept(c)) << c;
    // All of the last window is remembered as seen.
    for (std::uint64_t c = 3 * kRing - kW - 1; c < 3 * kRing; ++c) ASSERT_FALSE(w.accept(c)) << c;
}

TEST(ReplayWindow, DuplicatesRejected) {
    ReplayWindow w;
    EXPECT_TRUE(w.accept(5));
    EXPECT_FALSE(w.accept(5));
    EXPECT_TRUE(w.accept(6));
    EXPECT_FALSE(w.accept(6));
    EXPECT_FALSE(w.accept(5));
}

TEST(ReplayWindow, ReorderingInsideWindowAcceptedExactlyOnce) {
    ReplayWindow w;
    EXPECT_TRUE(w.accept(100));
    // Earlier counters, out of order, each accepted once.
    for (std::uint64_t c : {99u, 3u, 50u, 0u, 64u, 63u, 65u, 1u}) {
        EXPECT_TRUE(w.accept(c)) << c;
        EXPECT_FALSE(w.accept(c)) << c;
    }
    // A gap ahead of the highest, filled later.
    EXPECT_TRUE(w.accept(110));
    EXPECT_TRUE(w.accept(105));
    EXPECT_FALSE(w.accept(105));
    EXPECT_FALSE(w.accept(110));
    EXPECT_FALSE(w.accept(100));
}

// accept(c) rejects when c + 1 + kWindowSize < next with next = highest + 1,
// i.e. when c < highest - kWindowSize. So highest - kWindowSize is the oldest
// counter still accepted.
TEST(ReplayWindow, BoundaryExactlyWindowSizeBehind) {
    const std::uint64_t highest = 20000;
    {
        ReplayWindow w;
        ASSERT_TRUE(w.accept(highest));
        EXPECT_TRUE(w.accept(highest - kW));
        EXPECT_FALSE(w.accept(highest - kW));  // now a duplicate
        EXPECT_FALSE(w.accept(highest - kW - 1));
    }
    {
        // The too-old counter was never seen: rejected for its age alone.
        ReplayWindow w;
        ASSERT_TRUE(w.accept(highest));
        EXPECT_FALSE(w.accept(highest - kW - 1));
        EXPECT_FALSE(w.accept(0));
        EXPECT_TRUE(w.accept(highest - kW));
    }
}

// The same boundary for every position of the highest counter inside a
// 64-bit word, since the oldest word of the window shares its ring slot with
// the word after the newest.
TEST(ReplayWindow, BoundaryAtEveryBitOffset) {
    for (std::uint64_t highest = 3 * kRing; highest < 3 * kRing + 64; ++highest) {
        ReplayWindow w;
        ASSERT_TRUE(w.accept(highest));
        EXPECT_FALSE(w.accept(highest - kW - 1)) << highest;
        EXPECT_TRUE(w.accept(highest - kW)) << highest;
        EXPECT_TRUE(w.accept(highest - kW + 1)) << highest;
        EXPECT_TRUE(w.accept(highest - 1)) << highest;
    }
}

// Sliding forward one counter at a time: the oldest counter still inside
// must be remembered as seen right up to the moment it leaves the window.
TEST(ReplayWindow, SeenCountersStayRejectedWhileSliding) {
    ReplayWindow w;
    for (std::uint64_t c = 0; c <= kW; ++c) ASSERT_TRUE(w.accept(c));
    for (std::uint64_t highest = kW + 1; highest < kW + 3 * kRing; ++highest) {
        ASSERT_TRUE(w.accept(highest)) << highest;
        ASSERT_FALSE(w.accept(highest - kW)) << highest;  // seen, still inside
        ASSERT_FALSE(w.accept(highest - kW - 1)) << highest;  // too old
    }
}

// A jump forward by exactly the ring size: every bit position now aliases one
// used before the jump. Counters never seen must be accepted although their
// bit was set before; the old counters are too old.
TEST(ReplayWindow, JumpByExactlyRingSizeClearsAliasedBits) {
    ReplayWindow w;
    for (std::uint64_t c = 0; c < 100; ++c) ASSERT_TRUE(w.accept(c));
    const std::uint64_t highest = 99 + kRing;  // 8291
    ASSERT_TRUE(w.accept(highest));
    for (std::uint64_t c = 0; c < 100; ++c) EXPECT_FALSE(w.accept(c)) << c;
    // c + kRing aliases c; all inside the window (>= highest - kW = 163).
    for (std::uint64_t c = kRing; c < highest; ++c) EXPECT_TRUE(w.accept(c)) << c;
    for (std::uint64_t c = highest - kW; c < kRing; ++c) EXPECT_TRUE(w.accept(c)) << c;
    EXPECT_FALSE(w.accept(highest - kW - 1));
}

// Jumps of one ring word less, exactly one word and far more than the ring:
// in each case the bits of old counters must not survive at aliased slots.
TEST(ReplayWindow, BigJumpsForward) {
    for (const std::uint64_t jump : {kRing - 64, kRing - 1, kRing, kRing + 1, kRing + 64, 5 * kRing + 17,
                                     std::uint64_t{1} << 40}) {
        ReplayWindow w;
        for (std::uint64_t c = 0; c < 300; ++c) ASSERT_TRUE(w.accept(c));
        const std::uint64_t highest = 299 + jump;
        ASSERT_TRUE(w.accept(highest)) << jump;
        const std::uint64_t oldest = highest - kW;
        for (std::uint64_t c = 0; c < 300; ++c) {
            // Old counters are either too old or, if still inside, seen.
            EXPECT_FALSE(w.accept(c)) << jump << " " << c;
        }
        // Everything in the window that was not seen is accepted once.
        for (std::uint64_t c = std::max<std::uint64_t>(oldest, 300); c < highest; ++c) {
            ASSERT_TRUE(w.accept(c)) << jump << " " << c;
            ASSERT_FALSE(w.accept(c)) << jump << " " << c;
        }
        EXPECT_FALSE(w.accept(highest));
    }
}

TEST(ReplayWindow, RejectAfterMessagesLimit) {
    ReplayWindow w;
    EXPECT_FALSE(w.accept(kRejectAfterMessages));
    EXPECT_FALSE(w.accept(kRejectAfterMessages + 1));
    EXPECT_FALSE(w.accept(~std::uint64_t{0}));
    EXPECT_TRUE(w.accept(kRejectAfterMessages - 1));
    EXPECT_FALSE(w.accept(kRejectAfterMessages - 1));
    EXPECT_TRUE(w.accept(kRejectAfterMessages - 1 - kW));
    EXPECT_FALSE(w.accept(kRejectAfterMessages - 2 - kW));
    EXPECT_FALSE(w.accept(kRejectAfterMessages));
}

TEST(ReplayWindow, ResetForgetsEverything) {
    ReplayWindow w;
    ASSERT_TRUE(w.accept(0));
    ASSERT_TRUE(w.accept(1'000'000));
    ASSERT_FALSE(w.accept(5));  // too old before the reset
    w.reset();
    EXPECT_TRUE(w.accept(5));
    EXPECT_FALSE(w.accept(5));
    EXPECT_TRUE(w.accept(0));
    EXPECT_TRUE(w.accept(1'000'000));
}

// The same rule stated plainly: a counter is accepted when it is below the
// limit, not older than kWindowSize behind the highest accepted, and new.
class ModelWindow {
public:
    bool accept(std::uint64_t c) {
        if (c >= kRejectAfterMessages) return false;
        if (highest_ && c + kW < *highest_) return false;
        if (!seen_.insert(c).second) return false;
        if (!highest_ || c > *highest_) highest_ = c;
        // Forget what can no longer matter, to keep the set small.
        while (!seen_.empty() && *seen_.begin() + kW < *highest_) seen_.erase(seen_.begin());
        return true;
    }
    std::uint64_t highest() const { return highest_.value_or(0); }

private:
    std::set<std::uint64_t> seen_;
    std::optional<std::uint64_t> highest_;
};

TEST(ReplayWindow, RandomizedAgainstSetModel) {
    for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
        std::mt19937_64 rng(seed);
        ReplayWindow w;
        ModelWindow m;
        // Start some runs near the message limit to exercise it too.
        const std::uint64_t base = seed == 4 ? kRejectAfterMessages - 3 * kRing : 0;
        auto below = [&](std::uint64_t back) { return m.highest() > back ? m.highest() - back : base; };
        for (int i = 0; i < 200'000; ++i) {
            std::uint64_t c = 0;
            const unsigned kind = rng() % 100;
            if (kind < 50) {
                c = std::max(base, m.highest()) + rng() % 4;  // mostly in order
            } else if (kind < 75) {
                c = below(rng() % (kW + 256));  // reordered or too old
            } else if (kind < 85) {
                c = below(kW + rng() % 2);  // right at the boundary
            } else if (kind < 90) {
                c = below(rng() % 64);  // likely duplicates
            } else if (kind < 98) {
                c = m.highest() + 60 + rng() % (3 * kRing);  // jumps, some past the ring
            } else {
                c = m.highest() + rng() % 128 - 64;  // around the top
            }
            const bool expected = m.accept(c);
            ASSERT_EQ(w.accept(c), expected) << "seed " << seed << " step " << i << " counter " << c;
        }
    }
}

}  // namespace
}  // namespace wgate::noise
