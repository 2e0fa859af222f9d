// Injected randomness: the OS source, the reproducible test source, and the
// unbiased helpers built on fill().
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <vector>

#include "crypto_test_util.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::crypto {
namespace {

// Replays a fixed list of 32-bit words (as little-endian bytes).
class ScriptedRandom final : public Random {
public:
    explicit ScriptedRandom(std::initializer_list<std::uint32_t> words) : words_(words) {}
    void fill(std::uint8_t* out, std::size_t size) override {
        ASSERT_EQ(size, 4u);
        ASSERT_FALSE(words_.empty()) << "drew more words than scripted";
        const std::uint32_t w = words_.front();
        words_.pop_front();
        for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(w >> (8 * i));
        ++draws;
    }
    int draws = 0;

private:
    std::deque<std::uint32_t> words_;
};

TEST(CryptoRandom, NextU32IsLittleEndian) {
    ScriptedRandom random({0x04030201});
    EXPECT_EQ(random.next_u32(), 0x04030201u);
}

// 2^32 mod 3 = 1, so 0 is the one value rejected for bound 3.
TEST(CryptoRandom, UniformRejectsTheBiasedRange) {
    ScriptedRandom small({0, 5});
    EXPECT_EQ(small.uniform(3), 2u);
    EXPECT_EQ(small.draws, 2);

    // For bound 2^31 + 1, 2^32 mod bound = 2^31 - 1: a plain modulo would
    // make 0..2^31-2 twice as likely. Those draws must be thrown away.
    ScriptedRandom large({0x00000000, 0x7ffffffe, 0xffffffff});
    EXPECT_EQ(large.uniform(0x80000001u), 0xffffffffu % 0x80000001u);
    EXPECT_EQ(large.draws, 3);

    ScriptedRandom edge({0x7fffffff});  // The smallest accepted value.
    EXPECT_EQ(edge.uniform(0x80000001u), 0x7fffffffu);
    EXPECT_EQ(edge.draws, 1);

    // Powers of two reject nothing.
    ScriptedRandom power({0});
    EXPECT_EQ(power.uniform(1u << 20), 0u);
    EXPECT_EQ(power.draws, 1);
}

TEST(CryptoRandom, UniformStaysInRangeAndCoversIt) {
    DeterministicRandom random(11);
    EXPECT_EQ(random.uniform(1), 0u);
    std::array<int, 6> counts{};
    constexpr int kDraws = 60000;
    for (int i = 0; i < kDraws; ++i) {
        const std::uint32_t v = random.uniform(6);
        ASSERT_LT(v, 6u);
        ++counts[v];
    }
    // Expected 10000 each; 5 standard deviations is about +-456.
    for (const int count : counts) {
        EXPECT_GT(count, 9500);
        EXPECT_LT(count, 10500);
    }
}

TEST(CryptoRandom, DeterministicIsReproducible) {
    DeterministicRandom a(123);
    DeterministicRandom b(123);
    DeterministicRandom c(124);
    for (const std::size_t size : {1, 4, 32, 100, 1000}) {
        std::vector<std::uint8_t> out_a(size), out_b(size), out_c(size);
        a.fill(out_a.data(), size);
        b.fill(out_b.data(), size);
        c.fill(out_c.data(), size);
        EXPECT_EQ(out_a, out_b);
        if (size >= 4) {
            EXPECT_NE(out_a, out_c);
        }
    }
    // Successive fills of the same size differ.
    std::vector<std::uint8_t> first(32), second(32);
    a.fill(first.data(), first.size());
    a.fill(second.data(), second.size());
    EXPECT_NE(first, second);
    EXPECT_FALSE(is_zero_ct(first.data(), first.size()));
}

TEST(CryptoRandom, SystemRandomProducesFreshBytes) {
    SystemRandom random;
    std::array<std::uint8_t, 32> a{}, b{};
    random.fill(a.data(), a.size());
    random.fill(b.data(), b.size());
    // 2^-256 chance of a false failure.
    EXPECT_NE(a, b);
    EXPECT_FALSE(is_zero_ct(a.data(), a.size()));
    random.fill(nullptr, 0);  // A zero-size fill is a no-op.
    EXPECT_LT(random.uniform(10), 10u);
}

}  // namespace
}  // namespace wgate::crypto
