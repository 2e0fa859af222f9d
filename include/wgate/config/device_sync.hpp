// Between the gateway config and the running Device: load the configured
// peers into it, tell what a reload changes, and read the peers back out for
// persistence. Pure (no files, no sockets): key material and resolved
// endpoints come in, file writes go out through a callback.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "wgate/config/gateway_config.hpp"
#include "wgate/core/device.hpp"

namespace wgate::config {

using PublicKeyHash = core::Device::KeyHash;
using PeerNames = std::unordered_map<crypto::PublicKey, std::string, PublicKeyHash>;
using PresharedKeys = std::unordered_map<crypto::PublicKey, crypto::PresharedKey, PublicKeyHash>;

// Adds the peer if needed and makes its settings match `peer` (allowed IPs
// replaced, PSK, endpoint if given, keepalive). Sessions are kept.
void apply_peer(core::Device& device, const PeerConfig& peer, const crypto::PresharedKey& psk,
                const std::optional<core::Endpoint>& endpoint, core::Now now, core::Outputs& out);

struct PeerDiff {
    std::vector<const PeerConfig*> added;    // new, or re-enabled
    std::vector<const PeerConfig*> changed;  // same key, different settings (names aside)
    std::vector<crypto::PublicKey> removed;  // gone, or now disabled
    std::vector<const PeerConfig*> renamed;  // only the name differs
};
// What turns `before` into `after` for the Device (disabled peers count as absent).
// `psk_changed` tells whether a peer's PSK file contents differ (the file name may not).
PeerDiff diff_peers(const GatewayConfig& before, const GatewayConfig& after,
                    const std::function<bool(const PeerConfig&)>& psk_changed = {});

// Where a PSK set at runtime is stored: returns the path to put in the
// config (relative to the config file or absolute). May throw.
using StorePsk = std::function<std::string(const PeerConfig& peer, const crypto::PresharedKey& psk)>;

// The peers as they run now, in Device order (disabled peers are not in the
// Device: the caller keeps and appends them). Names come from `names`;
// endpoints and PSK file names from `previous` (a roaming client's address is
// not configuration); a PSK that is not what `known_psks` says is on disk for
// the peer goes through `store_psk`.
std::vector<PeerConfig> current_peers(const core::Device& device, const PeerNames& names,
                                      const GatewayConfig& previous, const PresharedKeys& known_psks,
                                      const StorePsk& store_psk);

// The PSK file name to write for `psk`: `previous`'s file for the peer when
// `known_psks` says it holds exactly this key, else a new one from store_psk.
std::string psk_file_for(const PeerConfig& peer, const crypto::PresharedKey& psk, const GatewayConfig& previous,
                         const PresharedKeys& known_psks, const StorePsk& store_psk);

}  // namespace wgate::config
