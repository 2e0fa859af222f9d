#include "wgate/crypto/random.hpp"

#include <sodium.h>

#include "sodium_init.hpp"

namespace wgate::crypto {

std::uint32_t Random::next_u32() {
    std::uint8_t bytes[4];
    fill(bytes, sizeof bytes);
    return static_cast<std::uint32_t>(bytes[0]) | (static_cast<std::uint32_t>(bytes[1]) << 8) |
           (static_cast<std::uint32_t>(bytes[2]) << 16) | (static_cast<std::uint32_t>(bytes[3]) << 24);
}

std::uint32_t Random::uniform(std::uint32_t bound) {
    if (bound <= 1) {
        return 0;  // bound 0 breaks the contract; answer something harmless.
    }
    // 2^32 mod bound: values below it would make the low residues more likely
    // than the others, so they are drawn again.
    const std::uint32_t threshold = static_cast<std::uint32_t>(-bound) % bound;
    for (;;) {
        const std::uint32_t value = next_u32();
        if (value >= threshold) {
            return value % bound;
        }
    }
}

void SystemRandom::fill(std::uint8_t* out, std::size_t size) {
    if (size == 0) {
        return;
    }
    detail::ensure_sodium();
    randombytes_buf(out, size);
}

DeterministicRandom::DeterministicRandom(std::uint64_t seed) {
    // The seed, little-endian, in the first 8 key bytes; the rest stays zero.
    for (int i = 0; i < 8; ++i) {
        key_[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    }
}

static_assert(crypto_stream_chacha20_NONCEBYTES == sizeof(std::uint64_t));
static_assert(crypto_stream_chacha20_KEYBYTES == 32);

void DeterministicRandom::fill(std::uint8_t* out, std::size_t size) {
    if (size == 0) {
        return;
    }
    detail::ensure_sodium();
    // Each call takes a fresh ChaCha20 stream under the next nonce, so the
    // sequence of outputs depends only on the seed and the sequence of sizes.
    std::uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    for (int i = 0; i < 8; ++i) {
        nonce[i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    }
    ++counter_;
    crypto_stream_chacha20(out, size, nonce, key_);
}

}  // namespace wgate::crypto
