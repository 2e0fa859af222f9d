// Helpers shared by the crypto unit tests: hex in and out of byte vectors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wgate::crypto::test {

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw std::invalid_argument("bad hex digit in test vector");
    };
    if (hex.size() % 2 != 0) {
        throw std::invalid_argument("odd-length hex in test vector");
    }
    std::vector<std::uint8_t> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::uint8_t>((nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]));
    }
    return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> from_hex_array(std::string_view hex) {
    const auto bytes = from_hex(hex);
    if (bytes.size() != N) {
        throw std::invalid_argument("test vector has the wrong length");
    }
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
        out[i] = bytes[i];
    }
    return out;
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0f]);
    }
    return out;
}

inline std::vector<std::uint8_t> bytes_of(std::string_view text) {
    return std::vector<std::uint8_t>(text.begin(), text.end());
}

// 0, 1, 2, ... n-1 (mod 256): the input pattern of the BLAKE2 KAT files.
inline std::vector<std::uint8_t> sequence(std::size_t n, std::uint8_t start = 0) {
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::uint8_t>(start + i);
    }
    return out;
}

}  // namespace wgate::crypto::test
