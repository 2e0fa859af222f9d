// Curve25519 Diffie-Hellman (RFC 7748) through libsodium.
#pragma once

#include "wgate/crypto/random.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::crypto {

// A clamped private key from the random source.
PrivateKey generate_private_key(Random& random);
PublicKey public_key_of(const PrivateKey& private_key);

// Shared secret of our private and their public key. Returns false (and a
// zeroed result) when the result is all zero, i.e. their key has low order.
[[nodiscard]] bool x25519(SymmetricKey& shared, const PrivateKey& private_key, const PublicKey& public_key);

}  // namespace wgate::crypto
