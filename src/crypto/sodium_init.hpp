// Private to src/crypto: libsodium must be initialised before its CSPRNG is
// used and before it picks the fastest implementation of each primitive.
#pragma once

#include <cstdlib>

#include <sodium.h>

namespace wgate::crypto::detail {

// Cheap after the first call: a function-local static is initialised once,
// thread-safely, and sodium_init() is idempotent anyway.
inline void ensure_sodium() noexcept {
    static const bool ready = [] {
        // sodium_init() returns 1 when already initialised, -1 on failure.
        // Without a working CSPRNG no key may be made, so failing is fatal.
        if (sodium_init() < 0) {
            std::abort();
        }
        return true;
    }();
    (void)ready;
}

}  // namespace wgate::crypto::detail
