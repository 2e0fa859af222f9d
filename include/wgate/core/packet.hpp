// Packet buffers that the core fills and the IO shell drains. A Batch reuses
// its slots and their capacity across calls, so a steady data path does not
// allocate per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "wgate/core/endpoint.hpp"

namespace wgate::core {

// Room for any packet a TUN with MTU up to 65535 hands us, plus our overhead.
inline constexpr std::size_t kMaxPacketSize = 65535 + 64;

struct Datagram {
    Endpoint endpoint;
    std::vector<std::uint8_t> bytes;
};

struct TunPacket {
    std::vector<std::uint8_t> bytes;
};

// A datagram handed to the core: where it came from and its bytes.
struct ReceivedDatagram {
    Endpoint from;
    std::span<const std::uint8_t> bytes;
};

template <typename T>
class Batch {
public:
    // A slot to fill; its buffers keep whatever capacity they had.
    T& push() {
        if (count_ == items_.size()) items_.emplace_back();
        return items_[count_++];
    }
    // Gives back the slot just pushed (the packet was dropped after all).
    void pop() { --count_; }
    void clear() { count_ = 0; }
    std::size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    T& operator[](std::size_t i) { return items_[i]; }
    const T& operator[](std::size_t i) const { return items_[i]; }
    T* begin() { return items_.data(); }
    T* end() { return items_.data() + count_; }
    const T* begin() const { return items_.data(); }
    const T* end() const { return items_.data() + count_; }

private:
    std::vector<T> items_;
    std::size_t count_ = 0;
};

}  // namespace wgate::core
