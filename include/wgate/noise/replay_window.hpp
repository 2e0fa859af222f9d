// Sliding window of received counters (RFC 6479): a bitmap ring of 8192 bits
// of which the last word is kept spare, so the window accepts counters up to
// 8128 behind the highest seen. Used after a packet authenticated, so an
// attacker cannot move the window.
#pragma once

#include <array>
#include <cstdint>

namespace wgate::noise {

class ReplayWindow {
public:
    static constexpr unsigned kBitsTotal = 8192;
    static constexpr unsigned kWindowSize = kBitsTotal - 64;

    // Returns true and records the counter if it was not seen and is inside
    // the window; false for a replay, a too-old counter, or one at/after the limit.
    [[nodiscard]] bool accept(std::uint64_t counter) noexcept;
    void reset() noexcept;

private:
    static constexpr unsigned kWords = kBitsTotal / 64;
    std::uint64_t next_ = 0;  // one more than the highest counter accepted
    std::array<std::uint64_t, kWords> bitmap_{};
};

}  // namespace wgate::noise
