// BLAKE2s (RFC 7693) against published vectors, keyed BLAKE2s against the
// reference KAT, the 16-byte MAC, and WireGuard's two precomputed constants.
#include <gtest/gtest.h>

#include <blake2.h>

#include <string_view>
#include <vector>

#include "crypto_test_util.hpp"
#include "wgate/crypto/blake2s.hpp"

namespace wgate::crypto {
namespace {

using test::bytes_of;
using test::from_hex;
using test::sequence;
using test::to_hex;

std::string keyed_hex(std::span<const std::uint8_t> in, std::span<const std::uint8_t> key, std::size_t out_len = 32) {
    std::vector<std::uint8_t> out(out_len);
    blake2s(out.data(), out.size(), in, key);
    return to_hex(out);
}

// RFC 7693 appendix B.
TEST(CryptoBlake2s, Rfc7693AppendixBAbc) {
    const auto abc = bytes_of("abc");
    EXPECT_EQ(to_hex(blake2s({abc})), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
    EXPECT_EQ(keyed_hex(abc, {}), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

// Unkeyed BLAKE2s-256 of the empty string (reference KAT, blake2s.txt).
TEST(CryptoBlake2s, EmptyInput) {
    EXPECT_EQ(to_hex(blake2s({})), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
    EXPECT_EQ(to_hex(blake2s({std::span<const std::uint8_t>()})),
              "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
}

// The reference keyed KAT (blake2s-kat.txt): key 00..1f, input 00..(n-1).
TEST(CryptoBlake2s, ReferenceKeyedKat) {
    const auto key = sequence(32);
    struct Case {
        std::size_t length;
        std::string_view digest;
    };
    const Case cases[] = {
        {0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
        {1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
        {2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"},
        {64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"},
        {255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(keyed_hex(sequence(c.length), key), c.digest) << "length " << c.length;
    }
}

// Keyed BLAKE2s with 16-byte output (golang.org/x/crypto/blake2s New128
// vectors). The output length is in the parameter block, so this is not the
// 32-byte digest truncated.
TEST(CryptoBlake2s, Mac16MatchesBlake2s128Kat) {
    const auto key = sequence(32);
    const std::string_view expected[] = {
        "9536f9b267655743dee97b8a670f9f53",
        "13bacfb85b48a1223c595f8c1e7e82cb",
        "d47a9b1645e2feae501cd5fe44ce6333",
    };
    for (std::size_t n = 0; n < 3; ++n) {
        const auto input = sequence(n);
        EXPECT_EQ(to_hex(mac16(key, input)), expected[n]) << "length " << n;
        EXPECT_EQ(keyed_hex(input, key, 16), expected[n]);
        EXPECT_NE(keyed_hex(input, key, 32).substr(0, 32), expected[n]);
    }
}

// Keys shorter than 32 bytes are legal (cookies use 32, but the API allows
// 1..32); compare with libb2's one-shot function called directly.
TEST(CryptoBlake2s, GeneralFormMatchesLibb2) {
    const auto input = sequence(200, 3);
    for (std::size_t key_len : {0, 1, 16, 31, 32}) {
        for (std::size_t out_len : {1, 16, 20, 32}) {
            const auto key = sequence(key_len, 0x11);
            std::vector<std::uint8_t> expected(out_len);
            ASSERT_EQ(::blake2s(expected.data(), input.data(), key_len ? key.data() : nullptr, out_len, input.size(),
                                key_len),
                      0);
            EXPECT_EQ(keyed_hex(input, key, out_len), to_hex(expected)) << key_len << "/" << out_len;
        }
    }
}

TEST(CryptoBlake2s, PartsAreConcatenated) {
    const auto all = sequence(300);
    const auto whole = blake2s({all});
    const std::span<const std::uint8_t> s(all);
    EXPECT_EQ(blake2s({s.first(1), s.subspan(1, 63), s.subspan(64, 1), s.subspan(65)}), whole);
    EXPECT_EQ(blake2s({s.first(150), std::span<const std::uint8_t>(), s.subspan(150)}), whole);
    EXPECT_NE(blake2s({s.first(299)}), whole);
}

// WireGuard's precomputed handshake constants (whitepaper section 5.4), as
// the reference implementations embed them:
//   C = HASH("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")
//   H = HASH(C || "WireGuard v1 zx2c4 Jason@zx2c4.com")
TEST(CryptoBlake2s, WireGuardInitialChainingKeyAndHash) {
    const auto construction = bytes_of("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    const auto identifier = bytes_of("WireGuard v1 zx2c4 Jason@zx2c4.com");
    ASSERT_EQ(construction.size(), 37u);
    ASSERT_EQ(identifier.size(), 34u);
    const Hash chaining_key = blake2s({construction});
    EXPECT_EQ(to_hex(chaining_key), "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
    const Hash initial_hash = blake2s({chaining_key, identifier});
    EXPECT_EQ(to_hex(initial_hash), "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");

    // The next mixHash of an initiation, for responder public key {9, 0...}
    // (the value a Go WireGuard handshake test expects).
    std::vector<std::uint8_t> responder_public(32, 0);
    responder_public[0] = 9;
    EXPECT_EQ(to_hex(blake2s({initial_hash, responder_public})),
              "575bad75a5a30f85f58df113422a55d41873e357b40a3a2ea91f456c9508211a");
}

}  // namespace
}  // namespace wgate::crypto
