#include "wgate/config/device_sync.hpp"

namespace wgate::config {
namespace {

const PeerConfig* find(const GatewayConfig& config, const crypto::PublicKey& key) {
    for (const auto& p : config.peers)
        if (p.public_key == key) return &p;
    return nullptr;
}

// The settings that reach the Device; the name does not.
bool same_settings(const PeerConfig& a, const PeerConfig& b) {
    return a.allowed_ips == b.allowed_ips && a.endpoint == b.endpoint &&
           a.persistent_keepalive == b.persistent_keepalive && a.preshared_key_file == b.preshared_key_file;
}

}  // namespace

void apply_peer(core::Device& device, const PeerConfig& peer, const crypto::PresharedKey& psk,
                const std::optional<core::Endpoint>& endpoint, core::Now now, core::Outputs& out) {
    core::Peer* p = device.add_peer(peer.public_key);
    if (!p) return;  // our own key: check_gateway_config refuses that earlier
    device.set_preshared_key(*p, psk);
    if (endpoint) device.set_endpoint(*p, *endpoint);
    device.clear_allowed_ips(*p);
    for (const auto& prefix : peer.allowed_ips) device.add_allowed_ip(*p, prefix);
    device.set_persistent_keepalive(*p, peer.persistent_keepalive.value_or(0), now, out);
}

PeerDiff diff_peers(const GatewayConfig& before, const GatewayConfig& after,
                    const std::function<bool(const PeerConfig&)>& psk_changed) {
    PeerDiff diff;
    for (const auto& p : after.peers) {
        if (p.disabled) continue;
        const PeerConfig* old = find(before, p.public_key);
        if (!old || old->disabled)
            diff.added.push_back(&p);
        else if (!same_settings(*old, p) || (psk_changed && psk_changed(p)))
            diff.changed.push_back(&p);
        else if (old->name != p.name)
            diff.renamed.push_back(&p);
    }
    for (const auto& p : before.peers) {
        if (p.disabled) continue;
        const PeerConfig* now = find(after, p.public_key);
        if (!now || now->disabled) diff.removed.push_back(p.public_key);
    }
    return diff;
}

std::vector<PeerConfig> current_peers(const core::Device& device, const PeerNames& names,
                                      const GatewayConfig& previous, const PresharedKeys& known_psks,
                                      const StorePsk& store_psk) {
    std::vector<PeerConfig> peers;
    for (const core::Peer* p : device.peers()) {
        PeerConfig c;
        c.public_key = p->public_key();
        if (const auto it = names.find(c.public_key); it != names.end()) c.name = it->second;
        const PeerConfig* old = find(previous, c.public_key);
        if (old) c.endpoint = old->endpoint;
        c.allowed_ips = device.allowed_ips_of(*p);
        if (p->persistent_keepalive()) c.persistent_keepalive = p->persistent_keepalive();
        if (!p->preshared_key().is_zero())
            c.preshared_key_file = psk_file_for(c, p->preshared_key(), previous, known_psks, store_psk);
        peers.push_back(std::move(c));
    }
    return peers;
}

std::string psk_file_for(const PeerConfig& peer, const crypto::PresharedKey& psk, const GatewayConfig& previous,
                         const PresharedKeys& known_psks, const StorePsk& store_psk) {
    const PeerConfig* old = find(previous, peer.public_key);
    const auto known = known_psks.find(peer.public_key);
    if (old && !old->preshared_key_file.empty() && known != known_psks.end() && known->second == psk)
        return old->preshared_key_file;
    return store_psk(peer, psk);
}

}  // namespace wgate::config
