#include "wgate/core/rate_limiter.hpp"

#include <algorithm>
#include <cstring>

namespace wgate::core {
namespace {

constexpr std::int64_t kPacketCost = 1'000'000'000 / RateLimiter::kPacketsPerSecond;
constexpr std::int64_t kTokenMax = kPacketCost * RateLimiter::kBurst;
constexpr Duration kIdle = std::chrono::seconds(1);

}  // namespace

std::size_t RateLimiter::KeyHash::operator()(const Key& k) const noexcept {
    std::uint64_t h = 1469598103934665603ULL;
    for (auto b : k.bytes) h = (h ^ b) * 1099511628211ULL;
    return static_cast<std::size_t>(h);
}

bool RateLimiter::allow(const IpAddress& source, Duration now) {
    if (now - last_gc_ >= kIdle) collect_garbage(now);
    Key key;
    key.bytes[0] = static_cast<std::uint8_t>(source.family);
    std::memcpy(key.bytes.data() + 1, source.bytes.data(), source.is_v4() ? 4 : 8);

    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        // A table full of live sources is itself a flood: refuse newcomers.
        if (buckets_.size() >= kMaxEntries) return false;
        buckets_.emplace(key, Bucket{kTokenMax - kPacketCost, now});
        return true;
    }
    Bucket& b = it->second;
    b.tokens = std::min(kTokenMax, b.tokens + (now - b.last).count());
    b.last = now;
    if (b.tokens < kPacketCost) return false;
    b.tokens -= kPacketCost;
    return true;
}

void RateLimiter::collect_garbage(Duration now) {
    last_gc_ = now;
    std::erase_if(buckets_, [now](const auto& kv) { return now - kv.second.last > kIdle; });
}

}  // namespace wgate::core
