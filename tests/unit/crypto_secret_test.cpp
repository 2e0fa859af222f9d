// Secret byte arrays: constant-time comparison and zeroisation.
#include <gtest/gtest.h>

#include <array>

#include "crypto_test_util.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::crypto {
namespace {

TEST(CryptoSecret, EqualAndZeroChecks) {
    std::array<std::uint8_t, 32> a{}, b{};
    EXPECT_TRUE(equal_ct(a.data(), b.data(), a.size()));
    EXPECT_TRUE(is_zero_ct(a.data(), a.size()));
    b[31] = 1;
    EXPECT_FALSE(equal_ct(a.data(), b.data(), a.size()));
    EXPECT_FALSE(is_zero_ct(b.data(), b.size()));
    EXPECT_TRUE(equal_ct(a.data(), b.data(), 31));  // Only the given prefix counts.
    EXPECT_TRUE(equal_ct(a.data(), b.data(), 0));
    EXPECT_TRUE(is_zero_ct(b.data(), 0));
}

TEST(CryptoSecret, SecureZero) {
    std::array<std::uint8_t, 40> buffer;
    buffer.fill(0xee);
    secure_zero(buffer.data() + 4, 32);
    EXPECT_EQ(buffer[3], 0xee);
    EXPECT_TRUE(is_zero_ct(buffer.data() + 4, 32));
    EXPECT_EQ(buffer[36], 0xee);
    secure_zero(nullptr, 0);  // Harmless.
}

TEST(CryptoSecret, SecretClearAndCompare) {
    Bytes<32> bytes;
    bytes.fill(0x42);
    PrivateKey key(bytes);
    PrivateKey copy = key;
    EXPECT_TRUE(key == copy);
    EXPECT_FALSE(key.is_zero());
    copy.data()[0] ^= 1;
    EXPECT_FALSE(key == copy);
    key.clear();
    EXPECT_TRUE(key.is_zero());
    EXPECT_TRUE(PrivateKey().is_zero());
}

}  // namespace
}  // namespace wgate::crypto
