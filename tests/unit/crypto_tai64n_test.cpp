// TAI64N timestamps as WireGuard sends them: 2^62 + 10 + unix seconds, then
// nanoseconds rounded down to a multiple of 2^24.
#include <gtest/gtest.h>

#include <chrono>

#include "crypto_test_util.hpp"
#include "wgate/crypto/tai64n.hpp"

namespace wgate::crypto {
namespace {

using namespace std::chrono_literals;
using test::to_hex;

TEST(CryptoTai64n, UnixEpoch) {
    EXPECT_EQ(to_hex(tai64n(0ns)), "400000000000000a00000000");
}

TEST(CryptoTai64n, KnownTimeExactBytes) {
    // 2023-11-14T22:13:20.123456789Z. 1700000000 = 0x6553f100; 123456789 ns
    // = 0x075bcd15, whitened to 0x07000000.
    EXPECT_EQ(to_hex(tai64n(1700000000s + 123456789ns)), "400000006553f10a07000000");
    // The largest nanosecond value stays below 10^9 after whitening:
    // 999999999 = 0x3b9ac9ff -> 0x3b000000.
    EXPECT_EQ(to_hex(tai64n(1700000000s + 999999999ns)), "400000006553f10a3b000000");
    // 2^32 seconds: the seconds field is a full 64-bit big-endian value.
    EXPECT_EQ(to_hex(tai64n(std::chrono::seconds(0x100000000LL))), "400000010000000a00000000");
}

TEST(CryptoTai64n, NanosecondsAreWhitened) {
    const auto base = 1700000000s;
    const Timestamp first = tai64n(base);
    // Everything within the first 2^24 ns of the second gives the same stamp.
    EXPECT_EQ(tai64n(base + 1ns), first);
    EXPECT_EQ(tai64n(base + std::chrono::nanoseconds(0xffffff)), first);
    // The next 2^24 ns step is visible.
    const Timestamp next = tai64n(base + std::chrono::nanoseconds(0x1000000));
    EXPECT_EQ(to_hex(next), "400000006553f10a01000000");
    EXPECT_TRUE(timestamp_after(next, first));
    // Every stamp's nanosecond field has its low 24 bits clear.
    for (std::int64_t ns = 0; ns < 1'000'000'000; ns += 7'777'777) {
        const Timestamp t = tai64n(base + std::chrono::nanoseconds(ns));
        EXPECT_EQ(t[9], 0);
        EXPECT_EQ(t[10], 0);
        EXPECT_EQ(t[11], 0);
    }
}

TEST(CryptoTai64n, OrderingIsTimeOrder) {
    const Timestamp a = tai64n(1700000000s + 900ms);
    const Timestamp b = tai64n(1700000001s);
    const Timestamp c = tai64n(1700000001s + 20ms);
    EXPECT_TRUE(timestamp_after(b, a));
    EXPECT_TRUE(timestamp_after(c, b));
    EXPECT_TRUE(timestamp_after(c, a));
    EXPECT_FALSE(timestamp_after(a, b));
    EXPECT_FALSE(timestamp_after(a, a));  // Strictly later only: a replay is not newer.
    // A byte-wise comparison must see the seconds before the nanoseconds.
    EXPECT_TRUE(timestamp_after(tai64n(1700000256s), tai64n(1700000255s + 999ms)));
}

TEST(CryptoTai64n, BeforeEpochFloorsToWholeSeconds) {
    // -1 ns is 1969-12-31T23:59:59.999999999: seconds -1, nanoseconds 999999999.
    EXPECT_EQ(to_hex(tai64n(-1ns)), "40000000000000093b000000");
    EXPECT_TRUE(timestamp_after(tai64n(0ns), tai64n(-1ns)));
}

}  // namespace
}  // namespace wgate::crypto
