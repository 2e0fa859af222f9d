// `wgate genkey`, `wgate pubkey`, `wgate genpsk`: the same input and output as
// `wg genkey`, `wg pubkey`, `wg genpsk` (base64 plus a newline).
#pragma once

#include <iosfwd>
#include <string>

#include "wgate/crypto/random.hpp"

namespace wgate::cli {

// A clamped Curve25519 private key, "base64\n". The caller wipes it.
std::string genkey_text(crypto::Random& random);
// 32 random bytes, "base64\n". The caller wipes it.
std::string genpsk_text(crypto::Random& random);

// wg pubkey: reads the first 44 bytes of `in` as a base64 private key; only
// whitespace (and NUL) may follow. Writes the public key and returns 0, or
// writes wg's message to `err` ("wgate: Key is not the correct length or
// format", "wgate: Trailing characters found after key") and returns 1.
int pubkey_command(std::istream& in, std::ostream& out, std::ostream& err);

// wg's warning when genkey/genpsk write to a regular file others can read.
inline constexpr const char* kWorldAccessibleWarning =
    "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n";
// Whether stdout is a regular file with permissions for others (as wg checks).
bool stdout_is_world_accessible();

}  // namespace wgate::cli
