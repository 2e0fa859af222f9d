#include "wgate/noise/replay_window.hpp"

#include <algorithm>

#include "wgate/noise/constants.hpp"

namespace wgate::noise {

bool ReplayWindow::accept(std::uint64_t counter) noexcept {
    if (counter >= kRejectAfterMessages) return false;
    // Work with counter + 1 so that "nothing seen" is next_ == 0.
    const std::uint64_t position = counter + 1;
    if (position + kWindowSize < next_) return false;

    const std::uint64_t word = position / 64;
    if (position > next_) {
        // Clear the words that slide into the window, at most the whole ring.
        const std::uint64_t current_word = next_ / 64;
        const std::uint64_t advance = std::min<std::uint64_t>(word - current_word, kWords);
        for (std::uint64_t i = 1; i <= advance; ++i) bitmap_[(current_word + i) % kWords] = 0;
        next_ = position;
    }
    std::uint64_t& bits = bitmap_[word % kWords];
    const std::uint64_t mask = 1ULL << (position % 64);
    if (bits & mask) return false;
    bits |= mask;
    return true;
}

void ReplayWindow::reset() noexcept {
    next_ = 0;
    bitmap_.fill(0);
}

}  // namespace wgate::noise
