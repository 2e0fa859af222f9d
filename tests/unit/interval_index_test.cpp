// IntervalIndex on its own: built from interval starts directly, so that its
// tables (block, buckets, crowded buckets with tables of their own) are
// checked without going through the trie. AllowedIps' tests cover the
// flattening of the trie into it.
#include "wgate/core/interval_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace wgate::core {
namespace {

struct alignas(8) PeerSlot {
    unsigned char bytes[8];
};
PeerSlot peer_storage[64];

Peer* peer(std::size_t i) {
    return reinterpret_cast<Peer*>(&peer_storage[i]);
}

std::string name(const Peer* p) {
    return p == nullptr ? "none" : "peer " + std::to_string(reinterpret_cast<const PeerSlot*>(p) - peer_storage);
}

std::string hex(Uint128 v) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (int shift = 124; shift >= 0; shift -= 4) out += digits[static_cast<unsigned>(v >> shift) & 15];
    return out;
}

std::string hex(std::uint32_t v) {
    return hex(Uint128{v});
}

// The meaning of a build, written independently: the value of an address is
// the one set at the greatest start <= address, the last setting of a start winning.
template <typename Key>
class Model {
public:
    void set_from(Key start, Peer* p) { starts_[start] = p; }
    Peer* find(Key address) const { return std::prev(starts_.upper_bound(address))->second; }
    // Intervals left after merging equal neighbours.
    std::size_t distinct_runs() const {
        std::size_t runs = 0;
        Peer* last = nullptr;
        for (auto it = starts_.begin(); it != starts_.end(); ++it) {
            if (it == starts_.begin() || it->second != last) ++runs;
            last = it->second;
        }
        return runs;
    }
    const std::map<Key, Peer*>& starts() const { return starts_; }

private:
    std::map<Key, Peer*> starts_;
};

// Builds index and model from the same sorted (start, peer) list, which may repeat starts.
template <typename Key>
void build(IntervalIndex<Key>& index, Model<Key>& model, const std::vector<std::pair<Key, Peer*>>& settings) {
    index.begin();
    for (const auto& [start, p] : settings) {
        index.set_from(start, p);
        model.set_from(start, p);
    }
    index.finish();
}

// Every start, its neighbours, both ends of the space and random addresses.
template <typename Key>
void expect_same(const IntervalIndex<Key>& index, const Model<Key>& model, std::mt19937_64& rng) {
    ASSERT_EQ(index.interval_count(), model.distinct_runs());
    std::vector<Key> probes = {Key{0}, Key{1}, ~Key{0}, ~Key{0} - 1, Key{1} << (sizeof(Key) * 8 - 1)};
    for (const auto& [start, p] : model.starts()) {
        probes.push_back(start);
        probes.push_back(start - 1);  // wraps at 0: the top address
        probes.push_back(start + 1);
    }
    for (int i = 0; i < 2000; ++i) probes.push_back(static_cast<Key>((Uint128{rng()} << 64) | rng()));
    std::size_t mismatches = 0;
    for (Key a : probes) {
        const Peer* got = index.find(a);
        const Peer* expected = model.find(a);
        if (got != expected && ++mismatches <= 10) {
            ADD_FAILURE() << "address " << hex(a) << ": " << name(got) << ", expected " << name(expected);
        }
    }
    EXPECT_EQ(mismatches, 0u);
}

TEST(IntervalIndexTest, OneIntervalCoversEverything) {
    IntervalIndex<std::uint32_t> index;
    index.begin();
    index.set_from(0, peer(1));
    index.finish();
    EXPECT_EQ(index.interval_count(), 1u);
    EXPECT_EQ(index.find(0), peer(1));
    EXPECT_EQ(index.find(0x0A000001u), peer(1));
    EXPECT_EQ(index.find(~0u), peer(1));

    index.begin();
    index.set_from(0, nullptr);
    index.finish();
    EXPECT_EQ(index.find(0), nullptr);
    EXPECT_EQ(index.find(~0u), nullptr);
}

TEST(IntervalIndexTest, SetFromReplacesTheSameStartAndMergesEqualNeighbours) {
    IntervalIndex<std::uint32_t> index;
    index.begin();
    index.set_from(0, nullptr);
    index.set_from(10, peer(1));
    index.set_from(10, peer(2));  // replaces
    index.set_from(20, peer(2));  // same as before: merged
    index.set_from(30, nullptr);
    index.set_from(30, peer(2));  // replaced by the value before it: merged away
    index.set_from(40, nullptr);
    index.finish();
    EXPECT_EQ(index.interval_count(), 3u);  // [0,10) none, [10,40) peer 2, [40,max] none
    EXPECT_EQ(index.find(9), nullptr);
    EXPECT_EQ(index.find(10), peer(2));
    EXPECT_EQ(index.find(25), peer(2));
    EXPECT_EQ(index.find(39), peer(2));
    EXPECT_EQ(index.find(40), nullptr);
    EXPECT_EQ(index.find(~0u), nullptr);
}

TEST(IntervalIndexTest, StartsAtTheVeryTopAndBottom) {
    IntervalIndex<Uint128> index;
    index.begin();
    index.set_from(0, peer(1));
    index.set_from(1, peer(2));
    index.set_from(~Uint128{0}, peer(3));
    index.finish();
    EXPECT_EQ(index.find(0), peer(1));
    EXPECT_EQ(index.find(1), peer(2));
    EXPECT_EQ(index.find(Uint128{1} << 127), peer(2));
    EXPECT_EQ(index.find(~Uint128{0} - 1), peer(2));
    EXPECT_EQ(index.find(~Uint128{0}), peer(3));
}

TEST(IntervalIndexTest, ClusterFarFromZeroKeepsBothSidesOfIt) {
    // All starts inside one /64 (as IPv6 peers from one subnet): the table
    // covers that block only; addresses outside it take the value reaching
    // in from below (peer 1, set at 0) or out from above (peer 7).
    const Uint128 base = Uint128{0xfd00'1234'5678'9abcu} << 64;
    IntervalIndex<Uint128> index;
    index.begin();
    index.set_from(0, peer(1));
    for (unsigned i = 0; i < 1000; ++i) index.set_from(base + Uint128{i} * 977, peer(2 + i % 5));
    index.set_from(base + 999'999, peer(7));
    index.finish();
    EXPECT_EQ(index.find(base - 1), peer(1));
    EXPECT_EQ(index.find(0), peer(1));
    EXPECT_EQ(index.find(base), peer(2));
    EXPECT_EQ(index.find(base + 977), peer(3));
    EXPECT_EQ(index.find(base + 976), peer(2));
    EXPECT_EQ(index.find(base + 999'998), peer(2 + 999 % 5));
    EXPECT_EQ(index.find(base + 999'999), peer(7));
    EXPECT_EQ(index.find(base + (Uint128{1} << 64)), peer(7));
    EXPECT_EQ(index.find(~Uint128{0}), peer(7));
}

TEST(IntervalIndexTest, DenseRunAcrossBucketsAndACrowdedBucket) {
    // 100,000 consecutive starts (a /32 per peer from one pool) plus a few far
    // away: the pool fills a handful of root buckets, which get tables of
    // their own; every address of it and around it must still resolve.
    IntervalIndex<std::uint32_t> index;
    Model<std::uint32_t> model;
    std::vector<std::pair<std::uint32_t, Peer*>> settings = {{0, peer(0)}};
    const std::uint32_t pool = 0x0A08'FF00u;  // 10.8.255.0: straddles 10.9.0.0
    for (std::uint32_t i = 0; i < 100'000; ++i) settings.emplace_back(pool + i, peer(1 + i % 50));
    settings.emplace_back(pool + 100'000, peer(0));
    settings.emplace_back(0xC0A8'0000u, peer(60));  // 192.168.0.0/24
    settings.emplace_back(0xC0A8'0100u, peer(0));
    build(index, model, settings);
    for (std::uint32_t a = pool - 300; a < pool + 100'300; ++a) {
        ASSERT_EQ(index.find(a), model.find(a)) << hex(a);
    }
    std::mt19937_64 rng(5);
    expect_same(index, model, rng);
}

// Random starts: mostly clustered (dense runs, one tight block, a wide
// spread), with repeated starts and runs of one value, in both key widths.
template <typename Key>
void random_builds(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    IntervalIndex<Key> index;  // reused: each build starts from the last one's memory
    for (int round = 0; round < 60; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const unsigned width = sizeof(Key) * 8;
        const unsigned cluster_bits = 1 + static_cast<unsigned>(rng() % (width - 1));  // block of 2^cluster_bits
        const Key base = static_cast<Key>((Uint128{rng()} << 64) | rng());
        const Key block_mask = static_cast<Key>((Key{1} << cluster_bits) - 1);
        const std::size_t count = rng() % 3 == 0 ? rng() % 40 : rng() % 5000;
        std::vector<std::pair<Key, Peer*>> settings;
        for (std::size_t i = 0; i < count; ++i) {
            Key start;
            switch (rng() % 4) {
                case 0: start = static_cast<Key>((Uint128{rng()} << 64) | rng()); break;  // anywhere
                case 1: start = static_cast<Key>((base & ~block_mask) | (static_cast<Key>(rng()) & block_mask)); break;
                default: start = static_cast<Key>((base & ~block_mask) + i); break;  // dense run
            }
            // Few distinct values, so that neighbours often merge.
            settings.emplace_back(start, rng() % 8 == 0 ? nullptr : peer(rng() % 6));
        }
        std::stable_sort(settings.begin(), settings.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        settings.insert(settings.begin(), {Key{0}, rng() % 2 ? nullptr : peer(7)});
        Model<Key> model;
        build(index, model, settings);
        expect_same(index, model, rng);
        EXPECT_GT(index.memory_bytes(), 0u);
    }
}

TEST(IntervalIndexTest, RandomBuildsMatchTheModelV4Keys) {
    random_builds<std::uint32_t>(11);
}

TEST(IntervalIndexTest, RandomBuildsMatchTheModelV6Keys) {
    random_builds<Uint128>(12);
}

TEST(IntervalIndexTest, ReleaseFreesAndAllowsAnotherBuild) {
    IntervalIndex<std::uint32_t> index;
    index.begin();
    index.set_from(0, nullptr);
    for (std::uint32_t i = 1; i < 5000; ++i) index.set_from(i * 3, peer(i % 4));
    index.finish();
    EXPECT_GT(index.memory_bytes(), 5000u * 12);
    index.release();
    EXPECT_EQ(index.memory_bytes(), 0u);
    EXPECT_EQ(index.interval_count(), 0u);
    index.begin();
    index.set_from(0, nullptr);
    index.set_from(100, peer(2));
    index.finish();
    EXPECT_EQ(index.find(99), nullptr);
    EXPECT_EQ(index.find(100), peer(2));
}

}  // namespace
}  // namespace wgate::core
