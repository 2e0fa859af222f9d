// Randomness is injected so the core stays deterministic under test.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wgate::crypto {

class Random {
public:
    virtual ~Random() = default;
    virtual void fill(std::uint8_t* out, std::size_t size) = 0;

    std::uint32_t next_u32();
    // Uniform in [0, bound); bound > 0.
    std::uint32_t uniform(std::uint32_t bound);
};

// The operating system's CSPRNG (libsodium's randombytes).
class SystemRandom final : public Random {
public:
    void fill(std::uint8_t* out, std::size_t size) override;
};

// A seeded ChaCha20 stream: reproducible, for tests and fuzzing only.
class DeterministicRandom final : public Random {
public:
    explicit DeterministicRandom(std::uint64_t seed);
    void fill(std::uint8_t* out, std::size_t size) override;

private:
    std::uint8_t key_[32]{};
    std::uint64_t counter_ = 0;
};

}  // namespace wgate::crypto
