// Key text as users and the UAPI give it: base64 (wg genkey) and hex.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wgate/crypto/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* in, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(in), size);
    if (auto key = wgate::crypto::key_from_base64(text)) {
        // Only canonical encodings are accepted, so they round-trip exactly.
        if (wgate::crypto::key_to_base64(*key) != text) std::abort();
    }
    if (auto key = wgate::crypto::key_from_hex(text)) {
        auto back = wgate::crypto::key_from_hex(wgate::crypto::key_to_hex(*key));
        if (!back || *back != *key) std::abort();
    }
    return 0;
}
