// Wire formats of the four WireGuard messages. All integers little-endian.
// The type is a 32-bit field whose upper three bytes are zero: like the
// reference implementations, a message with non-zero reserved bytes is not of
// any type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "wgate/crypto/aead.hpp"
#include "wgate/crypto/blake2s.hpp"
#include "wgate/crypto/secret.hpp"
#include "wgate/crypto/tai64n.hpp"

namespace wgate::noise {

using crypto::Bytes;

enum class MessageType : std::uint8_t { initiation = 1, response = 2, cookie_reply = 3, transport = 4 };

inline constexpr std::size_t kInitiationSize = 148;
inline constexpr std::size_t kResponseSize = 92;
inline constexpr std::size_t kCookieReplySize = 64;
inline constexpr std::size_t kTransportHeaderSize = 16;
inline constexpr std::size_t kTransportOverhead = kTransportHeaderSize + crypto::kAeadTagSize;  // 32
inline constexpr std::size_t kCookieSize = 16;

// Offsets of mac1 and mac2 from the end of initiation and response messages.
inline constexpr std::size_t kMacsSize = 2 * crypto::kMacSize;

struct Initiation {
    std::uint32_t sender = 0;
    Bytes<32> ephemeral{};
    Bytes<32 + crypto::kAeadTagSize> encrypted_static{};
    Bytes<crypto::kTimestampSize + crypto::kAeadTagSize> encrypted_timestamp{};
    Bytes<crypto::kMacSize> mac1{};
    Bytes<crypto::kMacSize> mac2{};

    void write(std::uint8_t out[kInitiationSize]) const noexcept;
    // Only the size and type are checked here.
    static bool read(std::span<const std::uint8_t> in, Initiation& out) noexcept;
};

struct Response {
    std::uint32_t sender = 0;
    std::uint32_t receiver = 0;
    Bytes<32> ephemeral{};
    Bytes<crypto::kAeadTagSize> encrypted_nothing{};
    Bytes<crypto::kMacSize> mac1{};
    Bytes<crypto::kMacSize> mac2{};

    void write(std::uint8_t out[kResponseSize]) const noexcept;
    static bool read(std::span<const std::uint8_t> in, Response& out) noexcept;
};

struct CookieReply {
    std::uint32_t receiver = 0;
    Bytes<crypto::kXAeadNonceSize> nonce{};
    Bytes<kCookieSize + crypto::kAeadTagSize> encrypted_cookie{};

    void write(std::uint8_t out[kCookieReplySize]) const noexcept;
    static bool read(std::span<const std::uint8_t> in, CookieReply& out) noexcept;
};

inline std::uint32_t load_le32(const std::uint8_t* p) noexcept {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
    return std::uint64_t(load_le32(p)) | std::uint64_t(load_le32(p + 4)) << 32;
}
inline void store_le32(std::uint8_t* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// The 32-bit type field of a datagram, or 0 when it is too short to have one.
inline std::uint32_t message_type_of(std::span<const std::uint8_t> datagram) noexcept {
    return datagram.size() >= 4 ? load_le32(datagram.data()) : 0;
}

}  // namespace wgate::noise
