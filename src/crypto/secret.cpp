#include "wgate/crypto/secret.hpp"

#include <sodium.h>

namespace wgate::crypto {

void secure_zero(void* data, std::size_t size) noexcept {
    // sodium_memzero cannot be optimised away, unlike a plain memset.
    if (data != nullptr && size != 0) {
        sodium_memzero(data, size);
    }
}

bool equal_ct(const std::uint8_t* a, const std::uint8_t* b, std::size_t size) noexcept {
    if (size == 0) {
        return true;
    }
    return sodium_memcmp(a, b, size) == 0;
}

bool is_zero_ct(const std::uint8_t* data, std::size_t size) noexcept {
    if (size == 0) {
        return true;
    }
    return sodium_is_zero(data, size) == 1;
}

}  // namespace wgate::crypto
