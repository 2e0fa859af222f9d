// Allowed-IPs lookup with many prefixes: the per-packet routing cost.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "wgate/core/allowed_ips.hpp"

namespace {

using wgate::core::AllowedIps;
using wgate::core::IpAddress;
using wgate::core::IpPrefix;
using wgate::core::Peer;

void BM_AllowedIpsLookupV4(benchmark::State& state) {
    const auto prefixes = static_cast<std::size_t>(state.range(0));
    AllowedIps table;
    std::vector<int> peers(prefixes);
    std::mt19937 rng(42);
    std::vector<IpAddress> addresses;
    for (std::size_t i = 0; i < prefixes; ++i) {
        const std::uint32_t a = rng();
        const std::uint8_t b[4] = {std::uint8_t(a >> 24), std::uint8_t(a >> 16), std::uint8_t(a >> 8), std::uint8_t(a)};
        const auto address = IpAddress::v4(b);
        table.insert(IpPrefix::make(address, 32), reinterpret_cast<Peer*>(&peers[i]));
        addresses.push_back(address);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(table.lookup(addresses[i]));
        i = (i + 1) % addresses.size();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowedIpsLookupV4)->Arg(1000)->Arg(100000);

}  // namespace
