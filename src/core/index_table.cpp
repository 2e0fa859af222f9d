#include "wgate/core/index_table.hpp"

namespace wgate::core {

std::uint32_t IndexTable::allocate(const IndexEntry& entry, crypto::Random& random) {
    for (;;) {
        const std::uint32_t index = random.next_u32();
        if (entries_.emplace(index, entry).second) return index;
    }
}

void IndexTable::rebind(std::uint32_t index, const IndexEntry& entry) { entries_[index] = entry; }

void IndexTable::release(std::uint32_t index) { entries_.erase(index); }

const IndexEntry* IndexTable::find(std::uint32_t index) const {
    const auto it = entries_.find(index);
    return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace wgate::core
