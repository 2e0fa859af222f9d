// The read-only form of the cryptokey-routing table that packets are looked
// up in: the address space of one family cut into disjoint intervals, each
// mapped to a peer (nullptr where no prefix covers it). AllowedIps compiles it
// from its trie; a lookup is a radix step plus a short binary search instead
// of one dependent cache miss per trie level.
//
// Layout: keys_ holds the sorted interval starts (the first is 0), values_ the
// peer of each. A table splits an aligned block of addresses into 2^bits
// equal buckets; the block is the smallest one holding all of the table's
// starts, so clustered starts (one /64 of IPv6 peers, a dense IPv4 pool) are
// spread over all buckets instead of landing in one. A bucket's slot is the
// index of its first start, and the starts up to the next slot are searched.
// A bucket with more than kMaxSearch starts gets a table of its own, which
// keeps every search short however skewed the prefixes are. Indices are 32
// bits, one of them a flag: up to 2^31 intervals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wgate::core {

class Peer;

// GCC/Clang builtin; __extension__ keeps -pedantic quiet about it.
__extension__ typedef unsigned __int128 Uint128;

// Key is std::uint32_t (IPv4) or Uint128 (IPv6): the address as a host-order integer.
template <typename Key>
class IntervalIndex {
public:
    static constexpr unsigned kKeyBits = sizeof(Key) * 8;

    // Building: begin(), set_from() in non-decreasing order of start, the
    // first at 0, then finish(). Memory of the previous build is reused.
    void begin();
    // From start on (up to the next start) addresses map to peer. Setting the
    // same start again replaces it; equal neighbours are merged.
    void set_from(Key start, Peer* peer);
    void finish();
    // Frees everything; find() must not be called until the next build.
    void release();

    Peer* find(Key address) const;

    std::size_t interval_count() const { return keys_.size(); }
    std::size_t memory_bytes() const;

private:
    struct Table {
        Key base;                  // first address of the block
        Key span_last;             // block size - 1
        std::uint32_t first_slot;  // its 2^bits + 1 slots in slots_
        std::uint32_t first_key;   // its starts are keys_[first_key, end_key)
        std::uint32_t end_key;
        std::uint8_t shift;        // address bits below the bucket number
    };

    static constexpr std::uint32_t kChild = 0x8000'0000u;  // slot holds a table index
    // A table has about one bucket per start, up to 2^16 (256 KiB of slots).
    static constexpr unsigned kMaxTableBits = 16;
    static constexpr std::uint32_t kMaxSearch = 16;

    std::uint32_t build_table(std::uint32_t first_key, std::uint32_t end_key);

    std::vector<Key> keys_;
    std::vector<Peer*> values_;
    std::vector<std::uint32_t> slots_;
    std::vector<Table> tables_;  // [0] is the root
};

template <typename Key>
inline Peer* IntervalIndex<Key>::find(Key address) const {
    const Table* table = tables_.data();
    for (;;) {
        const Key offset = address - table->base;  // wraps below base: then above span_last too
        if (offset > table->span_last) {
            // Outside the block: the interval reaching in from before or after it.
            return values_[address < table->base ? table->first_key - 1 : table->end_key - 1];
        }
        const std::uint32_t* slot = slots_.data() + table->first_slot + static_cast<std::size_t>(offset >> table->shift);
        const std::uint32_t first = slot[0];
        if (first & kChild) {
            table = &tables_[first & ~kChild];
            continue;
        }
        std::uint32_t end = slot[1];
        if (end & kChild) end = tables_[end & ~kChild].first_key;
        // Finds the last start <= address. Without branches on the keys, as
        // those would be mispredicted about every other lookup. An empty
        // bucket continues the interval before it, which is why every search
        // range begins after keys_[0].
        std::uint32_t at = first;
        std::uint32_t left = end - first;
        while (left > 1) {
            const std::uint32_t half = left / 2;
            at = keys_[at + half] <= address ? at + half : at;
            left -= half;
        }
        return values_[at - 1 + (left == 1 && keys_[at] <= address ? 1 : 0)];
    }
}

extern template class IntervalIndex<std::uint32_t>;
extern template class IntervalIndex<Uint128>;

}  // namespace wgate::core
