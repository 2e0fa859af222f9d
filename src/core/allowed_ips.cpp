// Path-compressed binary trie, one per address family.
//
// Every node stands for a prefix (key + cidr). Its children, if any, hold
// longer prefixes inside it and are chosen by the bit right after its cidr.
// Nodes are either bound to a peer or are forks (no peer) that exist only
// because two prefixes diverge there; a fork always has exactly two children.
// Keys are host-order integers so that matching is one XOR and one
// count-leading-zeros per word instead of a walk over bits.
//
// Each bound node is also on its peer's doubly linked list (head in
// peer_heads_, head->peer_prev is the tail), which keeps prefixes_of and
// remove_by_peer proportional to the peer's own prefixes.
//
// Lookups do not walk the trie: compile() flattens a family's trie into an
// IntervalIndex after it changed, and lookup() searches that.
#include "wgate/core/allowed_ips.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace wgate::core {
namespace {

struct Key128 {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
};

template <unsigned Bits>
using KeyOf = std::conditional_t<Bits == 32, std::uint32_t, Key128>;
// The same address as the compiled index keys it. Key128 stays in the trie: a
// 16-byte-aligned Uint128 would grow every IPv6 node by 8 bytes.
template <unsigned Bits>
using IndexKeyOf = std::conditional_t<Bits == 32, std::uint32_t, Uint128>;

std::uint64_t load_be64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

void store_be64(std::uint64_t v, std::uint8_t* p) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
}

void load(const std::uint8_t* p, std::uint32_t& key) {
    key = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void load(const std::uint8_t* p, Key128& key) {
    key.hi = load_be64(p);
    key.lo = load_be64(p + 8);
}

void load(const std::uint8_t* p, Uint128& key) {
    key = (Uint128{load_be64(p)} << 64) | load_be64(p + 8);
}

std::uint32_t index_key(std::uint32_t key) {
    return key;
}

Uint128 index_key(const Key128& key) {
    return (Uint128{key.hi} << 64) | key.lo;
}

void store(std::uint32_t key, std::uint8_t* p) {
    p[0] = static_cast<std::uint8_t>(key >> 24);
    p[1] = static_cast<std::uint8_t>(key >> 16);
    p[2] = static_cast<std::uint8_t>(key >> 8);
    p[3] = static_cast<std::uint8_t>(key);
}

void store(const Key128& key, std::uint8_t* p) {
    store_be64(key.hi, p);
    store_be64(key.lo, p + 8);
}

// Number of leading bits a and b share (the full width when equal).
unsigned common_bits(std::uint32_t a, std::uint32_t b) {
    return static_cast<unsigned>(std::countl_zero(a ^ b));
}

unsigned common_bits(const Key128& a, const Key128& b) {
    if (a.hi != b.hi) return static_cast<unsigned>(std::countl_zero(a.hi ^ b.hi));
    return 64 + static_cast<unsigned>(std::countl_zero(a.lo ^ b.lo));
}

// Bit i counted from the most significant one; i is below the key width.
unsigned bit_at(std::uint32_t key, unsigned i) {
    return (key >> (31 - i)) & 1u;
}

unsigned bit_at(const Key128& key, unsigned i) {
    return i < 64 ? static_cast<unsigned>(key.hi >> (63 - i)) & 1u
                  : static_cast<unsigned>(key.lo >> (127 - i)) & 1u;
}

std::uint64_t high_mask64(unsigned cidr) {  // cidr in 0..64
    return cidr == 0 ? 0 : ~std::uint64_t{0} << (64 - cidr);
}

std::uint32_t masked(std::uint32_t key, unsigned cidr) {
    return static_cast<std::uint32_t>(key & (high_mask64(cidr) >> 32));
}

Key128 masked(const Key128& key, unsigned cidr) {
    if (cidr <= 64) return {key.hi & high_mask64(cidr), 0};
    return {key.hi, key.lo & high_mask64(cidr - 64)};
}

}  // namespace

struct AllowedIps::Node {
    // User-declared so that the Itanium ABI lets TrieNode<32>'s key live in
    // this struct's tail padding (56 instead of 64 bytes per IPv4 node).
    Node() {}

    Node* peer_prev = nullptr;  // on the list head: the tail
    Node* peer_next = nullptr;
    Peer* peer = nullptr;       // nullptr for forks
    std::uint8_t cidr = 0;
    bool is_v6 = false;
};

template <unsigned Bits>
struct AllowedIps::TrieNode : AllowedIps::Node {
    KeyOf<Bits> key{};  // host bits beyond cidr are zero
    TrieNode* child[2] = {nullptr, nullptr};
    TrieNode* parent = nullptr;
};

struct AllowedIps::Impl {
    // Guards the memory budget (x86-64/aarch64 Itanium ABI): 7 words per v4 node, 9 per v6.
    static_assert(sizeof(TrieNode<32>) <= 56 && sizeof(TrieNode<128>) <= 72);

    template <unsigned Bits>
    static TrieNode<Bits>*& root(AllowedIps& table) {
        if constexpr (Bits == 32) {
            return table.root4_;
        } else {
            return table.root6_;
        }
    }

    template <unsigned Bits>
    static const TrieNode<Bits>* root(const AllowedIps& table) {
        if constexpr (Bits == 32) {
            return table.root4_;
        } else {
            return table.root6_;
        }
    }

    template <unsigned Bits>
    static Compiled<IndexKeyOf<Bits>>& compiled(const AllowedIps& table) {
        if constexpr (Bits == 32) {
            return table.compiled4_;
        } else {
            return table.compiled6_;
        }
    }

    // Called by every change of a binding: bind, remove, remove_by_peer.
    static void mark_stale(const AllowedIps& table, const Node* node) {
        (node->is_v6 ? table.compiled6_.stale : table.compiled4_.stale) = true;
    }

    template <unsigned Bits>
    static std::unique_ptr<TrieNode<Bits>> make_node(const KeyOf<Bits>& key, unsigned cidr) {
        auto node = std::make_unique<TrieNode<Bits>>();
        node->key = key;
        node->cidr = static_cast<std::uint8_t>(cidr);
        node->is_v6 = Bits == 128;
        return node;
    }

    // Appends node to the list whose head is `head` (nullptr for an empty list).
    static void append(Node*& head, Node* node) {
        node->peer_next = nullptr;
        if (head == nullptr) {
            node->peer_prev = node;
            head = node;
            return;
        }
        Node* tail = head->peer_prev;
        tail->peer_next = node;
        node->peer_prev = tail;
        head->peer_prev = node;
    }

    // Takes a bound node off its peer's list, dropping the list when it empties.
    static void unlink(AllowedIps& table, Node* node) {
        const auto it = table.peer_heads_.find(node->peer);
        Node*& head = it->second;
        if (node == head) {
            head = node->peer_next;
            if (head == nullptr) {
                table.peer_heads_.erase(it);
            } else {
                head->peer_prev = node->peer_prev;
            }
        } else {
            node->peer_prev->peer_next = node->peer_next;
            if (node->peer_next != nullptr) {
                node->peer_next->peer_prev = node->peer_prev;
            } else {
                head->peer_prev = node->peer_prev;
            }
        }
        node->peer_prev = node->peer_next = nullptr;
    }

    // Binds node to peer. The caller has already made sure peer's list entry
    // exists (`head`), so nothing here can throw half-way.
    static void bind(AllowedIps& table, Node* node, Peer* peer, Node*& head) {
        mark_stale(table, node);
        if (node->peer == nullptr) {
            ++table.size_;
        } else {
            unlink(table, node);
        }
        node->peer = peer;
        append(head, node);
    }

    template <unsigned Bits>
    static void insert(AllowedIps& table, const KeyOf<Bits>& key, unsigned cidr, Peer* peer) {
        using N = TrieNode<Bits>;
        N** slot = &root<Bits>(table);
        N* parent = nullptr;
        // Descend while the node's prefix contains the new one.
        while (*slot != nullptr) {
            N* node = *slot;
            const unsigned common = std::min({common_bits(key, node->key), cidr, unsigned{node->cidr}});
            if (common < node->cidr) break;
            if (node->cidr == cidr) {
                if (node->peer == peer) return;
                // try_emplace may allocate (and throw) before anything changes.
                Node*& head = table.peer_heads_.try_emplace(peer, nullptr).first->second;
                bind(table, node, peer, head);
                return;
            }
            parent = node;
            slot = &node->child[bit_at(key, node->cidr)];
        }

        // All allocation first, so a bad_alloc leaves the table untouched.
        auto fresh = make_node<Bits>(key, cidr);
        std::unique_ptr<N> fork;
        N* below = *slot;  // the subtree the new prefix has to be placed above or beside
        unsigned common = cidr;
        if (below != nullptr) {
            common = std::min(common_bits(key, below->key), cidr);
            if (common < cidr) fork = make_node<Bits>(masked(key, common), common);
        }
        Node*& head = table.peer_heads_.try_emplace(peer, nullptr).first->second;

        N* node = fresh.release();
        if (below == nullptr) {
            node->parent = parent;
            *slot = node;
        } else if (!fork) {
            // The new prefix contains below's: put it in between.
            node->parent = parent;
            node->child[bit_at(below->key, cidr)] = below;
            below->parent = node;
            *slot = node;
        } else {
            // They diverge at bit `common`: a fork takes both.
            N* f = fork.release();
            f->parent = parent;
            f->child[bit_at(key, common)] = node;
            f->child[bit_at(below->key, common)] = below;
            node->parent = f;
            below->parent = f;
            *slot = f;
        }
        bind(table, node, peer, head);
    }

    template <unsigned Bits>
    static TrieNode<Bits>* find_exact(TrieNode<Bits>* node, const KeyOf<Bits>& key, unsigned cidr) {
        while (node != nullptr && node->cidr <= cidr && common_bits(key, node->key) >= node->cidr) {
            if (node->cidr == cidr) return node;
            node = node->child[bit_at(key, node->cidr)];
        }
        return nullptr;
    }

    // Called after node lost its peer: deletes it if it is no longer needed
    // (fewer than two children), and merges a parent fork left with one child.
    template <unsigned Bits>
    static void prune(AllowedIps& table, TrieNode<Bits>* node) {
        using N = TrieNode<Bits>;
        while (node != nullptr && node->peer == nullptr) {
            if (node->child[0] != nullptr && node->child[1] != nullptr) return;
            N* only = node->child[0] != nullptr ? node->child[0] : node->child[1];
            N* parent = node->parent;
            N*& slot = parent == nullptr ? root<Bits>(table) : parent->child[parent->child[1] == node ? 1 : 0];
            slot = only;
            if (only != nullptr) only->parent = parent;
            delete node;
            // With a child moved up, parent keeps its child count; otherwise
            // parent lost one and, if it is a fork, must go as well.
            if (only != nullptr) return;
            node = parent;
        }
    }

    template <unsigned Bits>
    static IndexKeyOf<Bits> last_address(const TrieNode<Bits>* node) {
        using K = IndexKeyOf<Bits>;
        return index_key(node->key) | (node->cidr == Bits ? K{0} : ~K{0} >> node->cidr);
    }

    // Appends the intervals of node's prefix to index, `outer` being the peer
    // of the closest bound prefix above it. The current peer when a node is
    // entered is always `outer`. Recursion depth is at most Bits + 1 (the
    // cidr grows down the trie).
    template <unsigned Bits>
    static void flatten(const TrieNode<Bits>* node, Peer* outer, IntervalIndex<IndexKeyOf<Bits>>& index) {
        using K = IndexKeyOf<Bits>;
        Peer* here = node->peer != nullptr ? node->peer : outer;
        index.set_from(index_key(node->key), here);
        for (const TrieNode<Bits>* child : node->child) {
            if (child == nullptr) continue;
            flatten<Bits>(child, here, index);
            if (const K last = last_address(child); last != ~K{0}) index.set_from(last + 1, here);
        }
    }

    // Rebuilds the family's index from its trie, or frees it when the trie
    // is empty. Without memory for it, the trie keeps serving lookups.
    template <unsigned Bits>
    static bool compile(const AllowedIps& table) {
        using K = IndexKeyOf<Bits>;
        Compiled<K>& compiled = Impl::compiled<Bits>(table);
        const TrieNode<Bits>* node = root<Bits>(table);
        compiled.stale_lookups = 0;
        try {
            if (node == nullptr) {
                compiled.index.release();
            } else {
                compiled.index.begin();
                compiled.index.set_from(K{0}, nullptr);
                flatten<Bits>(node, nullptr, compiled.index);
                if (const K last = last_address(node); last != ~K{0}) compiled.index.set_from(last + 1, nullptr);
                compiled.index.finish();
            }
        } catch (const std::bad_alloc&) {
            compiled.index.release();
            compiled.patience = std::max(compiled.patience, table.size_ / 4);
            return false;
        }
        compiled.stale = false;
        // A rebuild costs about as much as this many lookups in the trie
        // (at 100,000 prefixes: 7 ms against 300 ns). Serving them from the
        // trie before the next rebuild keeps a stream of single changes
        // between packets from costing a rebuild each: at worst it doubles
        // what lookups would have cost with either strategy alone.
        compiled.patience = compiled.index.interval_count() / 8;
        return true;
    }

    template <unsigned Bits>
    static Peer* trie_lookup(const TrieNode<Bits>* node, const KeyOf<Bits>& key) {
        Peer* best = nullptr;
        while (node != nullptr && common_bits(key, node->key) >= node->cidr) {
            if (node->peer != nullptr) best = node->peer;
            if (node->cidr == Bits) break;
            node = node->child[bit_at(key, node->cidr)];
        }
        return best;
    }

    template <unsigned Bits>
    static Peer* lookup(const AllowedIps& table, const std::uint8_t* bytes) {
        Compiled<IndexKeyOf<Bits>>& compiled = Impl::compiled<Bits>(table);
        if (compiled.stale) {
            const bool rebuilt = compiled.stale_lookups >= compiled.patience && compile<Bits>(table);
            if (!rebuilt) {
                ++compiled.stale_lookups;
                KeyOf<Bits> key;
                load(bytes, key);
                return trie_lookup<Bits>(root<Bits>(table), key);
            }
        }
        if (root<Bits>(table) == nullptr) return nullptr;
        IndexKeyOf<Bits> key;
        load(bytes, key);
        return compiled.index.find(key);
    }

    // Frees a whole trie in O(n) without recursion or extra memory: rotate
    // left children up until the top node has none, then free it and go right.
    template <unsigned Bits>
    static void destroy(TrieNode<Bits>* node) {
        while (node != nullptr) {
            if (TrieNode<Bits>* left = node->child[0]; left != nullptr) {
                node->child[0] = left->child[1];
                left->child[1] = node;
                node = left;
            } else {
                TrieNode<Bits>* right = node->child[1];
                delete node;
                node = right;
            }
        }
    }

    template <unsigned Bits>
    static IpPrefix prefix_of(const TrieNode<Bits>* node) {
        IpPrefix prefix;
        prefix.address.family = Bits == 32 ? IpAddress::Family::v4 : IpAddress::Family::v6;
        store(node->key, prefix.address.bytes.data());
        prefix.cidr = node->cidr;
        return prefix;
    }
};

AllowedIps::AllowedIps() = default;

AllowedIps::~AllowedIps() {
    clear();
}

void AllowedIps::insert(const IpPrefix& prefix, Peer* peer) {
    if (peer == nullptr) return;
    const IpPrefix canonical = IpPrefix::make(prefix.address, prefix.cidr);
    if (canonical.address.is_v4()) {
        KeyOf<32> key;
        load(canonical.address.bytes.data(), key);
        Impl::insert<32>(*this, key, canonical.cidr, peer);
    } else if (canonical.address.is_v6()) {
        KeyOf<128> key;
        load(canonical.address.bytes.data(), key);
        Impl::insert<128>(*this, key, canonical.cidr, peer);
    }
}

bool AllowedIps::remove(const IpPrefix& prefix, Peer* peer) {
    if (peer == nullptr) return false;
    const IpPrefix canonical = IpPrefix::make(prefix.address, prefix.cidr);
    auto remove_in = [&]<unsigned Bits>(TrieNode<Bits>* root) {
        KeyOf<Bits> key;
        load(canonical.address.bytes.data(), key);
        TrieNode<Bits>* node = Impl::find_exact<Bits>(root, key, canonical.cidr);
        if (node == nullptr || node->peer != peer) return false;
        Impl::mark_stale(*this, node);
        Impl::unlink(*this, node);
        node->peer = nullptr;
        --size_;
        Impl::prune<Bits>(*this, node);
        return true;
    };
    if (canonical.address.is_v4()) return remove_in(root4_);
    if (canonical.address.is_v6()) return remove_in(root6_);
    return false;
}

void AllowedIps::remove_by_peer(Peer* peer) {
    const auto it = peer_heads_.find(peer);
    if (it == peer_heads_.end()) return;
    Node* node = it->second;
    peer_heads_.erase(it);
    // The list is dropped as a whole; prune only ever deletes peerless nodes,
    // so the saved `next` (still bound) survives each step.
    while (node != nullptr) {
        Node* next = node->peer_next;
        Impl::mark_stale(*this, node);
        node->peer = nullptr;
        node->peer_prev = node->peer_next = nullptr;
        --size_;
        if (node->is_v6) {
            Impl::prune<128>(*this, static_cast<Node6*>(node));
        } else {
            Impl::prune<32>(*this, static_cast<Node4*>(node));
        }
        node = next;
    }
}

void AllowedIps::clear() {
    Impl::destroy<32>(root4_);
    Impl::destroy<128>(root6_);
    root4_ = nullptr;
    root6_ = nullptr;
    peer_heads_.clear();
    size_ = 0;
    compiled4_ = {};
    compiled6_ = {};
}

Peer* AllowedIps::lookup(const IpAddress& address) const {
    if (address.is_v4()) return Impl::lookup<32>(*this, address.bytes.data());
    if (address.is_v6()) return Impl::lookup<128>(*this, address.bytes.data());
    return nullptr;
}

std::vector<IpPrefix> AllowedIps::prefixes_of(const Peer* peer) const {
    std::vector<IpPrefix> prefixes;
    const auto it = peer_heads_.find(peer);
    if (it == peer_heads_.end()) return prefixes;
    for (const Node* node = it->second; node != nullptr; node = node->peer_next) {
        prefixes.push_back(node->is_v6 ? Impl::prefix_of<128>(static_cast<const Node6*>(node))
                                       : Impl::prefix_of<32>(static_cast<const Node4*>(node)));
    }
    return prefixes;
}

}  // namespace wgate::core
