// ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305
// (draft-irtf-cfrg-xchacha-03) against their published vectors, plus the
// WireGuard counter nonce and the failure cases.
#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "crypto_test_util.hpp"
#include "wgate/crypto/aead.hpp"

namespace wgate::crypto {
namespace {

using test::bytes_of;
using test::from_hex;
using test::from_hex_array;
using test::sequence;
using test::to_hex;

constexpr std::string_view kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would "
    "be it.";

// RFC 8439 section 2.8.2.
struct Rfc8439Section282 {
    std::vector<std::uint8_t> key = sequence(32, 0x80);
    std::vector<std::uint8_t> nonce = from_hex("070000004041424344454647");
    std::vector<std::uint8_t> ad = from_hex("50515253c0c1c2c3c4c5c6c7");
    std::vector<std::uint8_t> plain = bytes_of(kSunscreen);
    std::string sealed_hex =
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116"
        "1ae10b594f09e26a7e902ecbd0600691";  // tag
};

TEST(CryptoAead, Rfc8439Section282Seal) {
    const Rfc8439Section282 v;
    ASSERT_EQ(v.plain.size(), 114u);
    EXPECT_EQ(to_hex(v.plain).substr(0, 24), "4c616469657320616e642047");
    std::vector<std::uint8_t> sealed(v.plain.size() + kAeadTagSize);
    aead_seal_nonce12(sealed.data(), v.plain, v.ad, v.key.data(), v.nonce.data());
    EXPECT_EQ(to_hex(sealed), v.sealed_hex);
}

TEST(CryptoAead, Rfc8439Section282Open) {
    const Rfc8439Section282 v;
    const std::vector<std::uint8_t> sealed = from_hex(v.sealed_hex);
    std::vector<std::uint8_t> plain(sealed.size() - kAeadTagSize);
    ASSERT_TRUE(aead_open_nonce12(plain.data(), sealed, v.ad, v.key.data(), v.nonce.data()));
    EXPECT_EQ(plain, v.plain);
}

// RFC 8439 appendix A.5: decrypt a received message with the given tag.
TEST(CryptoAead, Rfc8439AppendixA5Decryption) {
    const auto key = from_hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
    const auto nonce = from_hex("000000000102030405060708");
    const auto ad = from_hex("f33388860000000000004e91");
    const auto sealed = from_hex(
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
        "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
        "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
        "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
        "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
        "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
        "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
        "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
        "a6ad5cb4022b02709b"
        "eead9d67890cbb22392336fea1851f38");  // tag
    const std::string expected_plain_hex =
        "496e7465726e65742d4472616674732061726520647261667420646f63756d65"
        "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
        "6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
        "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
        "6e747320617420616e792074696d652e20497420697320696e617070726f7072"
        "6961746520746f2075736520496e7465726e65742d4472616674732061732072"
        "65666572656e6365206d6174657269616c206f7220746f206369746520746865"
        "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
        "726573732e2fe2809d";
    ASSERT_EQ(sealed.size(), 265u + kAeadTagSize);
    std::vector<std::uint8_t> plain(sealed.size() - kAeadTagSize);
    ASSERT_TRUE(aead_open_nonce12(plain.data(), sealed, ad, key.data(), nonce.data()));
    EXPECT_EQ(to_hex(plain), expected_plain_hex);
}

// draft-irtf-cfrg-xchacha-03 appendix A.3.1.
TEST(CryptoAead, XChaChaDraftA31) {
    const auto key = sequence(32, 0x80);
    const auto nonce = from_hex("404142434445464748494a4b4c4d4e4f5051525354555657");
    const auto ad = from_hex("50515253c0c1c2c3c4c5c6c7");
    const auto plain = bytes_of(kSunscreen);
    const std::string expected_hex =
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
        "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
        "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
        "21f9664c97637da9768812f615c68b13b52e"
        "c0875924c1c7987947deafd8780acf49";  // tag

    std::vector<std::uint8_t> sealed(plain.size() + kAeadTagSize);
    xaead_seal(sealed.data(), plain, ad, key.data(), nonce.data());
    EXPECT_EQ(to_hex(sealed), expected_hex);

    std::vector<std::uint8_t> opened(plain.size());
    ASSERT_TRUE(xaead_open(opened.data(), sealed, ad, key.data(), nonce.data()));
    EXPECT_EQ(opened, plain);
}

// WireGuard's nonce: 4 zero bytes, then the counter little-endian.
TEST(CryptoAead, CounterIsLittleEndianAfterFourZeroBytes) {
    const SymmetricKey key(from_hex_array<32>("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
    const auto plain = bytes_of("a packet");
    const auto ad = bytes_of("header");
    struct Case {
        std::uint64_t counter;
        std::string_view nonce_hex;
    };
    const Case cases[] = {
        {0, "000000000000000000000000"},
        {1, "000000000100000000000000"},
        {0x0102030405060708ULL, "000000000807060504030201"},
        {0xfffffffffffffffeULL, "00000000feffffffffffffff"},
    };
    for (const Case& c : cases) {
        std::vector<std::uint8_t> with_counter(plain.size() + kAeadTagSize);
        std::vector<std::uint8_t> with_nonce(plain.size() + kAeadTagSize);
        aead_seal(with_counter.data(), plain, ad, key, c.counter);
        aead_seal_nonce12(with_nonce.data(), plain, ad, key.data(), from_hex(c.nonce_hex).data());
        EXPECT_EQ(with_counter, with_nonce) << c.counter;

        std::vector<std::uint8_t> opened(plain.size());
        EXPECT_TRUE(aead_open(opened.data(), with_counter, ad, key, c.counter));
        EXPECT_EQ(opened, plain);
        EXPECT_FALSE(aead_open(opened.data(), with_counter, ad, key, c.counter + 1));
    }
}

// Any change to ciphertext, tag, associated data, key or nonce must fail,
// and a failed open must not leave plaintext behind.
TEST(CryptoAead, TamperingFails) {
    const SymmetricKey key(from_hex_array<32>("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"));
    const auto plain = bytes_of(kSunscreen);
    const auto ad = from_hex("50515253c0c1c2c3c4c5c6c7");
    std::vector<std::uint8_t> sealed(plain.size() + kAeadTagSize);
    aead_seal(sealed.data(), plain, ad, key, 7);

    std::vector<std::uint8_t> out(plain.size());
    ASSERT_TRUE(aead_open(out.data(), sealed, ad, key, 7));

    for (std::size_t i : {std::size_t{0}, plain.size() / 2, plain.size() - 1, plain.size(), sealed.size() - 1}) {
        auto bad = sealed;
        bad[i] ^= 0x01;
        out.assign(out.size(), 0xaa);
        EXPECT_FALSE(aead_open(out.data(), bad, ad, key, 7)) << "flipped byte " << i;
        EXPECT_EQ(out, std::vector<std::uint8_t>(out.size(), 0)) << "plaintext left after failure";
    }

    auto bad_ad = ad;
    bad_ad[0] ^= 0x80;
    EXPECT_FALSE(aead_open(out.data(), sealed, bad_ad, key, 7));
    EXPECT_FALSE(aead_open(out.data(), sealed, {}, key, 7));

    SymmetricKey other_key = key;
    other_key.data()[31] ^= 1;
    EXPECT_FALSE(aead_open(out.data(), sealed, ad, other_key, 7));

    // Truncated: one byte shorter, and shorter than a tag.
    EXPECT_FALSE(aead_open(out.data(), std::span(sealed).first(sealed.size() - 1), ad, key, 7));
    EXPECT_FALSE(aead_open(out.data(), std::span(sealed).first(kAeadTagSize - 1), ad, key, 7));
    EXPECT_FALSE(aead_open(out.data(), {}, ad, key, 7));
}

TEST(CryptoAead, XAeadTamperingFails) {
    const auto key = sequence(32, 0x80);
    const auto nonce = sequence(24, 0x40);
    const auto plain = bytes_of("cookie value 16b");
    const auto ad = bytes_of("mac1 of the message");
    std::vector<std::uint8_t> sealed(plain.size() + kAeadTagSize);
    xaead_seal(sealed.data(), plain, ad, key.data(), nonce.data());

    std::vector<std::uint8_t> out(plain.size());
    ASSERT_TRUE(xaead_open(out.data(), sealed, ad, key.data(), nonce.data()));
    EXPECT_EQ(out, plain);

    auto bad = sealed;
    bad[3] ^= 0x10;
    EXPECT_FALSE(xaead_open(out.data(), bad, ad, key.data(), nonce.data()));
    bad = sealed;
    bad.back() ^= 0x10;
    EXPECT_FALSE(xaead_open(out.data(), bad, ad, key.data(), nonce.data()));
    auto bad_nonce = nonce;
    bad_nonce[23] ^= 1;  // Only the last 8 bytes reach ChaCha20 itself.
    EXPECT_FALSE(xaead_open(out.data(), sealed, ad, key.data(), bad_nonce.data()));
    auto bad_ad = ad;
    bad_ad.pop_back();
    EXPECT_FALSE(xaead_open(out.data(), sealed, bad_ad, key.data(), nonce.data()));
    EXPECT_FALSE(xaead_open(out.data(), std::span(sealed).first(kAeadTagSize - 1), ad, key.data(), nonce.data()));
}

// The data path seals and opens in the packet buffer itself.
TEST(CryptoAead, InPlaceSealAndOpen) {
    const SymmetricKey key(from_hex_array<32>("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0"));
    const auto plain = bytes_of(kSunscreen);
    std::vector<std::uint8_t> expected(plain.size() + kAeadTagSize);
    aead_seal(expected.data(), plain, {}, key, 99);

    std::vector<std::uint8_t> buffer(plain.size() + kAeadTagSize);
    std::copy(plain.begin(), plain.end(), buffer.begin());
    aead_seal(buffer.data(), std::span(buffer).first(plain.size()), {}, key, 99);
    EXPECT_EQ(buffer, expected);

    ASSERT_TRUE(aead_open(buffer.data(), buffer, {}, key, 99));
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buffer.begin()));

    // The same for XChaCha20-Poly1305.
    const auto nonce = sequence(24);
    std::vector<std::uint8_t> xexpected(plain.size() + kAeadTagSize);
    xaead_seal(xexpected.data(), plain, {}, key.data(), nonce.data());
    std::copy(plain.begin(), plain.end(), buffer.begin());
    xaead_seal(buffer.data(), std::span(buffer).first(plain.size()), {}, key.data(), nonce.data());
    EXPECT_EQ(buffer, xexpected);
    ASSERT_TRUE(xaead_open(buffer.data(), buffer, {}, key.data(), nonce.data()));
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buffer.begin()));
}

// A keepalive is an empty plaintext: just the 16-byte tag.
TEST(CryptoAead, EmptyPlaintext) {
    const SymmetricKey key(from_hex_array<32>("0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000"));
    std::uint8_t tag[kAeadTagSize] = {};
    aead_seal(tag, {}, {}, key, 0);
    EXPECT_FALSE(is_zero_ct(tag, sizeof tag));
    std::uint8_t unused = 0;
    EXPECT_TRUE(aead_open(&unused, tag, {}, key, 0));
    EXPECT_FALSE(aead_open(&unused, tag, {}, key, 1));
    tag[0] ^= 1;
    EXPECT_FALSE(aead_open(&unused, tag, {}, key, 0));
}

}  // namespace
}  // namespace wgate::crypto
