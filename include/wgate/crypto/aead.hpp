// ChaCha20-Poly1305 (RFC 8439, IETF variant, 96-bit nonce) as WireGuard uses
// it: the nonce is 32 zero bits followed by a 64-bit little-endian counter.
// XChaCha20-Poly1305 (192-bit nonce) is used for cookie replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wgate/crypto/secret.hpp"

namespace wgate::crypto {

inline constexpr std::size_t kAeadTagSize = 16;
inline constexpr std::size_t kXAeadNonceSize = 24;

// out must hold plain.size() + kAeadTagSize bytes; out may alias plain.
void aead_seal(std::uint8_t* out, std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad,
               const SymmetricKey& key, std::uint64_t counter) noexcept;
// out must hold sealed.size() - kAeadTagSize bytes; out may alias sealed.
// Returns false if sealed is shorter than a tag or authentication fails.
[[nodiscard]] bool aead_open(std::uint8_t* out, std::span<const std::uint8_t> sealed,
                             std::span<const std::uint8_t> ad, const SymmetricKey& key,
                             std::uint64_t counter) noexcept;

// The raw 96-bit-nonce forms, for test vectors that use arbitrary nonces.
void aead_seal_nonce12(std::uint8_t* out, std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad,
                       const std::uint8_t* key32, const std::uint8_t* nonce12) noexcept;
[[nodiscard]] bool aead_open_nonce12(std::uint8_t* out, std::span<const std::uint8_t> sealed,
                                     std::span<const std::uint8_t> ad, const std::uint8_t* key32,
                                     const std::uint8_t* nonce12) noexcept;

void xaead_seal(std::uint8_t* out, std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad,
                const std::uint8_t* key32, const std::uint8_t* nonce24) noexcept;
[[nodiscard]] bool xaead_open(std::uint8_t* out, std::span<const std::uint8_t> sealed,
                              std::span<const std::uint8_t> ad, const std::uint8_t* key32,
                              const std::uint8_t* nonce24) noexcept;

}  // namespace wgate::crypto
