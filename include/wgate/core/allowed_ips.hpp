// Cryptokey routing table: longest-prefix match from an IP address to a peer,
// one table for IPv4 and one for IPv6. A path-compressed binary trie: each
// node holds a prefix; children split on the first bit after it.
//
// Values are non-owning pointers (the Device owns peers). A prefix maps to at
// most one peer; inserting it again moves it to the new peer, as in WireGuard.
//
// The trie is what insert/remove change; lookup() reads a compiled copy of
// each family (IntervalIndex), rebuilt from the trie by a lookup after a
// change. So lookup() writes to mutable members despite being const: not
// thread-safe, even for readers only. The Device that owns the table is
// single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "wgate/core/interval_index.hpp"
#include "wgate/core/ip.hpp"

namespace wgate::core {

class Peer;

class AllowedIps {
public:
    AllowedIps();
    ~AllowedIps();
    AllowedIps(const AllowedIps&) = delete;
    AllowedIps& operator=(const AllowedIps&) = delete;

    // Host bits of prefix are ignored. A null peer or an empty prefix is a no-op.
    void insert(const IpPrefix& prefix, Peer* peer);
    // Removes the prefix only if it currently maps to peer. Returns whether it did.
    bool remove(const IpPrefix& prefix, Peer* peer);
    void remove_by_peer(Peer* peer);
    void clear();

    // Longest-prefix match; nullptr when nothing matches. After a change of
    // the address's family, lookups walk the trie until they have cost about
    // as much as rebuilding that family's index (O(n)), then one rebuilds it.
    Peer* lookup(const IpAddress& address) const;
    // Prefixes mapping to peer, in the order they were bound to it (IPv4 and
    // IPv6 interleaved; rebinding a prefix moves it to the end of the new
    // peer's list), like the kernel's per-peer list. Costs O(result), not O(size).
    std::vector<IpPrefix> prefixes_of(const Peer* peer) const;
    // Number of prefixes mapped to a peer (intermediate trie nodes not counted).
    std::size_t size() const { return size_; }

private:
    // All defined in allowed_ips.cpp. IPv4 nodes keep a 32-bit key, IPv6
    // nodes a 128-bit one; Node is the part the per-peer lists need.
    struct Node;
    template <unsigned Bits> struct TrieNode;
    struct Impl;
    using Node4 = TrieNode<32>;
    using Node6 = TrieNode<128>;

    Node4* root4_ = nullptr;
    Node6* root6_ = nullptr;
    // Head of each peer's intrusive list of owned nodes (the head's prev points
    // at the tail), so prefixes_of and remove_by_peer never walk the trie.
    std::unordered_map<const Peer*, Node*> peer_heads_;
    std::size_t size_ = 0;

    // A family's index and whether it still matches the trie.
    template <typename Key>
    struct Compiled {
        IntervalIndex<Key> index;  // freed while the family's trie is empty
        bool stale = false;
        std::size_t stale_lookups = 0;  // served by the trie since it went stale
        std::size_t patience = 0;       // that many before rebuilding
    };
    mutable Compiled<std::uint32_t> compiled4_;
    mutable Compiled<Uint128> compiled6_;
};

}  // namespace wgate::core
