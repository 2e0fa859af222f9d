#include "wgate/core/interval_index.hpp"

#include <algorithm>
#include <bit>

namespace wgate::core {
namespace {

// std::countl_zero does not take __int128 in strict C++20 mode.
unsigned leading_zeros(std::uint32_t v) {
    return static_cast<unsigned>(std::countl_zero(v));
}

unsigned leading_zeros(Uint128 v) {
    const auto high = static_cast<std::uint64_t>(v >> 64);
    if (high != 0) return static_cast<unsigned>(std::countl_zero(high));
    return 64 + static_cast<unsigned>(std::countl_zero(static_cast<std::uint64_t>(v)));
}

// Drops spare capacity left by a bigger earlier build, but not a little
// slack, so that a table growing one prefix at a time is not copied twice per build.
template <typename T>
void trim(std::vector<T>& v) {
    if (v.capacity() > v.size() + v.size() / 4 + 64) v.shrink_to_fit();
}

}  // namespace

template <typename Key>
void IntervalIndex<Key>::begin() {
    keys_.clear();
    values_.clear();
    slots_.clear();
    tables_.clear();
}

template <typename Key>
void IntervalIndex<Key>::set_from(Key start, Peer* peer) {
    if (!keys_.empty() && keys_.back() == start) {
        keys_.pop_back();
        values_.pop_back();
    }
    if (!values_.empty() && values_.back() == peer) return;
    keys_.push_back(start);
    values_.push_back(peer);
}

template <typename Key>
void IntervalIndex<Key>::finish() {
    // keys_[0] (address 0) is left out of the root so that a search always
    // has an entry before it to fall back on.
    build_table(1, static_cast<std::uint32_t>(keys_.size()));
    trim(keys_);
    trim(values_);
    trim(slots_);
    trim(tables_);
}

template <typename Key>
void IntervalIndex<Key>::release() {
    // Not `= {}`: that is the initializer-list assignment, which keeps the capacity.
    keys_ = std::vector<Key>();
    values_ = std::vector<Peer*>();
    slots_ = std::vector<std::uint32_t>();
    tables_ = std::vector<Table>();
}

template <typename Key>
std::uint32_t IntervalIndex<Key>::build_table(std::uint32_t first_key, std::uint32_t end_key) {
    const std::uint32_t count = end_key - first_key;
    // The smallest aligned block holding all starts: they share `common` leading bits.
    const unsigned common = count == 0 ? 0 : leading_zeros(keys_[first_key] ^ keys_[end_key - 1]);
    // About one start per bucket; at least two buckets unless the block is one address.
    const unsigned bits = std::min({std::max(static_cast<unsigned>(std::bit_width(count)), 1u), kMaxTableBits,
                                    kKeyBits - common});
    Table table{};
    table.span_last = common == 0 ? ~Key{0} : (Key{1} << (kKeyBits - common)) - 1;
    table.base = count == 0 ? Key{0} : keys_[first_key] & ~table.span_last;
    table.shift = static_cast<std::uint8_t>(kKeyBits - common - bits);
    table.first_slot = static_cast<std::uint32_t>(slots_.size());
    table.first_key = first_key;
    table.end_key = end_key;
    const auto index = static_cast<std::uint32_t>(tables_.size());
    tables_.push_back(table);

    // Slot b: the first start in bucket b or later. Indices, not pointers:
    // the recursion below grows slots_.
    const std::size_t buckets = std::size_t{1} << bits;
    const std::size_t slot0 = table.first_slot;
    slots_.resize(slot0 + buckets + 1);
    std::size_t bucket = 0;
    for (std::uint32_t k = first_key; k < end_key; ++k) {
        const auto of_key = static_cast<std::size_t>((keys_[k] - table.base) >> table.shift);
        while (bucket <= of_key) slots_[slot0 + bucket++] = k;
    }
    while (bucket <= buckets) slots_[slot0 + bucket++] = end_key;

    // In increasing order, so that slot b + 1 still holds a start index when
    // bucket b is looked at.
    for (bucket = 0; bucket < buckets; ++bucket) {
        const std::uint32_t first = slots_[slot0 + bucket];
        const std::uint32_t end = slots_[slot0 + bucket + 1];
        if (end - first > kMaxSearch) {
            const std::uint32_t child = build_table(first, end);
            slots_[slot0 + bucket] = kChild | child;
        }
    }
    return index;
}

template <typename Key>
std::size_t IntervalIndex<Key>::memory_bytes() const {
    return keys_.capacity() * sizeof(Key) + values_.capacity() * sizeof(Peer*) +
           slots_.capacity() * sizeof(std::uint32_t) + tables_.capacity() * sizeof(Table);
}

template class IntervalIndex<std::uint32_t>;
template class IntervalIndex<Uint128>;

}  // namespace wgate::core
