// HMAC-BLAKE2s and WireGuard's KDF: checked against an RFC 2104 HMAC built
// here directly on libb2, and against published HMAC-BLAKE2s values.
#include <gtest/gtest.h>

#include <blake2.h>

#include <array>
#include <cstring>
#include <vector>

#include "crypto_test_util.hpp"
#include "wgate/crypto/blake2s.hpp"

namespace wgate::crypto {
namespace {

using test::bytes_of;
using test::from_hex;
using test::sequence;
using test::to_hex;

using Digest = std::array<std::uint8_t, 32>;

Digest reference_blake2s(const std::vector<std::uint8_t>& in) {
    Digest out{};
    EXPECT_EQ(::blake2s(out.data(), in.data(), nullptr, out.size(), in.size(), 0), 0);
    return out;
}

// RFC 2104 written out independently of the library: block size 64.
Digest reference_hmac(std::vector<std::uint8_t> key, const std::vector<std::uint8_t>& message) {
    if (key.size() > 64) {
        const Digest hashed = reference_blake2s(key);
        key.assign(hashed.begin(), hashed.end());
    }
    key.resize(64, 0);
    std::vector<std::uint8_t> inner_input;
    for (std::uint8_t b : key) inner_input.push_back(b ^ 0x36);
    inner_input.insert(inner_input.end(), message.begin(), message.end());
    const Digest inner = reference_blake2s(inner_input);
    std::vector<std::uint8_t> outer_input;
    for (std::uint8_t b : key) outer_input.push_back(b ^ 0x5c);
    outer_input.insert(outer_input.end(), inner.begin(), inner.end());
    return reference_blake2s(outer_input);
}

Digest library_hmac(const std::vector<std::uint8_t>& key, const std::vector<std::uint8_t>& message) {
    Digest out{};
    hmac_blake2s(out.data(), key, message);
    return out;
}

std::vector<std::uint8_t> concat(const Digest& a, std::uint8_t b) {
    std::vector<std::uint8_t> out(a.begin(), a.end());
    out.push_back(b);
    return out;
}

// Published HMAC-BLAKE2s values (computed elsewhere with Python's
// hmac.new(key, msg, hashlib.blake2s), which uses the same 64-byte block).
TEST(CryptoKdf, HmacPublishedValues) {
    EXPECT_EQ(to_hex(library_hmac({}, {})), "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd");
    EXPECT_EQ(to_hex(library_hmac(bytes_of("key"), bytes_of("The quick brown fox jumps over the lazy dog"))),
              "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0");
    EXPECT_EQ(to_hex(library_hmac(sequence(32), sequence(256))),
              "66e8260777230a3a870fdec816d6487e9df792ddff3d542dab2d19123acaaa35");
}

TEST(CryptoKdf, HmacMatchesReferenceConstruction) {
    for (std::size_t key_len : {0, 1, 16, 32, 63, 64, 65, 100, 200}) {
        for (std::size_t in_len : {0, 1, 32, 33, 64, 65, 1000}) {
            const auto key = sequence(key_len, 0x5a);
            const auto message = sequence(in_len, 0xa5);
            EXPECT_EQ(library_hmac(key, message), reference_hmac(key, message))
                << "key " << key_len << " input " << in_len;
        }
    }
}

// A key longer than the block is replaced by its hash, so the two must agree;
// a 64-byte key is used as is.
TEST(CryptoKdf, LongKeysAreHashedFirst) {
    const auto long_key = sequence(65);
    const Digest hashed = reference_blake2s(long_key);
    const auto message = bytes_of("m");
    EXPECT_EQ(library_hmac(long_key, message), library_hmac({hashed.begin(), hashed.end()}, message));
    const auto block_key = sequence(64);
    const Digest block_hashed = reference_blake2s(block_key);
    EXPECT_NE(library_hmac(block_key, message), library_hmac({block_hashed.begin(), block_hashed.end()}, message));
}

TEST(CryptoKdf, HmacOutputMayAliasKey) {
    const auto key = sequence(32, 9);
    const auto message = bytes_of("input");
    Digest buffer{};
    std::copy(key.begin(), key.end(), buffer.begin());
    hmac_blake2s(buffer.data(), buffer, message);
    EXPECT_EQ(buffer, reference_hmac(key, message));
}

// KDF_n as the whitepaper defines it: T0 = HMAC(C, input); T1 = HMAC(T0, 1);
// T2 = HMAC(T0, T1 || 2); T3 = HMAC(T0, T2 || 3).
TEST(CryptoKdf, FollowsTheDefinition) {
    const auto chaining_key = from_hex("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
    const std::vector<std::vector<std::uint8_t>> inputs = {{}, sequence(32), sequence(100, 7)};
    for (const auto& input : inputs) {
        const Digest t0 = reference_hmac(chaining_key, input);
        const Digest t1 = reference_hmac({t0.begin(), t0.end()}, {0x01});
        const Digest t2 = reference_hmac({t0.begin(), t0.end()}, concat(t1, 0x02));
        const Digest t3 = reference_hmac({t0.begin(), t0.end()}, concat(t2, 0x03));

        Digest out1{}, out2{}, out3{};
        kdf(out1.data(), out2.data(), out3.data(), chaining_key.data(), input);
        EXPECT_EQ(out1, t1);
        EXPECT_EQ(out2, t2);
        EXPECT_EQ(out3, t3);
        EXPECT_NE(out1, out2);
        EXPECT_NE(out2, out3);

        // Fewer outputs give the same prefix.
        Digest only1{}, two1{}, two2{};
        kdf(only1.data(), nullptr, nullptr, chaining_key.data(), input);
        kdf(two1.data(), two2.data(), nullptr, chaining_key.data(), input);
        EXPECT_EQ(only1, t1);
        EXPECT_EQ(two1, t1);
        EXPECT_EQ(two2, t2);

        // Skipped outputs in the middle still derive the later ones correctly.
        Digest third_only{};
        kdf(nullptr, nullptr, third_only.data(), chaining_key.data(), input);
        EXPECT_EQ(third_only, t3);
    }
}

// The handshake updates the chaining key in place: kdf(ck, key, ck, input).
TEST(CryptoKdf, OutputsMayAliasChainingKeyAndInput) {
    const auto original = from_hex("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
    const auto input = sequence(32, 0x33);
    Digest expected1{}, expected2{};
    kdf(expected1.data(), expected2.data(), nullptr, original.data(), input);

    Digest chaining_key{};
    std::copy(original.begin(), original.end(), chaining_key.begin());
    Digest key{};
    kdf(chaining_key.data(), key.data(), nullptr, chaining_key.data(), input);
    EXPECT_EQ(chaining_key, expected1);
    EXPECT_EQ(key, expected2);

    std::vector<std::uint8_t> in_out = input;
    Digest ck_copy{};
    std::copy(original.begin(), original.end(), ck_copy.begin());
    kdf(in_out.data(), nullptr, nullptr, ck_copy.data(), in_out);
    EXPECT_TRUE(std::equal(expected1.begin(), expected1.end(), in_out.begin()));
}

}  // namespace
}  // namespace wgate::crypto
