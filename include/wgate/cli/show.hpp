// `wgate show` and `wgate peer list`: the interface and its peers as `wg show`
// prints them, plus names, the gateway settings, disabled peers and the reason
// of the last rejected packet; and the same as JSON for scripts.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "wgate/cli/uapi_client.hpp"

namespace wgate::cli {

// As wg: "512 B", "1.23 KiB", "4.56 MiB", "7.89 GiB", "1.00 TiB".
std::string format_bytes(std::uint64_t bytes);
// As wg: "1 year, 2 days, 3 hours, 1 minute, 12 seconds"; "0 seconds" for 0.
std::string format_duration(std::uint64_t seconds);
// "12 seconds ago", "Now", or "in the future (system clock wound backward?)".
std::string format_ago(std::int64_t then, std::int64_t now);

// `now` is the current unix time (injected so tests are fixed). Peers are
// listed as wg lists them: the most recent handshake first, never-handshaked
// last; disabled peers at the end.
std::string render_show(const DeviceInfo& device, std::int64_t now);
// A table: name, public key, addresses, state, latest handshake.
std::string render_peer_list(const DeviceInfo& device, std::int64_t now);

// No private or preshared key values ever: "preshared_key": true/false.
nlohmann::json device_json(const DeviceInfo& device);
nlohmann::json peer_json(const PeerInfo& peer);

}  // namespace wgate::cli
