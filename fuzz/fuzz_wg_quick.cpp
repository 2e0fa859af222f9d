// What `wgate` parses from outside: wg-quick files (`wgate import`) and get
// answers of a daemon (`wgate show`). Neither may crash, and whatever a file
// gives is well-formed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wgate/cli/client_config.hpp"
#include "wgate/cli/error.hpp"
#include "wgate/cli/uapi_client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* in, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(in), size);
    try {
        const wgate::cli::WgQuickFile file = wgate::cli::parse_wg_quick(text, "fuzz.conf");
        for (const auto& peer : file.peers) {
            if (peer.line <= 0) std::abort();
            if (peer.name.size() > size) std::abort();
        }
    } catch (const wgate::cli::CliError&) {
    }
    try {
        (void)wgate::cli::parse_get_reply(text, "wg0");
    } catch (const wgate::cli::CliError&) {
    }
    return 0;
}
