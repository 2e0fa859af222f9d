#include "wgate/crypto/x25519.hpp"

#include <sodium.h>

#include "sodium_init.hpp"

namespace wgate::crypto {

static_assert(crypto_scalarmult_curve25519_BYTES == kKeySize);
static_assert(crypto_scalarmult_curve25519_SCALARBYTES == kKeySize);

PrivateKey generate_private_key(Random& random) {
    PrivateKey key;
    random.fill(key.data(), key.size());
    // RFC 7748 clamping: a multiple of the cofactor 8 with the top bit fixed,
    // stored so the key on disk is what `wg genkey` would write.
    key.data()[0] &= 248;
    key.data()[31] &= 127;
    key.data()[31] |= 64;
    return key;
}

PublicKey public_key_of(const PrivateKey& private_key) {
    detail::ensure_sodium();
    PublicKey public_key{};
    if (crypto_scalarmult_curve25519_base(public_key.data(), private_key.data()) != 0) {
        // Only a scalar that clamps to zero could fail; never hand out garbage.
        public_key.fill(0);
    }
    return public_key;
}

bool x25519(SymmetricKey& shared, const PrivateKey& private_key, const PublicKey& public_key) {
    detail::ensure_sodium();
    // libsodium already fails on an all-zero result (and on known low-order
    // inputs); the explicit check keeps the contract independent of its version.
    const int rc = crypto_scalarmult_curve25519(shared.data(), private_key.data(), public_key.data());
    if (rc != 0 || shared.is_zero()) {
        shared.clear();
        return false;
    }
    return true;
}

}  // namespace wgate::crypto
