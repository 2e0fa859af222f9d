#include "wgate/crypto/blake2s.hpp"

#include <cstring>

#include <blake2.h>

namespace wgate::crypto {

namespace {

constexpr std::size_t kBlockSize = 64;  // BLAKE2s block, the HMAC block size.
static_assert(BLAKE2S_BLOCKBYTES == kBlockSize);
static_assert(BLAKE2S_OUTBYTES == kHashSize);
static_assert(BLAKE2S_KEYBYTES == kKeySize);

// Hash state may hold a partial block of secret input: wipe it on every exit.
class Blake2sState {
public:
    Blake2sState(std::size_t out_len, std::span<const std::uint8_t> key) noexcept : out_len_(out_len) {
        // libb2 refuses a zero-length key in blake2s_init_key, so the unkeyed
        // init is the key_len == 0 case.
        if (key.empty()) {
            blake2s_init(&state_, out_len);
        } else {
            blake2s_init_key(&state_, out_len, key.data(), key.size());
        }
    }
    Blake2sState(const Blake2sState&) = delete;
    Blake2sState& operator=(const Blake2sState&) = delete;
    ~Blake2sState() { secure_zero(&state_, sizeof state_); }

    void update(std::span<const std::uint8_t> data) noexcept {
        if (!data.empty()) {
            blake2s_update(&state_, data.data(), data.size());
        }
    }

    // Finalises through a full-size buffer so no libb2 version can write past
    // an out_len-byte destination.
    void final(std::uint8_t* out) noexcept {
        std::uint8_t full[BLAKE2S_OUTBYTES] = {};
        blake2s_final(&state_, full, out_len_);
        std::memcpy(out, full, out_len_);
        secure_zero(full, sizeof full);
    }

private:
    blake2s_state state_{};
    std::size_t out_len_;
};

}  // namespace

Hash blake2s(std::initializer_list<std::span<const std::uint8_t>> parts) noexcept {
    Blake2sState state(kHashSize, {});
    for (const auto& part : parts) {
        state.update(part);
    }
    Hash out{};
    state.final(out.data());
    return out;
}

void blake2s(std::uint8_t* out, std::size_t out_len, std::span<const std::uint8_t> in,
             std::span<const std::uint8_t> key) noexcept {
    if (out_len == 0 || out_len > kHashSize) {
        return;  // Outside the contract: nothing sensible to write.
    }
    if (key.size() > BLAKE2S_KEYBYTES) {
        secure_zero(out, out_len);  // Outside the contract: never a usable MAC.
        return;
    }
    Blake2sState state(out_len, key);
    state.update(in);
    state.final(out);
}

Bytes<kMacSize> mac16(std::span<const std::uint8_t> key, std::span<const std::uint8_t> in) noexcept {
    Bytes<kMacSize> out{};
    blake2s(out.data(), out.size(), in, key);
    return out;
}

void hmac_blake2s(std::uint8_t out[kHashSize], std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> in) noexcept {
    // RFC 2104: keys longer than a block are hashed, shorter ones zero-padded.
    std::uint8_t block_key[kBlockSize] = {};
    if (key.size() > kBlockSize) {
        const Hash hashed = blake2s({key});
        std::memcpy(block_key, hashed.data(), hashed.size());
    } else if (!key.empty()) {
        std::memcpy(block_key, key.data(), key.size());
    }

    std::uint8_t pad[kBlockSize];
    for (std::size_t i = 0; i < kBlockSize; ++i) {
        pad[i] = block_key[i] ^ 0x36;
    }
    std::uint8_t inner[kHashSize];
    {
        Blake2sState state(kHashSize, {});
        state.update(pad);
        state.update(in);
        state.final(inner);
    }

    for (std::size_t i = 0; i < kBlockSize; ++i) {
        pad[i] = block_key[i] ^ 0x5c;
    }
    // Written only at the end, so out may alias key or in.
    std::uint8_t result[kHashSize];
    {
        Blake2sState state(kHashSize, {});
        state.update(pad);
        state.update(inner);
        state.final(result);
    }
    std::memcpy(out, result, kHashSize);

    secure_zero(block_key, sizeof block_key);
    secure_zero(pad, sizeof pad);
    secure_zero(inner, sizeof inner);
    secure_zero(result, sizeof result);
}

void kdf(std::uint8_t* out1, std::uint8_t* out2, std::uint8_t* out3, const std::uint8_t chaining_key[kHashSize],
         std::span<const std::uint8_t> input) noexcept {
    std::uint8_t t0[kHashSize];
    hmac_blake2s(t0, std::span<const std::uint8_t>(chaining_key, kHashSize), input);

    // T1 = HMAC(T0, 0x01); T_i = HMAC(T0, T_{i-1} || i) for i = 2, 3.
    std::uint8_t t[3][kHashSize];
    std::uint8_t message[kHashSize + 1];
    const std::size_t needed = out3 != nullptr ? 3 : out2 != nullptr ? 2 : 1;
    message[0] = 0x01;
    hmac_blake2s(t[0], t0, std::span<const std::uint8_t>(message, 1));
    for (std::size_t i = 1; i < needed; ++i) {
        std::memcpy(message, t[i - 1], kHashSize);
        message[kHashSize] = static_cast<std::uint8_t>(i + 1);
        hmac_blake2s(t[i], t0, message);
    }

    // Copied out last, so outputs may alias the chaining key or the input.
    std::uint8_t* outs[3] = {out1, out2, out3};
    for (std::size_t i = 0; i < needed; ++i) {
        if (outs[i] != nullptr) {
            std::memcpy(outs[i], t[i], kHashSize);
        }
    }
    secure_zero(t0, sizeof t0);
    secure_zero(t, sizeof t);
    secure_zero(message, sizeof message);
}

}  // namespace wgate::crypto
