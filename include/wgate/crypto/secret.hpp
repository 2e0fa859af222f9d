// Fixed-size byte arrays for key material: zeroised on destruction, compared
// in constant time. Public values use plain std::array.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace wgate::crypto {

template <std::size_t N>
using Bytes = std::array<std::uint8_t, N>;

void secure_zero(void* data, std::size_t size) noexcept;
bool equal_ct(const std::uint8_t* a, const std::uint8_t* b, std::size_t size) noexcept;
bool is_zero_ct(const std::uint8_t* data, std::size_t size) noexcept;

template <std::size_t N>
class Secret {
public:
    Secret() noexcept { bytes_.fill(0); }
    explicit Secret(const Bytes<N>& b) noexcept : bytes_(b) {}
    Secret(const Secret& other) noexcept = default;
    Secret& operator=(const Secret& other) noexcept = default;
    ~Secret() { clear(); }

    void clear() noexcept { secure_zero(bytes_.data(), N); }
    bool is_zero() const noexcept { return is_zero_ct(bytes_.data(), N); }

    std::uint8_t* data() noexcept { return bytes_.data(); }
    const std::uint8_t* data() const noexcept { return bytes_.data(); }
    static constexpr std::size_t size() noexcept { return N; }
    std::span<const std::uint8_t, N> span() const noexcept { return std::span<const std::uint8_t, N>(bytes_); }
    std::span<std::uint8_t, N> span() noexcept { return std::span<std::uint8_t, N>(bytes_); }
    Bytes<N>& bytes() noexcept { return bytes_; }
    const Bytes<N>& bytes() const noexcept { return bytes_; }

    friend bool operator==(const Secret& a, const Secret& b) noexcept { return equal_ct(a.data(), b.data(), N); }

private:
    Bytes<N> bytes_;
};

inline constexpr std::size_t kKeySize = 32;
using PublicKey = Bytes<kKeySize>;
using PrivateKey = Secret<kKeySize>;
using SymmetricKey = Secret<kKeySize>;
using PresharedKey = Secret<kKeySize>;

}  // namespace wgate::crypto
