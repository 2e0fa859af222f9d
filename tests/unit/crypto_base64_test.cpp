// Keys as text: the 44-character base64 `wg` prints and the 64-digit hex the
// UAPI uses. Decoding accepts only the canonical form.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "crypto_test_util.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/random.hpp"

namespace wgate::crypto {
namespace {

using test::from_hex_array;
using test::to_hex;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// RFC 7748 section 6.1 Alice private key, in wg format (as `wg` reads it).
constexpr std::string_view kAliceHex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAliceBase64 = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";

TEST(CryptoBase64, KnownKeyInWgFormat) {
    const auto alice = from_hex_array<32>(kAliceHex);
    EXPECT_EQ(key_to_base64(alice), kAliceBase64);
    const auto decoded = key_from_base64(kAliceBase64);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, alice);

    Bytes<32> zeros{};
    EXPECT_EQ(key_to_base64(zeros), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    Bytes<32> ones;
    ones.fill(0xff);
    EXPECT_EQ(key_to_base64(ones), "//////////////////////////////////////////8=");
    ASSERT_TRUE(key_from_base64("//////////////////////////////////////////8=").has_value());
    EXPECT_EQ(*key_from_base64("//////////////////////////////////////////8="), ones);
}

TEST(CryptoBase64, RoundTrip) {
    DeterministicRandom random(2024);
    for (int i = 0; i < 500; ++i) {
        Bytes<32> key;
        random.fill(key.data(), key.size());
        const std::string text = key_to_base64(key);
        ASSERT_EQ(text.size(), 44u);
        EXPECT_EQ(text.back(), '=');
        const auto decoded = key_from_base64(text);
        ASSERT_TRUE(decoded.has_value()) << text;
        EXPECT_EQ(*decoded, key);
    }
}

// Every alphabet character at every full-data position decodes, and the
// result encodes back to the same text (so the codec is canonical).
TEST(CryptoBase64, EveryCharacterEverywhere) {
    for (std::size_t position = 0; position < 42; ++position) {
        for (const char c : kAlphabet) {
            std::string text(kAliceBase64);
            text[position] = c;
            const auto decoded = key_from_base64(text);
            ASSERT_TRUE(decoded.has_value()) << text;
            EXPECT_EQ(key_to_base64(*decoded), text);
        }
    }
}

// The 43rd character carries 4 data bits and 2 padding bits that must be 0.
TEST(CryptoBase64, RejectsNonCanonicalTrailingBits) {
    int accepted = 0;
    for (std::size_t value = 0; value < 64; ++value) {
        std::string text(kAliceBase64);
        text[42] = kAlphabet[value];
        const bool ok = key_from_base64(text).has_value();
        EXPECT_EQ(ok, value % 4 == 0) << text;
        accepted += ok ? 1 : 0;
    }
    EXPECT_EQ(accepted, 16);
    // 'o' -> 'p' is the smallest such change (and `wg` refuses it too).
    EXPECT_FALSE(key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=").has_value());
}

TEST(CryptoBase64, RejectsWrongLengthAndPadding) {
    const std::string good(kAliceBase64);
    EXPECT_FALSE(key_from_base64("").has_value());
    EXPECT_FALSE(key_from_base64(good.substr(0, 43)).has_value());   // '=' dropped
    EXPECT_FALSE(key_from_base64(good.substr(1)).has_value());       // 43 characters
    EXPECT_FALSE(key_from_base64(good + "=").has_value());           // 45 characters
    EXPECT_FALSE(key_from_base64(good + "A").has_value());
    EXPECT_FALSE(key_from_base64("A" + good).has_value());
    EXPECT_FALSE(key_from_base64(good.substr(0, 43) + "A").has_value());  // no '=' at the end
    std::string double_pad = good;
    double_pad[42] = '=';
    EXPECT_FALSE(key_from_base64(double_pad).has_value());  // "==" ends a 31-byte value
    // A 33-byte value ("...A=" is 44 characters only for 32 bytes).
    EXPECT_FALSE(key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").has_value());
    EXPECT_FALSE(key_from_base64(std::string(44, '=')).has_value());
}

TEST(CryptoBase64, RejectsBadCharacters) {
    const std::string good(kAliceBase64);
    for (const char bad : {'-', '_', '.', '!', '*', '=', ' ', '\t', '\n', '\r', '\0', '\x7f', '\x80', '\xff'}) {
        for (const std::size_t position : {std::size_t{0}, std::size_t{20}, std::size_t{41}, std::size_t{42}}) {
            std::string text = good;
            text[position] = bad;
            EXPECT_FALSE(key_from_base64(text).has_value())
                << "character " << static_cast<int>(static_cast<unsigned char>(bad)) << " at " << position;
        }
    }
}

TEST(CryptoBase64, RejectsEmbeddedWhitespace) {
    const std::string good(kAliceBase64);
    EXPECT_FALSE(key_from_base64(good + "\n").has_value());  // as read from a file
    EXPECT_FALSE(key_from_base64(" " + good).has_value());
    EXPECT_FALSE(key_from_base64(good.substr(0, 22) + " " + good.substr(22)).has_value());
    EXPECT_FALSE(key_from_base64(good.substr(0, 22) + "\n" + good.substr(23)).has_value());
}

TEST(CryptoHex, RoundTripAndLowerCase) {
    const auto alice = from_hex_array<32>(kAliceHex);
    EXPECT_EQ(key_to_hex(alice), kAliceHex);
    const auto decoded = key_from_hex(kAliceHex);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, alice);

    std::string upper(kAliceHex);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto from_upper = key_from_hex(upper);
    ASSERT_TRUE(from_upper.has_value());
    EXPECT_EQ(*from_upper, alice);
    EXPECT_EQ(key_to_hex(*from_upper), kAliceHex);

    Bytes<32> all;
    for (std::size_t i = 0; i < 32; ++i) all[i] = static_cast<std::uint8_t>(i * 8 + 7);
    EXPECT_EQ(key_to_hex(all), to_hex(all));
    DeterministicRandom random(5);
    for (int i = 0; i < 200; ++i) {
        Bytes<32> key;
        random.fill(key.data(), key.size());
        const auto back = key_from_hex(key_to_hex(key));
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(*back, key);
    }
}

TEST(CryptoHex, Rejects) {
    const std::string good(kAliceHex);
    EXPECT_FALSE(key_from_hex("").has_value());
    EXPECT_FALSE(key_from_hex(good.substr(1)).has_value());      // 63 digits
    EXPECT_FALSE(key_from_hex(good + "0").has_value());          // 65 digits
    EXPECT_FALSE(key_from_hex("0x" + good.substr(2)).has_value());
    EXPECT_FALSE(key_from_hex(good + "\n").has_value());
    for (const char bad : {'g', 'G', 'z', ' ', '/', ':', '@', '`', '-', '\0', '\xff'}) {
        for (const std::size_t position : {std::size_t{0}, std::size_t{1}, std::size_t{63}}) {
            std::string text = good;
            text[position] = bad;
            EXPECT_FALSE(key_from_hex(text).has_value()) << position;
        }
    }
}

}  // namespace
}  // namespace wgate::crypto
