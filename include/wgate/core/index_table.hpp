// Receiver indices: random 32-bit numbers we hand to peers so their messages
// find our handshake or session in O(1). Random, not sequential, so an index
// reveals nothing about how many sessions we have.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "wgate/crypto/random.hpp"

namespace wgate::noise {
struct Keypair;
}

namespace wgate::core {

class Peer;

struct IndexEntry {
    Peer* peer = nullptr;
    noise::Keypair* keypair = nullptr;  // nullptr: the peer's in-flight handshake
};

class IndexTable {
public:
    // A fresh index not in use, bound to entry.
    std::uint32_t allocate(const IndexEntry& entry, crypto::Random& random);
    // Rebinds an index (handshake -> the keypair it became).
    void rebind(std::uint32_t index, const IndexEntry& entry);
    void release(std::uint32_t index);
    const IndexEntry* find(std::uint32_t index) const;
    std::size_t size() const { return entries_.size(); }

private:
    std::unordered_map<std::uint32_t, IndexEntry> entries_;
};

}  // namespace wgate::core
