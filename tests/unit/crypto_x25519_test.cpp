// X25519 against RFC 7748 (sections 5.2 and 6.1) and the low-order points
// that must never yield a shared secret.
#include <gtest/gtest.h>

#include <string_view>

#include "crypto_test_util.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::crypto {
namespace {

using test::from_hex_array;
using test::to_hex;

PrivateKey private_from_hex(std::string_view hex) { return PrivateKey(from_hex_array<32>(hex)); }

std::string shared_hex(std::string_view scalar, std::string_view point) {
    SymmetricKey shared;
    EXPECT_TRUE(x25519(shared, private_from_hex(scalar), from_hex_array<32>(point)));
    return to_hex(shared.span());
}

// RFC 7748 section 5.2, first vector. The scalar is not clamped and the
// point's encoding is used as is: X25519 itself clamps and masks.
TEST(CryptoX25519, Rfc7748Section52Vector1) {
    EXPECT_EQ(shared_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
              "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

// Second vector: its u-coordinate has the top bit set, which must be ignored.
TEST(CryptoX25519, Rfc7748Section52Vector2) {
    EXPECT_EQ(shared_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
              "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// RFC 7748 section 5.2, iterated: k = X25519(k, u), u = old k, from k = u = 9.
TEST(CryptoX25519, Rfc7748Section52Iterated) {
    Bytes<32> k{};
    Bytes<32> u{};
    k[0] = 9;
    u[0] = 9;
    for (int i = 1; i <= 1000; ++i) {
        SymmetricKey next;
        ASSERT_TRUE(x25519(next, PrivateKey(k), u));
        u = k;
        k = next.bytes();
        if (i == 1) {
            EXPECT_EQ(to_hex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
        }
    }
    EXPECT_EQ(to_hex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

// RFC 7748 section 6.1: Alice's and Bob's key pairs and their shared secret.
TEST(CryptoX25519, Rfc7748Section61DiffieHellman) {
    const PrivateKey alice = private_from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const PrivateKey bob = private_from_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    const PublicKey alice_public = public_key_of(alice);
    const PublicKey bob_public = public_key_of(bob);
    EXPECT_EQ(to_hex(alice_public), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    EXPECT_EQ(to_hex(bob_public), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");

    SymmetricKey alice_shared;
    SymmetricKey bob_shared;
    ASSERT_TRUE(x25519(alice_shared, alice, bob_public));
    ASSERT_TRUE(x25519(bob_shared, bob, alice_public));
    EXPECT_EQ(to_hex(alice_shared.span()), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    EXPECT_TRUE(alice_shared == bob_shared);
}

// Keys in `wg` format, public keys as printed by the stock `wg pubkey`.
TEST(CryptoX25519, MatchesWgPubkey) {
    struct Pair {
        std::string_view private_b64;
        std::string_view public_b64;
    };
    const Pair pairs[] = {
        {"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="},
        {"XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os=", "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="},
        {"mK80vlVPxDbJ4ADOfM2pL5wUubkWjzagYjjns+u64mo=", "h2JuDOapLIkfnq2pIjYYqAAZSLuMqTNYnph5tS1CB0U="},
    };
    for (const Pair& pair : pairs) {
        const auto private_bytes = key_from_base64(pair.private_b64);
        ASSERT_TRUE(private_bytes.has_value()) << pair.private_b64;
        EXPECT_EQ(key_to_base64(public_key_of(PrivateKey(*private_bytes))), pair.public_b64);
    }
}

// Points of small order (and non-canonical encodings of them) make the
// shared secret all zero; x25519 must report failure and leave zeros.
TEST(CryptoX25519, RejectsLowOrderPoints) {
    const std::string_view low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",  // 0
        "0100000000000000000000000000000000000000000000000000000000000000",  // 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1
        "0000000000000000000000000000000000000000000000000000000000000080",  // 0, top bit set
        "0100000000000000000000000000000000000000000000000000000000000080",  // 1, top bit set
    };
    const PrivateKey alice = private_from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    for (const std::string_view point : low_order) {
        SymmetricKey shared(from_hex_array<32>("abababababababababababababababababababababababababababababababab"));
        EXPECT_FALSE(x25519(shared, alice, from_hex_array<32>(point))) << point;
        EXPECT_TRUE(shared.is_zero()) << point;
    }
}

// A source that always produces the same byte, to see clamping exactly.
class ConstantRandom final : public Random {
public:
    explicit ConstantRandom(std::uint8_t value) : value_(value) {}
    void fill(std::uint8_t* out, std::size_t size) override {
        for (std::size_t i = 0; i < size; ++i) {
            out[i] = value_;
        }
    }

private:
    std::uint8_t value_;
};

TEST(CryptoX25519, GeneratedKeysAreClamped) {
    ConstantRandom ones(0xff);
    const PrivateKey high = generate_private_key(ones);
    EXPECT_EQ(to_hex(high.span()), "f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");

    ConstantRandom zeros(0x00);
    const PrivateKey low = generate_private_key(zeros);
    EXPECT_EQ(to_hex(low.span()), "0000000000000000000000000000000000000000000000000000000000000040");

    DeterministicRandom random(7);
    for (int i = 0; i < 64; ++i) {
        const PrivateKey key = generate_private_key(random);
        EXPECT_EQ(key.data()[0] & 7, 0);
        EXPECT_EQ(key.data()[31] & 0xc0, 0x40);
    }
}

TEST(CryptoX25519, GeneratedPairsAgree) {
    DeterministicRandom random(42);
    for (int i = 0; i < 16; ++i) {
        const PrivateKey a = generate_private_key(random);
        const PrivateKey b = generate_private_key(random);
        EXPECT_FALSE(a == b);
        SymmetricKey ab;
        SymmetricKey ba;
        ASSERT_TRUE(x25519(ab, a, public_key_of(b)));
        ASSERT_TRUE(x25519(ba, b, public_key_of(a)));
        EXPECT_TRUE(ab == ba);
        EXPECT_FALSE(ab.is_zero());
    }
}

}  // namespace
}  // namespace wgate::crypto
