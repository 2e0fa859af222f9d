// Token buckets per source with a virtual clock: burst, refill rate, keying by
// IPv4 address and IPv6 /64, garbage collection and the table limit.
#include "wgate/core/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace wgate::core {
namespace {

using namespace std::chrono_literals;

IpAddress ip(std::string_view text) {
    const auto a = IpAddress::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddress{});
}

// How many of `n` calls at the same instant are allowed.
int allowed(RateLimiter& rl, const IpAddress& a, Duration now, int n) {
    int count = 0;
    for (int i = 0; i < n; ++i) count += rl.allow(a, now) ? 1 : 0;
    return count;
}

const Duration t0 = 100s;

TEST(RateLimiter, BurstOfFiveThenRefused) {
    RateLimiter rl;
    const IpAddress a = ip("192.0.2.1");
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(rl.allow(a, t0)) << i;
    EXPECT_FALSE(rl.allow(a, t0));
    EXPECT_FALSE(rl.allow(a, t0));
}

TEST(RateLimiter, RefillsOneTokenPer50ms) {
    RateLimiter rl;
    const IpAddress a = ip("192.0.2.1");
    ASSERT_EQ(allowed(rl, a, t0, 10), 5);
    EXPECT_FALSE(rl.allow(a, t0 + 49ms));
    // Credit accrues although the attempt at 49 ms was refused.
    EXPECT_TRUE(rl.allow(a, t0 + 50ms));
    EXPECT_FALSE(rl.allow(a, t0 + 50ms));
    // Steady state: exactly 20 per second, one per 50 ms.
    int total = 0;
    for (int k = 2; k <= 21; ++k) {
        const Duration now = t0 + k * 50ms;
        EXPECT_EQ(allowed(rl, a, now, 3), 1) << k;
        total += 1;
    }
    EXPECT_EQ(total, 20);
    // Over 1 s polled every millisecond, 20 get through.
    const Duration start = t0 + 21 * 50ms;
    int polled = 0;
    for (int ms = 1; ms <= 1000; ++ms) polled += rl.allow(a, start + ms * 1ms) ? 1 : 0;
    EXPECT_EQ(polled, 20);
}

TEST(RateLimiter, IdleRefillCappedAtBurst) {
    RateLimiter rl;
    const IpAddress a = ip("192.0.2.1");
    ASSERT_EQ(allowed(rl, a, t0, 5), 5);
    // 500 ms would be 10 tokens uncapped; the bucket holds 5. (Under the 1 s
    // idle time, so the bucket is not collected in between.)
    EXPECT_EQ(allowed(rl, a, t0 + 500ms, 20), 5);
    EXPECT_EQ(allowed(rl, a, t0 + 5s, 20), 5);
}

TEST(RateLimiter, Ipv4AddressesIndependent) {
    RateLimiter rl;
    const IpAddress a = ip("192.0.2.1");
    const IpAddress b = ip("192.0.2.2");
    ASSERT_EQ(allowed(rl, a, t0, 10), 5);
    EXPECT_EQ(allowed(rl, b, t0, 10), 5);
    EXPECT_EQ(allowed(rl, ip("10.0.0.1"), t0, 10), 5);
    EXPECT_EQ(rl.size(), 3u);
}

TEST(RateLimiter, Ipv6SameSlash64SharesBucket) {
    RateLimiter rl;
    ASSERT_EQ(allowed(rl, ip("2001:db8:1:2::1"), t0, 3), 3);
    EXPECT_EQ(allowed(rl, ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), t0, 10), 2);
    EXPECT_EQ(allowed(rl, ip("2001:db8:1:2::99"), t0, 10), 0);
    // Next /64 (last bit of the prefix differs) and far away: own buckets.
    EXPECT_EQ(allowed(rl, ip("2001:db8:1:3::1"), t0, 10), 5);
    EXPECT_EQ(allowed(rl, ip("2001:db8:1:2::1"), t0, 10), 0);
    EXPECT_EQ(allowed(rl, ip("2001:db9:1:2::1"), t0, 10), 5);
    EXPECT_EQ(rl.size(), 3u);
}

TEST(RateLimiter, FamiliesDoNotCollide) {
    // An IPv6 address whose first bytes equal an IPv4 address.
    RateLimiter rl;
    ASSERT_EQ(allowed(rl, ip("1.2.3.4"), t0, 10), 5);
    EXPECT_EQ(allowed(rl, ip("102:304::"), t0, 10), 5);
    EXPECT_EQ(rl.size(), 2u);
}

TEST(RateLimiter, CollectGarbageDropsIdleBuckets) {
    RateLimiter rl;
    ASSERT_TRUE(rl.allow(ip("192.0.2.1"), t0));
    ASSERT_TRUE(rl.allow(ip("192.0.2.2"), t0));
    ASSERT_TRUE(rl.allow(ip("2001:db8::1"), t0 + 600ms));
    EXPECT_EQ(rl.size(), 3u);
    rl.collect_garbage(t0 + 1s);  // idle exactly 1 s: kept
    EXPECT_EQ(rl.size(), 3u);
    rl.collect_garbage(t0 + 1s + 1ns);
    EXPECT_EQ(rl.size(), 1u);
    rl.collect_garbage(t0 + 1601ms);
    EXPECT_EQ(rl.size(), 0u);
}

TEST(RateLimiter, AllowCollectsGarbageOnItsOwn) {
    RateLimiter rl;
    for (int i = 1; i <= 10; ++i) {
        const std::uint8_t b[4] = {10, 0, 0, static_cast<std::uint8_t>(i)};
        ASSERT_TRUE(rl.allow(IpAddress::v4(b), t0));
    }
    EXPECT_EQ(rl.size(), 10u);
    EXPECT_TRUE(rl.allow(ip("192.0.2.1"), t0 + 5s));
    EXPECT_EQ(rl.size(), 1u);
}

TEST(RateLimiter, FullTableRefusesNewcomers) {
    RateLimiter rl;
    for (std::size_t i = 0; i < RateLimiter::kMaxEntries; ++i) {
        const std::uint8_t b[4] = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                                   static_cast<std::uint8_t>(i)};
        ASSERT_TRUE(rl.allow(IpAddress::v4(b), t0)) << i;
    }
    ASSERT_EQ(rl.size(), RateLimiter::kMaxEntries);
    EXPECT_FALSE(rl.allow(ip("192.0.2.1"), t0));
    EXPECT_EQ(rl.size(), RateLimiter::kMaxEntries);
    // Known sources keep their buckets.
    EXPECT_TRUE(rl.allow(ip("10.0.0.7"), t0));
    // Once the table went idle, newcomers are welcome again.
    EXPECT_TRUE(rl.allow(ip("192.0.2.1"), t0 + 2s));
    EXPECT_EQ(rl.size(), 1u);
}

}  // namespace
}  // namespace wgate::core
