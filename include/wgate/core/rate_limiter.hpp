// Token bucket per source address for handshake messages under load: 20 per
// second with a burst of 5, IPv4 per address and IPv6 per /64 (one host
// usually owns a whole /64), as the kernel implementation does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "wgate/core/clock.hpp"
#include "wgate/core/ip.hpp"

namespace wgate::core {

class RateLimiter {
public:
    static constexpr std::int64_t kPacketsPerSecond = 20;
    static constexpr std::int64_t kBurst = 5;
    static constexpr std::size_t kMaxEntries = 65536;

    bool allow(const IpAddress& source, Duration now);
    // Forgets buckets idle for more than a second (they would be full again).
    void collect_garbage(Duration now);
    std::size_t size() const { return buckets_.size(); }

private:
    struct Key {
        std::array<std::uint8_t, 9> bytes{};  // family + 4 or 8 address bytes
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept;
    };
    struct Bucket {
        std::int64_t tokens = 0;  // nanoseconds of credit
        Duration last{};
    };
    std::unordered_map<Key, Bucket, KeyHash> buckets_;
    Duration last_gc_{};
};

}  // namespace wgate::core
