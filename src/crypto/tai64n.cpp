#include "wgate/crypto/tai64n.hpp"

#include <cstring>

namespace wgate::crypto {

namespace {

// TAI64 labels count from 2^62; TAI ran 10 s ahead of UTC in 1970.
constexpr std::uint64_t kTai64Base = 0x400000000000000aULL;
constexpr std::uint32_t kWhitenerMask = (1U << 24) - 1;
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

Timestamp tai64n(std::chrono::nanoseconds unix_time) noexcept {
    // Floor division, so times before 1970 keep nanoseconds in [0, 1e9).
    std::int64_t seconds = unix_time.count() / kNanosPerSecond;
    std::int64_t nanos = unix_time.count() % kNanosPerSecond;
    if (nanos < 0) {
        nanos += kNanosPerSecond;
        seconds -= 1;
    }
    // Unsigned wrap-around matches the reference (base + uint64(t.Unix())).
    const std::uint64_t label = kTai64Base + static_cast<std::uint64_t>(seconds);
    const std::uint32_t whitened = static_cast<std::uint32_t>(nanos) & ~kWhitenerMask;

    Timestamp out{};
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(label >> (56 - 8 * i));
    }
    for (int i = 0; i < 4; ++i) {
        out[8 + i] = static_cast<std::uint8_t>(whitened >> (24 - 8 * i));
    }
    return out;
}

bool timestamp_after(const Timestamp& a, const Timestamp& b) noexcept {
    return std::memcmp(a.data(), b.data(), kTimestampSize) > 0;
}

}  // namespace wgate::crypto
