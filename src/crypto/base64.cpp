#include "wgate/crypto/base64.hpp"

namespace wgate::crypto {

// Private keys pass through these codecs, so characters are mapped with
// arithmetic instead of table lookups or branches indexed by secret data.
namespace {

constexpr std::size_t kBase64Size = 44;  // 4 * ceil(32 / 3)
constexpr std::size_t kHexSize = 2 * kKeySize;

// -1 (all bits set) if lo <= c <= hi, else 0; c, lo, hi in 0..255.
// C++20 defines >> on negative values as an arithmetic shift.
constexpr int in_range(int c, int lo, int hi) noexcept {
    return ((lo - 1 - c) & (c - (hi + 1))) >> 8;
}

// The 6-bit value of a standard-alphabet character, or -1.
constexpr int base64_value(unsigned char ch) noexcept {
    const int c = ch;
    int value = -1;
    value += in_range(c, 'A', 'Z') & (c - 'A' + 1);
    value += in_range(c, 'a', 'z') & (c - 'a' + 26 + 1);
    value += in_range(c, '0', '9') & (c - '0' + 52 + 1);
    value += in_range(c, '+', '+') & (62 + 1);
    value += in_range(c, '/', '/') & (63 + 1);
    return value;
}

// The character for a 6-bit value: start at 'A' and shift at each boundary
// of the alphabet's four runs.
constexpr char base64_char(unsigned int value) noexcept {
    const int v = static_cast<int>(value);
    int c = 'A' + v;
    c += ((25 - v) >> 8) & ('a' - 'A' - 26);   // v >= 26: lower case
    c += ((51 - v) >> 8) & ('0' - 'a' - 26);   // v >= 52: digits
    c += ((61 - v) >> 8) & ('+' - '0' - 10);   // v == 62: '+'
    c += ((62 - v) >> 8) & ('/' - '+' - 1);    // v == 63: '/'
    return static_cast<char>(c);
}

constexpr int hex_value(unsigned char ch) noexcept {
    const int c = ch;
    int value = -1;
    value += in_range(c, '0', '9') & (c - '0' + 1);
    value += in_range(c, 'a', 'f') & (c - 'a' + 10 + 1);
    value += in_range(c, 'A', 'F') & (c - 'A' + 10 + 1);
    return value;
}

constexpr char hex_char(unsigned int nibble) noexcept {
    const int n = static_cast<int>(nibble);
    return static_cast<char>('0' + n + (((9 - n) >> 8) & ('a' - '0' - 10)));
}

// Spot checks of the branch-free mappings at every run boundary.
static_assert(base64_value('A') == 0 && base64_value('Z') == 25 && base64_value('a') == 26 &&
              base64_value('z') == 51 && base64_value('0') == 52 && base64_value('9') == 61 &&
              base64_value('+') == 62 && base64_value('/') == 63);
static_assert(base64_value('=') == -1 && base64_value('-') == -1 && base64_value('_') == -1 &&
              base64_value(' ') == -1 && base64_value(0) == -1 && base64_value(0xff) == -1);
static_assert(base64_char(0) == 'A' && base64_char(25) == 'Z' && base64_char(26) == 'a' && base64_char(51) == 'z' &&
              base64_char(52) == '0' && base64_char(61) == '9' && base64_char(62) == '+' && base64_char(63) == '/');
static_assert(hex_value('0') == 0 && hex_value('9') == 9 && hex_value('a') == 10 && hex_value('f') == 15 &&
              hex_value('A') == 10 && hex_value('F') == 15 && hex_value('g') == -1 && hex_value('G') == -1 &&
              hex_value('/') == -1 && hex_value(':') == -1 && hex_value('`') == -1 && hex_value('@') == -1);
static_assert(hex_char(0) == '0' && hex_char(9) == '9' && hex_char(10) == 'a' && hex_char(15) == 'f');

}  // namespace

std::string key_to_base64(const Bytes<kKeySize>& key) {
    std::string out(kBase64Size, '=');
    std::size_t o = 0;
    std::size_t i = 0;
    for (; i + 3 <= kKeySize; i += 3) {
        const unsigned int group = (static_cast<unsigned int>(key[i]) << 16) |
                                   (static_cast<unsigned int>(key[i + 1]) << 8) | key[i + 2];
        out[o++] = base64_char((group >> 18) & 63);
        out[o++] = base64_char((group >> 12) & 63);
        out[o++] = base64_char((group >> 6) & 63);
        out[o++] = base64_char(group & 63);
    }
    // 32 = 10 * 3 + 2: the last two bytes give three characters and one '='.
    const unsigned int tail = (static_cast<unsigned int>(key[i]) << 16) | (static_cast<unsigned int>(key[i + 1]) << 8);
    out[o++] = base64_char((tail >> 18) & 63);
    out[o++] = base64_char((tail >> 12) & 63);
    out[o++] = base64_char((tail >> 6) & 63);
    return out;
}

std::optional<Bytes<kKeySize>> key_from_base64(std::string_view text) {
    if (text.size() != kBase64Size || text[kBase64Size - 1] != '=') {
        return std::nullopt;
    }
    Bytes<kKeySize> key{};
    int invalid = 0;  // Collects the sign bit of any -1 from base64_value.
    std::size_t o = 0;
    std::size_t i = 0;
    for (; i + 4 <= kBase64Size - 4; i += 4) {
        int group = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const int v = base64_value(static_cast<unsigned char>(text[i + j]));
            invalid |= v;
            group = (group << 6) | (v & 63);
        }
        key[o++] = static_cast<std::uint8_t>(group >> 16);
        key[o++] = static_cast<std::uint8_t>(group >> 8);
        key[o++] = static_cast<std::uint8_t>(group);
    }
    // Final quantum "xyz=": 18 bits for 16 bytes' worth, so the 2 low bits
    // must be zero or the text is not the canonical encoding of any key.
    int tail = 0;
    for (std::size_t j = 0; j < 3; ++j) {
        const int v = base64_value(static_cast<unsigned char>(text[i + j]));
        invalid |= v;
        tail = (tail << 6) | (v & 63);
    }
    key[o++] = static_cast<std::uint8_t>(tail >> 10);
    key[o++] = static_cast<std::uint8_t>(tail >> 2);

    const bool non_canonical = (tail & 3) != 0;
    if (invalid < 0 || non_canonical) {
        secure_zero(key.data(), key.size());
        return std::nullopt;
    }
    return key;
}

std::string key_to_hex(const Bytes<kKeySize>& key) {
    std::string out(kHexSize, '0');
    for (std::size_t i = 0; i < kKeySize; ++i) {
        out[2 * i] = hex_char(key[i] >> 4);
        out[2 * i + 1] = hex_char(key[i] & 0x0f);
    }
    return out;
}

std::optional<Bytes<kKeySize>> key_from_hex(std::string_view text) {
    if (text.size() != kHexSize) {
        return std::nullopt;
    }
    Bytes<kKeySize> key{};
    int invalid = 0;
    for (std::size_t i = 0; i < kKeySize; ++i) {
        const int high = hex_value(static_cast<unsigned char>(text[2 * i]));
        const int low = hex_value(static_cast<unsigned char>(text[2 * i + 1]));
        invalid |= high | low;
        key[i] = static_cast<std::uint8_t>(((high & 0x0f) << 4) | (low & 0x0f));
    }
    if (invalid < 0) {
        secure_zero(key.data(), key.size());
        return std::nullopt;
    }
    return key;
}

}  // namespace wgate::crypto
