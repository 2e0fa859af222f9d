#include "wgate/crypto/aead.hpp"

#include <sodium.h>

#include "sodium_init.hpp"

namespace wgate::crypto {

static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagSize);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeySize);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagSize);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kXAeadNonceSize);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeySize);

namespace {

// WireGuard's nonce: 32 zero bits, then the 64-bit counter little-endian.
void counter_nonce(std::uint8_t nonce[12], std::uint64_t counter) noexcept {
    for (int i = 0; i < 4; ++i) {
        nonce[i] = 0;
    }
    for (int i = 0; i < 8; ++i) {
        nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
    }
}

// On failure the output is zeroed by us rather than trusting the library
// version, so a caller that ignores the result never sees unauthenticated
// plaintext.
void wipe_failed_open(std::uint8_t* out, std::size_t sealed_size) noexcept {
    if (sealed_size > kAeadTagSize) {
        secure_zero(out, sealed_size - kAeadTagSize);
    }
}

}  // namespace

void aead_seal(std::uint8_t* out, std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad,
               const SymmetricKey& key, std::uint64_t counter) noexcept {
    std::uint8_t nonce[12];
    counter_nonce(nonce, counter);
    aead_seal_nonce12(out, plain, ad, key.data(), nonce);
}

bool aead_open(std::uint8_t* out, std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> ad,
               const SymmetricKey& key, std::uint64_t counter) noexcept {
    std::uint8_t nonce[12];
    counter_nonce(nonce, counter);
    return aead_open_nonce12(out, sealed, ad, key.data(), nonce);
}

void aead_seal_nonce12(std::uint8_t* out, std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad,
                       const std::uint8_t* key32, const std::uint8_t* nonce12) noexcept {
    detail::ensure_sodium();
    // libsodium encrypts then MACs the ciphertext, so out == plain is safe.
    crypto_aead_chacha20poly1305_ietf_encrypt(out, nullptr, plain.data(), plain.size(), ad.data(), ad.size(), nullptr,
                                              nonce12, key32);
}

bool aead_open_nonce12(std::uint8_t* out, std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> ad,
                       const std::uint8_t* key32, const std::uint8_t* nonce12) noexcept {
    if (sealed.size() < kAeadTagSize) {
        return false;
    }
    detail::ensure_sodium();
    // libsodium verifies the tag before it writes any plaintext, so out may
    // alias sealed.
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, nullptr, nullptr, sealed.data(), sealed.size(), ad.data(),
                                                  ad.size(), nonce12, key32) != 0) {
        wipe_failed_open(out, sealed.size());
        return false;
    }
    return true;
}

void xaead_seal(std::uint8_t* out, std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad,
                const std::uint8_t* key32, const std::uint8_t* nonce24) noexcept {
    detail::ensure_sodium();
    crypto_aead_xchacha20poly1305_ietf_encrypt(out, nullptr, plain.data(), plain.size(), ad.data(), ad.size(), nullptr,
                                               nonce24, key32);
}

bool xaead_open(std::uint8_t* out, std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> ad,
                const std::uint8_t* key32, const std::uint8_t* nonce24) noexcept {
    if (sealed.size() < kAeadTagSize) {
        return false;
    }
    detail::ensure_sodium();
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, nullptr, nullptr, sealed.data(), sealed.size(), ad.data(),
                                                   ad.size(), nonce24, key32) != 0) {
        wipe_failed_open(out, sealed.size());
        return false;
    }
    return true;
}

}  // namespace wgate::crypto
