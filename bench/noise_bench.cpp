// The handshake split into its four steps (what an initiator and a responder
// each pay), the responder's whole share, and the replay window.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"
#include "wgate/noise/handshake.hpp"
#include "wgate/noise/replay_window.hpp"

namespace {

using namespace wgate;

// An initiator and a responder that know each other, and a clock for the
// timestamps (strictly increasing) and the flood check (one second apart).
struct Pair {
    crypto::DeterministicRandom random{1};
    noise::LocalIdentity initiator, responder;
    noise::Handshake i_side, r_side;
    std::uint64_t t = 1;

    Pair() {
        initiator.set(crypto::generate_private_key(random));
        responder.set(crypto::generate_private_key(random));
        i_side.configure(initiator, responder.public_key);
        r_side.configure(responder, initiator.public_key);
    }
    crypto::Timestamp next_timestamp() {
        crypto::Timestamp ts{};
        for (int b = 0; b < 8; ++b) ts[7 - b] = static_cast<std::uint8_t>(t >> (8 * b));
        ++t;
        return ts;
    }
    std::chrono::nanoseconds now() const { return std::chrono::seconds(t); }

    // The initiator's next initiation.
    noise::Initiation initiate() {
        noise::Initiation init;
        (void)i_side.create_initiation(initiator, 1, next_timestamp(), random, init);
        return init;
    }
    // The responder opens and commits it; false when it refused.
    bool consume(const noise::Initiation& init) {
        noise::OpenedInitiation opened;
        return noise::open_initiation(responder, init, opened) == noise::HandshakeError::none &&
               r_side.consume_initiation(responder, opened, init, now()) == noise::HandshakeError::none;
    }
};

void BM_HandshakeCreateInitiation(benchmark::State& state) {
    Pair p;
    for (auto _ : state) {
        noise::Initiation init;
        const auto err = p.i_side.create_initiation(p.initiator, 1, p.next_timestamp(), p.random, init);
        benchmark::DoNotOptimize(err);
        benchmark::DoNotOptimize(init);
    }
}
BENCHMARK(BM_HandshakeCreateInitiation);

// Responder, step 1: decrypt the static key and timestamp, commit.
void BM_HandshakeConsumeInitiation(benchmark::State& state) {
    Pair p;
    for (auto _ : state) {
        state.PauseTiming();
        const noise::Initiation init = p.initiate();
        state.ResumeTiming();
        if (!p.consume(init)) state.SkipWithError("initiation rejected");
    }
}
BENCHMARK(BM_HandshakeConsumeInitiation);

// Responder, step 2: the response (ephemeral key, two DH).
void BM_HandshakeCreateResponse(benchmark::State& state) {
    Pair p;
    for (auto _ : state) {
        state.PauseTiming();
        (void)p.consume(p.initiate());
        state.ResumeTiming();
        noise::Response resp;
        if (p.r_side.create_response(2, p.random, resp) != noise::HandshakeError::none)
            state.SkipWithError("create_response failed");
        benchmark::DoNotOptimize(p.r_side.begin_session());
    }
}
BENCHMARK(BM_HandshakeCreateResponse);

// Initiator, step 2: consume the response and derive the session.
void BM_HandshakeConsumeResponse(benchmark::State& state) {
    Pair p;
    for (auto _ : state) {
        state.PauseTiming();
        (void)p.consume(p.initiate());
        noise::Response resp;
        (void)p.r_side.create_response(2, p.random, resp);
        (void)p.r_side.begin_session();
        state.ResumeTiming();
        if (p.i_side.consume_response(p.initiator, resp) != noise::HandshakeError::none)
            state.SkipWithError("response rejected");
        benchmark::DoNotOptimize(p.i_side.begin_session());
    }
}
BENCHMARK(BM_HandshakeConsumeResponse);

// The responder's whole share of one handshake (no MAC checks, no Device):
// its inverse is the ceiling of responder handshakes per second on one core.
void BM_HandshakeResponderTotal(benchmark::State& state) {
    Pair p;
    for (auto _ : state) {
        state.PauseTiming();
        const noise::Initiation init = p.initiate();
        state.ResumeTiming();
        (void)p.consume(init);
        noise::Response resp;
        if (p.r_side.create_response(2, p.random, resp) != noise::HandshakeError::none)
            state.SkipWithError("responder failed");
        benchmark::DoNotOptimize(p.r_side.begin_session());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandshakeResponderTotal);

// Replay window, in order: the common case of every received packet.
void BM_ReplayWindowInOrder(benchmark::State& state) {
    noise::ReplayWindow window;
    std::uint64_t counter = 0;
    for (auto _ : state) benchmark::DoNotOptimize(window.accept(counter++));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplayWindowInOrder);

// Reordered inside the window (as parallel decryption or multi-queue links
// deliver): blocks of 64 counters accepted in a scrambled order.
void BM_ReplayWindowReordered(benchmark::State& state) {
    noise::ReplayWindow window;
    std::vector<std::uint64_t> order(64);
    for (std::uint64_t i = 0; i < 64; ++i) order[i] = (i * 37) % 64;  // 37 is coprime to 64
    std::uint64_t base = 0;
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(window.accept(base + order[i]));
        if (++i == order.size()) {
            i = 0;
            base += 64;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplayWindowReordered);

// Replays: every counter already seen (rejected).
void BM_ReplayWindowReplay(benchmark::State& state) {
    noise::ReplayWindow window;
    for (std::uint64_t c = 0; c < 4096; ++c) (void)window.accept(c);
    std::uint64_t c = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(window.accept(c));
        c = (c + 1) % 4096;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplayWindowReplay);

}  // namespace
