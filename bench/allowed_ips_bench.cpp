// Allowed-IPs lookup with many prefixes: the per-packet routing cost, and the
// cost of rebuilding the compiled index after a change.
//
// Lookups walk the addresses in a fixed random order, so that each one starts
// cold in the caches as a packet from another peer would.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "wgate/core/allowed_ips.hpp"

namespace {

using wgate::core::AllowedIps;
using wgate::core::IpAddress;
using wgate::core::IpPrefix;
using wgate::core::Peer;

// Distinct, never dereferenced Peer* values.
std::vector<std::uint64_t> peer_slots(1'000'000);
Peer* peer(std::size_t i) {
    return reinterpret_cast<Peer*>(&peer_slots[i]);
}

IpAddress v4(std::uint32_t a) {
    const std::uint8_t b[4] = {std::uint8_t(a >> 24), std::uint8_t(a >> 16), std::uint8_t(a >> 8), std::uint8_t(a)};
    return IpAddress::v4(b);
}

// fd00:1234:5678:9abc::/64 (or its /48), with the bits past `cidr` random.
IpAddress v6_in(unsigned cidr, std::mt19937_64& rng) {
    std::array<std::uint8_t, 16> b = {0xfd, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
    const std::uint64_t low = rng();
    const std::uint64_t mid = rng();
    for (int i = 0; i < 8; ++i) b[15 - i] = std::uint8_t(low >> (8 * i));
    for (unsigned bit = cidr; bit < 64; ++bit) {
        const auto mask = std::uint8_t(0x80 >> (bit % 8));
        b[bit / 8] = std::uint8_t(((mid >> bit) & 1) ? b[bit / 8] | mask : b[bit / 8] & ~mask);
    }
    return IpAddress::v6(b.data());
}

// Looks up `addresses` round-robin; they are shuffled first.
void run_lookups(benchmark::State& state, const AllowedIps& table, std::vector<IpAddress> addresses) {
    std::shuffle(addresses.begin(), addresses.end(), std::mt19937(7));
    std::size_t found = 0;
    for (const auto& a : addresses) found += table.lookup(a) != nullptr;  // also compiles the index
    if (found != addresses.size()) state.SkipWithError("a host route was not found");
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(table.lookup(addresses[i]));
        if (++i == addresses.size()) i = 0;
    }
    state.SetItemsProcessed(state.iterations());
}

std::vector<IpAddress> random_v4(std::size_t count) {
    std::mt19937 rng(42);
    std::vector<IpAddress> addresses;
    for (std::size_t i = 0; i < count; ++i) addresses.push_back(v4(rng()));
    return addresses;
}

// Random /32s anywhere in the IPv4 space.
void BM_AllowedIpsLookupV4(benchmark::State& state) {
    AllowedIps table;
    const auto addresses = random_v4(static_cast<std::size_t>(state.range(0)));
    for (std::size_t i = 0; i < addresses.size(); ++i) table.insert(IpPrefix::make(addresses[i], 32), peer(i));
    run_lookups(state, table, addresses);
}
BENCHMARK(BM_AllowedIpsLookupV4)->Arg(1000)->Arg(100000);

// Consecutive /32s from 10.8.0.0, a peer each: a gateway's address pool.
std::vector<IpAddress> insert_dense_pool(AllowedIps& table, std::int64_t count) {
    std::vector<IpAddress> addresses;
    for (std::uint32_t i = 0; i < count; ++i) {
        addresses.push_back(v4(0x0A080000u + i));
        table.insert(IpPrefix::make(addresses.back(), 32), peer(i));
    }
    return addresses;
}

void BM_AllowedIpsLookupV4Dense(benchmark::State& state) {
    AllowedIps table;
    const auto addresses = insert_dense_pool(table, state.range(0));
    run_lookups(state, table, addresses);
}
BENCHMARK(BM_AllowedIpsLookupV4Dense)->Arg(100000);

// The dense pool plus a few site subnets far from it and a default route, so
// that the pool is no longer the only cluster of prefixes.
void BM_AllowedIpsLookupV4DenseAndSites(benchmark::State& state) {
    AllowedIps table;
    const auto addresses = insert_dense_pool(table, state.range(0));
    for (std::uint32_t site = 0; site < 16; ++site) {
        table.insert(IpPrefix::make(v4(0xC0A80000u + (site << 8)), 24), peer(500'000 + site));  // 192.168.site.0/24
        table.insert(IpPrefix::make(v4(0xAC100000u + (site << 16)), 16), peer(600'000 + site));  // 172.(16+site).0.0/16
    }
    table.insert(IpPrefix::make(v4(0), 0), peer(700'000));
    run_lookups(state, table, addresses);
}
BENCHMARK(BM_AllowedIpsLookupV4DenseAndSites)->Arg(100000);

// Random /128s inside one /64 or one /48 (second argument).
void BM_AllowedIpsLookupV6(benchmark::State& state) {
    AllowedIps table;
    std::mt19937_64 rng(42);
    std::vector<IpAddress> addresses;
    for (std::int64_t i = 0; i < state.range(0); ++i) {
        addresses.push_back(v6_in(static_cast<unsigned>(state.range(1)), rng));
        table.insert(IpPrefix::make(addresses.back(), 128), peer(static_cast<std::size_t>(i)));
    }
    run_lookups(state, table, addresses);
}
BENCHMARK(BM_AllowedIpsLookupV6)->Args({100000, 64})->Args({100000, 48});

// Insert n random /32s into an empty table, then the first lookup compiles
// the index. Counters: the compile alone, and the memory of the trie and of
// the index per prefix (heap in use, malloc's own overhead included).
void BM_AllowedIpsLoadAndCompile(benchmark::State& state) {
    const auto addresses = random_v4(static_cast<std::size_t>(state.range(0)));
    double compile_ms = 0;
    double trie_bytes = 0;
    double index_bytes = 0;
    for (auto _ : state) {
        const auto before = mallinfo2().uordblks;
        auto table = std::make_unique<AllowedIps>();
        for (std::size_t i = 0; i < addresses.size(); ++i) table->insert(IpPrefix::make(addresses[i], 32), peer(i));
        const auto with_trie = mallinfo2().uordblks;
        const auto start = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(table->lookup(addresses[0]));
        compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        const auto with_index = mallinfo2().uordblks;
        trie_bytes = double(with_trie - before);
        index_bytes = double(with_index - with_trie);
        state.PauseTiming();  // not the destruction
        table.reset();
        state.ResumeTiming();
    }
    const auto n = double(addresses.size());
    state.counters["compile_ms"] = compile_ms;
    state.counters["trie_B_per_prefix"] = trie_bytes / n;
    state.counters["index_B_per_prefix"] = index_bytes / n;
}
BENCHMARK(BM_AllowedIpsLoadAndCompile)->Arg(100000)->Unit(benchmark::kMillisecond);

// One change to a big table (a /32 added or removed), then the traffic of
// n / 4 packets: the lookups served by the trie while the index is stale,
// the one that rebuilds it, and the rest. Counter: the slowest lookup (the
// rebuild). Timing each lookup adds about 40 ns to each.
void BM_AllowedIpsChangeThenTraffic(benchmark::State& state) {
    AllowedIps table;
    auto addresses = random_v4(static_cast<std::size_t>(state.range(0)));
    for (std::size_t i = 0; i < addresses.size(); ++i) table.insert(IpPrefix::make(addresses[i], 32), peer(i));
    std::shuffle(addresses.begin(), addresses.end(), std::mt19937(7));
    benchmark::DoNotOptimize(table.lookup(addresses[0]));
    const IpPrefix extra = IpPrefix::make(v4(0x0A0A0A0Au), 32);
    const std::size_t packets = addresses.size() / 4;
    bool present = false;
    double slowest_ms = 0;
    for (auto _ : state) {
        if (present) {
            table.remove(extra, peer(999'999));
        } else {
            table.insert(extra, peer(999'999));
        }
        present = !present;
        for (std::size_t i = 0; i < packets; ++i) {
            const auto start = std::chrono::steady_clock::now();
            benchmark::DoNotOptimize(table.lookup(addresses[i]));
            slowest_ms = std::max(
                slowest_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        }
    }
    state.counters["slowest_lookup_ms"] = slowest_ms;
    state.SetItemsProcessed(state.iterations() * std::int64_t(packets));
}
BENCHMARK(BM_AllowedIpsChangeThenTraffic)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
