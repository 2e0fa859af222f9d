// Per-packet AEAD cost and handshake cost.
#include <benchmark/benchmark.h>

#include <vector>

#include "wgate/crypto/aead.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"
#include "wgate/noise/handshake.hpp"

namespace {

using namespace wgate;

void BM_AeadSeal(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    std::vector<std::uint8_t> buffer(size + crypto::kAeadTagSize, 0x42);
    crypto::SymmetricKey key;
    key.bytes().fill(7);
    std::uint64_t counter = 0;
    for (auto _ : state) {
        crypto::aead_seal(buffer.data(), {buffer.data(), size}, {}, key, counter++);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_AeadSeal)->Arg(64)->Arg(512)->Arg(1420)->Arg(8192);

// The receive side: authenticate and decrypt one transport payload. Opened
// into a separate buffer so the ciphertext stays intact across iterations
// (in place would need a copy per iteration, or timer pauses that cost more
// than a small packet).
void BM_AeadOpen(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    std::vector<std::uint8_t> plain(size, 0x42);
    std::vector<std::uint8_t> sealed(size + crypto::kAeadTagSize);
    std::vector<std::uint8_t> out(size);
    crypto::SymmetricKey key;
    key.bytes().fill(7);
    crypto::aead_seal(sealed.data(), plain, {}, key, 1);
    for (auto _ : state) {
        const bool ok = crypto::aead_open(out.data(), sealed, {}, key, 1);
        if (!ok) state.SkipWithError("aead_open failed");
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_AeadOpen)->Arg(64)->Arg(512)->Arg(1420)->Arg(8192);

void BM_HandshakeInitiationAndResponse(benchmark::State& state) {
    crypto::DeterministicRandom random(1);
    noise::LocalIdentity initiator, responder;
    initiator.set(crypto::generate_private_key(random));
    responder.set(crypto::generate_private_key(random));
    noise::Handshake i_side, r_side;
    i_side.configure(initiator, responder.public_key);
    r_side.configure(responder, initiator.public_key);
    std::uint64_t t = 1;
    for (auto _ : state) {
        noise::Initiation init;
        crypto::Timestamp ts{};
        for (int b = 0; b < 8; ++b) ts[7 - b] = static_cast<std::uint8_t>(t >> (8 * b));
        ++t;
        (void)i_side.create_initiation(initiator, 1, ts, random, init);
        noise::OpenedInitiation opened;
        (void)noise::open_initiation(responder, init, opened);
        (void)r_side.consume_initiation(responder, opened, init, std::chrono::seconds(t));
        noise::Response resp;
        (void)r_side.create_response(2, random, resp);
        (void)i_side.consume_response(initiator, resp);
        benchmark::DoNotOptimize(i_side.begin_session());
        benchmark::DoNotOptimize(r_side.begin_session());
    }
}
BENCHMARK(BM_HandshakeInitiationAndResponse);

}  // namespace
