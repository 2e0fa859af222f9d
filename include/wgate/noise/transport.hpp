// Type-4 transport data messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wgate/noise/keypair.hpp"

namespace wgate::noise {

// Size of the padded plaintext for a packet of `size` bytes on a tunnel of
// `mtu`: a multiple of 16, but never padded past the MTU.
std::size_t padded_size(std::size_t size, std::size_t mtu) noexcept;

// Seals plain (padded with zeros to padded_size) into out, which must hold
// kTransportOverhead + padded_size(plain.size(), mtu) bytes. Uses and advances
// kp.send_counter; the caller checked kp.can_send(). Returns the message size.
std::size_t seal_transport(Keypair& kp, std::span<const std::uint8_t> plain, std::size_t mtu,
                           std::uint8_t* out) noexcept;

// The receiver index of a transport message (size already checked).
inline std::uint32_t transport_receiver(std::span<const std::uint8_t> msg) noexcept { return load_le32(msg.data() + 4); }
inline std::uint64_t transport_counter(std::span<const std::uint8_t> msg) noexcept { return load_le64(msg.data() + 8); }

// Authenticates and decrypts msg into out (msg.size() - kTransportOverhead
// bytes). The replay window is NOT updated: the caller does that after the
// packet is authenticated, then decides. Returns false on failure.
[[nodiscard]] bool open_transport(const Keypair& kp, std::span<const std::uint8_t> msg, std::uint8_t* out) noexcept;

}  // namespace wgate::noise
