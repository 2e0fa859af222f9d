// Protocol constants from the WireGuard paper (section 6) and the reference
// implementations. Times are monotonic durations.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace wgate::noise {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

inline constexpr std::uint64_t kRekeyAfterMessages = 1ULL << 60;
inline constexpr std::uint64_t kRejectAfterMessages = ~0ULL - (1ULL << 13);  // 2^64 - 2^13 - 1
inline constexpr Duration kRekeyAfterTime = 120s;
inline constexpr Duration kRejectAfterTime = 180s;
inline constexpr Duration kRekeyAttemptTime = 90s;
inline constexpr Duration kRekeyTimeout = 5s;
inline constexpr Duration kRekeyTimeoutJitterMax = 334ms;  // jitter drawn from [0, 334 ms)
inline constexpr Duration kKeepaliveTimeout = 10s;
inline constexpr Duration kCookieSecretMaxAge = 120s;
inline constexpr Duration kCookieSecretLatency = 5s;
inline constexpr int kMaxTimerHandshakes = static_cast<int>(kRekeyAttemptTime / kRekeyTimeout);  // 18
// An initiator sends at most 50 initiations per second to one responder, so a
// responder ignores initiations that come faster from the same peer.
inline constexpr Duration kMinInitiationInterval = std::chrono::milliseconds(20);

inline constexpr std::size_t kMessagePaddingMultiple = 16;

}  // namespace wgate::noise
