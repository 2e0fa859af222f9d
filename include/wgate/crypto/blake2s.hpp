// BLAKE2s (RFC 7693) through libb2, and the HMAC / HKDF built on it exactly as
// the WireGuard paper defines them (HMAC with a 64-byte block, not keyed BLAKE2s).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "wgate/crypto/secret.hpp"

namespace wgate::crypto {

inline constexpr std::size_t kHashSize = 32;
inline constexpr std::size_t kMacSize = 16;
using Hash = Bytes<kHashSize>;

// Unkeyed BLAKE2s-256 over the concatenation of parts.
Hash blake2s(std::initializer_list<std::span<const std::uint8_t>> parts) noexcept;
// General form: out_len in 1..32, key_len in 0..32.
void blake2s(std::uint8_t* out, std::size_t out_len, std::span<const std::uint8_t> in,
             std::span<const std::uint8_t> key) noexcept;
// Keyed BLAKE2s with a 16-byte output: WireGuard's MAC (mac1, mac2, cookies).
Bytes<kMacSize> mac16(std::span<const std::uint8_t> key, std::span<const std::uint8_t> in) noexcept;

// HMAC-BLAKE2s-256 (RFC 2104 construction).
void hmac_blake2s(std::uint8_t out[kHashSize], std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> in) noexcept;

// WireGuard's KDF_n(key, input): HKDF-extract with HMAC-BLAKE2s, then n
// 32-byte outputs. Outputs may be null when not needed.
void kdf(std::uint8_t* out1, std::uint8_t* out2, std::uint8_t* out3, const std::uint8_t chaining_key[kHashSize],
         std::span<const std::uint8_t> input) noexcept;

}  // namespace wgate::crypto
