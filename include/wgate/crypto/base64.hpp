// Keys as `wg` prints them: 44 characters of standard base64 with one '='.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wgate/crypto/secret.hpp"

namespace wgate::crypto {

std::string key_to_base64(const Bytes<kKeySize>& key);
// Rejects anything but exactly 44 characters of canonical base64 decoding to
// 32 bytes (wrong length, bad alphabet, bad padding, non-zero trailing bits).
std::optional<Bytes<kKeySize>> key_from_base64(std::string_view text);

std::string key_to_hex(const Bytes<kKeySize>& key);
// Exactly 64 hex digits, either case (the UAPI uses lower-case hex).
std::optional<Bytes<kKeySize>> key_from_hex(std::string_view text);

}  // namespace wgate::crypto
