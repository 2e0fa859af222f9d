// The gateway YAML config: arbitrary text into parse_gateway_config. Anything
// but a ConfigError escaping is a crash. An accepted config must be written
// back (over its own text, keeping comments, and from scratch) as YAML that
// reads back to the same settings: that is what persistence relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wgate/config/gateway_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* in, std::size_t size) {
    using namespace wgate::config;
    // Large inputs only slow the search; the parser's own limit is 64 MiB.
    if (size > (1u << 16)) return 0;
    const std::string_view text(reinterpret_cast<const char*>(in), size);
    GatewayConfig config;
    try {
        config = parse_gateway_config(text, "fuzz.yaml");
    } catch (const ConfigError& e) {
        if (e.message().empty()) std::abort();  // every refusal says what and how to fix it
        return 0;
    }
    try {
        const std::string over_original = render_gateway_config(config, text);
        if (parse_gateway_config(over_original, "fuzz.yaml") != config) std::abort();
        const std::string fresh = render_gateway_config(config, "");
        if (parse_gateway_config(fresh, "fuzz.yaml") != config) std::abort();
    } catch (const ConfigError&) {
        std::abort();  // a config wgated accepted must always be writable
    }
    return 0;
}
