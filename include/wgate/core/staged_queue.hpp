// Packets a peer holds while it waits for a session: first in, first out,
// the oldest dropped by the caller when full.
//
// Most peers of a big gateway are idle and never stage anything, so an empty
// queue owns no heap memory (a std::deque allocates its map and first chunk
// up front: about 600 bytes per peer), and a drained queue gives its memory
// back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace wgate::core {

class StagedQueue {
public:
    bool empty() const { return head_ == items_.size(); }
    std::size_t size() const { return items_.size() - head_; }
    std::span<const std::uint8_t> front() const { return items_[head_]; }

    void push_back(std::span<const std::uint8_t> packet) { items_.emplace_back(packet.begin(), packet.end()); }

    void pop_front() {
        ++head_;
        if (empty()) {
            clear();
        } else if (head_ * 2 >= items_.size()) {
            // Consumed slots are half of the storage: compact so a queue that
            // keeps dropping its oldest packet stays bounded.
            items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }

    void clear() {
        std::vector<std::vector<std::uint8_t>>().swap(items_);
        head_ = 0;
    }

private:
    std::vector<std::vector<std::uint8_t>> items_;
    std::size_t head_ = 0;  // items_[0, head_) were already taken
};

}  // namespace wgate::core
