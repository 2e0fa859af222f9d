// TAI64N timestamps for handshake initiations: 8-byte big-endian TAI seconds
// (2^62 + 10 + unix seconds) and 4-byte big-endian nanoseconds.
#pragma once

#include <chrono>
#include <cstdint>

#include "wgate/crypto/secret.hpp"

namespace wgate::crypto {

inline constexpr std::size_t kTimestampSize = 12;
using Timestamp = Bytes<kTimestampSize>;

// Nanoseconds are rounded down to a multiple of 2^24 ns (~16.8 ms) so that an
// initiation does not reveal the sender's precise clock; 16.8 ms is still
// finer than the 20 ms minimum between accepted initiations.
Timestamp tai64n(std::chrono::nanoseconds unix_time) noexcept;

// True if a is strictly later than b (big-endian byte order is time order).
bool timestamp_after(const Timestamp& a, const Timestamp& b) noexcept;

}  // namespace wgate::crypto
