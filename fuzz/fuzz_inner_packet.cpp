// Decrypted packets are attacker-controlled bytes: the IP header check, and
// address/prefix/endpoint parsing of user text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "wgate/core/endpoint.hpp"
#include "wgate/core/inner_packet.hpp"
#include "wgate/core/ip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* in, std::size_t size) {
    if (auto h = wgate::core::parse_inner_header({in, size})) {
        if (h->length > size) std::abort();
    }
    const std::string_view text(reinterpret_cast<const char*>(in), size);
    if (auto p = wgate::core::IpPrefix::parse(text)) {
        auto again = wgate::core::IpPrefix::parse(p->to_string());
        if (!again || *again != *p) std::abort();
    }
    if (auto e = wgate::core::Endpoint::parse(text)) {
        auto again = wgate::core::Endpoint::parse(e->to_string());
        if (!again || !again->same_remote(*e)) std::abort();
    }
    return 0;
}
