// Time as the core sees it: passed in by the caller, never read from a clock.
#pragma once

#include <chrono>

namespace wgate::core {

using Duration = std::chrono::nanoseconds;

struct Now {
    Duration mono{};  // monotonic, arbitrary epoch: all timers
    Duration wall{};  // since the Unix epoch: TAI64N timestamps and "last handshake"
};

}  // namespace wgate::core
