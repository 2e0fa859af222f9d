#include "gateway_mode.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "wgate/config/atomic_file.hpp"
#include "wgate/config/key_file.hpp"
#include "wgate/crypto/base64.hpp"

namespace wgate::daemon {
namespace {

using boost::system::error_code;

bool overlaps(const core::IpPrefix& a, const core::IpPrefix& b) {
    if (a.address.family != b.address.family) return false;
    return a.cidr <= b.cidr ? a.contains(b.address) : b.contains(a.address);
}

bool inside(const core::IpPrefix& p, const core::IpPrefix& pool) {
    return p.address.family == pool.address.family && pool.cidr <= p.cidr && pool.contains(p.address);
}

// The PSK each peer's file holds, by public key (peers without one absent).
config::PresharedKeys psks_of(const config::GatewayConfig& config, const config::KeyMaterial& keys) {
    config::PresharedKeys psks;
    for (std::size_t i = 0; i < config.peers.size(); ++i)
        if (i < keys.preshared_keys.size() && keys.preshared_keys[i])
            psks[config.peers[i].public_key] = *keys.preshared_keys[i];
    return psks;
}

// A peer's PSK from such a map; all zero (no PSK) when absent.
crypto::PresharedKey psk_of(const config::PresharedKeys& psks, const crypto::PublicKey& key) {
    const auto it = psks.find(key);
    return it == psks.end() ? crypto::PresharedKey{} : it->second;
}

std::string psk_file_name(const config::PeerConfig& peer) {
    if (!peer.name.empty()) return "keys/" + peer.name + ".psk";
    std::string b64 = crypto::key_to_base64(peer.public_key).substr(0, 8);
    for (char& c : b64)
        if (c == '/' || c == '+') c = '_';
    return "keys/peer-" + b64 + ".psk";
}

}  // namespace

GatewayMode::GatewayMode(io::EventLoop& loop, config::GatewayConfig config, config::KeyMaterial keys)
    : loop_(loop),
      config_(std::move(config)),
      keys_(std::move(keys)),
      current_text_(config_.source.text),
      write_timer_(loop.io()),
      host_(loop.logger()) {}

GatewayMode::~GatewayMode() { stop(); }

io::GatewayHostConfig GatewayMode::host_config() const {
    io::GatewayHostConfig h;
    h.ifname = config_.interface.name;
    h.ifindex = static_cast<int>(if_nametoindex(h.ifname.c_str()));
    h.mtu = config_.interface.mtu;
    for (const auto& a : config_.interface.addresses) h.addresses.push_back({a.address, a.cidr});
    h.lan_routes = config_.gateway.lan_routes;
    h.masquerade = config_.gateway.masquerade;
    h.egress_interface = config_.gateway.egress_interface.value_or("");
    return h;
}

std::optional<core::Endpoint> GatewayMode::resolve(const config::PeerConfig& peer) const {
    if (!peer.endpoint) return std::nullopt;
    if (auto literal = core::Endpoint::parse(peer.endpoint->to_string())) return literal;
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* result = nullptr;
    const std::string port = std::to_string(peer.endpoint->port);
    if (getaddrinfo(peer.endpoint->host.c_str(), port.c_str(), &hints, &result) != 0 || !result) {
        loop_.logger().error("Cannot resolve endpoint {} of peer {}: the peer must reach us first",
                             peer.endpoint->to_string(), peer.name);
        return std::nullopt;
    }
    core::Endpoint e;
    if (result->ai_family == AF_INET) {
        const auto* sa = reinterpret_cast<const sockaddr_in*>(result->ai_addr);
        e.address = core::IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&sa->sin_addr));
    } else {
        const auto* sa = reinterpret_cast<const sockaddr_in6*>(result->ai_addr);
        e.address = core::IpAddress::v6(reinterpret_cast<const std::uint8_t*>(&sa->sin6_addr));
    }
    e.port = peer.endpoint->port;
    freeaddrinfo(result);
    return e;
}

void GatewayMode::load_peers() {
    psks_ = psks_of(config_, keys_);
    loop_.with_device([&](core::Device& device, core::Now now, core::Outputs& out) {
        for (const auto& peer : config_.peers) {
            const crypto::PresharedKey psk = psk_of(psks_, peer.public_key);
            if (peer.disabled) {
                disabled_.push_back(disabled_entry(peer, psk));
                continue;
            }
            if (!peer.name.empty()) loop_.set_peer_name(peer.public_key, peer.name);
            config::apply_peer(device, peer, psk, resolve(peer), now, out);
        }
    });
}

void GatewayMode::start() {
    started_ = true;
    // A wgated killed while saving leaves its temporary file next to the
    // config (or a key file it was writing): remove those before any write.
    std::vector<std::string> written{config_.source.path, keys_.private_key_path};
    for (const auto& peer : config_.peers)
        if (!peer.preshared_key_file.empty()) written.push_back(config::resolve_path(config_, peer.preshared_key_file));
    for (const auto& path : written)
        if (const std::size_t n = config::remove_stale_temporaries(path))
            loop_.logger().warn("Removed {} temporary file(s) left next to {} by a wgated that was killed while saving",
                                n, path);
    loop_.with_device([&](core::Device& device, core::Now, core::Outputs&) {
        device.set_private_key(*keys_.private_key);
    });
    if (config_.interface.fwmark)
        if (auto err = loop_.set_fwmark(*config_.interface.fwmark)) throw std::runtime_error(err->message);
    load_peers();
    loop_.set_control_hooks(this);
    host_.start(host_config());
    sync_routes();
    loop_.on_configuration_changed = [this] { configuration_changed(); };
    loop_.on_reload = [this] { reload(); };
    loop_.logger().info("Gateway {} is up: {} peers, LAN {}", config_.interface.name, config_.peers.size(),
                        config_.gateway.lan_routes.empty() ? std::string("(none)")
                                                           : config_.gateway.lan_routes.front().to_string());
}

void GatewayMode::sync_routes() {
    std::vector<core::IpPrefix> all;
    for (const auto* p : loop_.device().peers()) {
        auto prefixes = loop_.device().allowed_ips_of(*p);
        all.insert(all.end(), prefixes.begin(), prefixes.end());
    }
    try {
        host_.sync_routes(all);
    } catch (const std::exception& e) {
        loop_.logger().error("Updating routes failed: {}", e.what());
    }
}

void GatewayMode::configuration_changed() {
    sync_routes();
    if (!config_.persist) return;
    writes_.mark_dirty(io::now().mono);
    arm_write_timer();
}

void GatewayMode::arm_write_timer() {
    const auto deadline = writes_.deadline();
    if (!deadline) return;
    write_timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(*deadline)));
    write_timer_.async_wait([this](error_code ec) {
        if (ec) return;
        if (writes_.due(io::now().mono))
            write_now();
        else
            arm_write_timer();
    });
}

std::string GatewayMode::store_psk(const config::PeerConfig& peer, const crypto::PresharedKey& psk) {
    const std::string relative = psk_file_name(peer);
    const std::string path = config::resolve_path(config_, relative);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    config::write_key_file(path, psk, /*replace=*/true);
    psks_[peer.public_key] = psk;
    return relative;
}

void GatewayMode::write_now() {
    try {
        config::GatewayConfig next = config_;
        next.peers = config::current_peers(loop_.device(), loop_.peer_names(), config_, psks_,
                                           [this](const config::PeerConfig& p, const crypto::PresharedKey& k) {
                                               return store_psk(p, k);
                                           });
        for (const auto& d : disabled_) next.peers.push_back(to_config(d));
        current_text_ = config::save_gateway_config(config_.source.path, next, current_text_);
        next.source.text = current_text_;
        config_ = std::move(next);
        writes_.mark_written();
        loop_.logger().info("Saved {} peers to {}", config_.peers.size(), config_.source.path);
    } catch (const std::exception& e) {
        writes_.mark_failed(io::now().mono);
        loop_.logger().error("Saving {} failed: {}", config_.source.path, e.what());
        arm_write_timer();
    }
}

void GatewayMode::reload() {
    // Unsaved runtime changes first, so the file we read includes them.
    if (writes_.dirty()) write_now();
    config::GatewayConfig next;
    config::KeyMaterial keys;
    try {
        next = config::load_gateway_config(config_.source.path);
        keys = config::validate_files(next);
    } catch (const std::exception& e) {
        loop_.logger().error("Reload refused, keeping the running configuration: {}", e.what());
        return;
    }
    config::PresharedKeys next_psks = psks_of(next, keys);
    const auto diff = config::diff_peers(config_, next, [&](const config::PeerConfig& p) {
        return !(psk_of(psks_, p.public_key) == psk_of(next_psks, p.public_key));
    });
    loop_.with_device([&](core::Device& device, core::Now now, core::Outputs& out) {
        for (const auto& key : diff.removed) device.remove_peer(key);
        for (const auto* list : {&diff.added, &diff.changed})
            for (const auto* p : *list)
                config::apply_peer(device, *p, psk_of(next_psks, p->public_key), resolve(*p), now, out);
    });
    for (const auto& key : diff.removed) loop_.set_peer_name(key, std::nullopt);
    for (const auto& p : next.peers)
        if (!p.disabled) loop_.set_peer_name(p.public_key, p.name);
    if (next.interface.listen_port != config_.interface.listen_port)
        if (auto err = loop_.set_listen_port(next.interface.listen_port)) loop_.logger().error("{}", err->message);
    if (next.interface.fwmark != config_.interface.fwmark)
        if (auto err = loop_.set_fwmark(next.interface.fwmark.value_or(0))) loop_.logger().error("{}", err->message);
    const bool lan_changed = next.gateway.lan_routes != config_.gateway.lan_routes ||
                             next.gateway.masquerade != config_.gateway.masquerade ||
                             next.gateway.egress_interface != config_.gateway.egress_interface;
    if (next.interface.addresses != config_.interface.addresses || next.interface.mtu != config_.interface.mtu ||
        next.interface.name != config_.interface.name)
        loop_.logger().error("Interface name, addresses and MTU change only on restart; the rest was applied");
    psks_ = std::move(next_psks);
    keys_ = std::move(keys);
    current_text_ = next.source.text;
    config_ = std::move(next);
    disabled_.clear();
    for (const auto& peer : config_.peers)
        if (peer.disabled) disabled_.push_back(disabled_entry(peer, psk_of(psks_, peer.public_key)));
    if (lan_changed) {
        try {
            host_.update_nat(host_config());
        } catch (const std::exception& e) {
            loop_.logger().error("Updating nftables failed: {}", e.what());
        }
    }
    sync_routes();
    loop_.logger().info("Reloaded: {} added, {} changed, {} removed, {} renamed", diff.added.size(),
                        diff.changed.size(), diff.removed.size(), diff.renamed.size());
}

control::PeerChange GatewayMode::disabled_entry(const config::PeerConfig& peer, const crypto::PresharedKey& psk) const {
    control::PeerChange kept;
    kept.public_key = peer.public_key;
    if (!peer.name.empty()) kept.name = peer.name;
    if (!psk.is_zero()) kept.preshared_key = psk;
    kept.endpoint = resolve(peer);
    kept.persistent_keepalive = peer.persistent_keepalive;
    kept.allowed_ips = peer.allowed_ips;
    return kept;
}

config::PeerConfig GatewayMode::to_config(const control::PeerChange& d) {
    config::PeerConfig c;
    c.public_key = d.public_key;
    c.name = d.name.value_or("");
    c.allowed_ips = d.allowed_ips;
    c.disabled = true;
    if (d.persistent_keepalive && *d.persistent_keepalive) c.persistent_keepalive = d.persistent_keepalive;
    // The configured endpoint if the file had one, else what the peer was using.
    for (const auto& p : config_.peers)
        if (p.public_key == d.public_key) c.endpoint = p.endpoint;
    if (!c.endpoint && d.endpoint) c.endpoint = config::HostPort::parse(d.endpoint->to_string());
    if (d.preshared_key && !d.preshared_key->is_zero())
        c.preshared_key_file = config::psk_file_for(c, *d.preshared_key, config_, psks_,
                                                    [this](const config::PeerConfig& p, const crypto::PresharedKey& k) {
                                                        return store_psk(p, k);
                                                    });
    return c;
}

void GatewayMode::append_interface_extension(std::string& out) const {
    out += "wgate_mode=gateway\n";
    for (const auto& a : config_.interface.addresses) out += "wgate_address=" + a.to_string() + "\n";
    if (config_.gateway.public_endpoint)
        out += "wgate_public_endpoint=" + config_.gateway.public_endpoint->to_string() + "\n";
    for (const auto& r : config_.gateway.lan_routes) out += "wgate_lan_route=" + r.to_string() + "\n";
    for (const auto& d : config_.gateway.client_dns) out += "wgate_dns=" + d.to_string() + "\n";
    out += "wgate_keepalive=" + std::to_string(config_.gateway.persistent_keepalive) + "\n";
    out += std::string("wgate_masquerade=") + (config_.gateway.masquerade ? "true" : "false") + "\n";
    if (!host_.egress_interface().empty()) out += "wgate_egress=" + host_.egress_interface() + "\n";
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(config_.source.path, ec);
    out += "wgate_config=" + (ec ? config_.source.path : absolute.string()) + "\n";
    out += "wgate_mtu=" + std::to_string(loop_.device().mtu()) + "\n";
}

void GatewayMode::append_disabled_peers(std::string& out) const {
    for (const auto& d : disabled_) control::append_disabled_peer(out, d);
}

std::optional<control::UapiError> GatewayMode::disable_peer(const core::Peer*, const control::PeerChange& config) {
    std::erase_if(disabled_, [&](const control::PeerChange& d) { return d.public_key == config.public_key; });
    disabled_.push_back(config);
    loop_.set_peer_name(config.public_key, std::nullopt);
    return std::nullopt;
}

std::optional<control::PeerChange> GatewayMode::take_disabled_peer(const crypto::PublicKey& key) {
    const auto it = std::find_if(disabled_.begin(), disabled_.end(),
                                 [&](const control::PeerChange& d) { return d.public_key == key; });
    if (it == disabled_.end()) return std::nullopt;
    control::PeerChange taken = std::move(*it);
    disabled_.erase(it);
    return taken;
}

std::optional<control::UapiError> GatewayMode::check_set(const core::Device& device,
                                                         const control::SetRequest& request) const {
    const auto refuse = [&](const std::string& why) -> std::optional<control::UapiError> {
        loop_.logger().error("Refused a change through the control socket: {}", why);
        return control::UapiError{EINVAL, why};
    };
    const auto removed = [&](const crypto::PublicKey& key) {
        if (request.replace_peers) return true;
        return std::any_of(request.peers.begin(), request.peers.end(),
                           [&](const control::PeerChange& c) { return c.remove && c.public_key == key; });
    };
    // Everyone else's prefixes and names as they will be, with their owners.
    std::vector<std::pair<crypto::PublicKey, core::IpPrefix>> taken;
    std::vector<std::pair<crypto::PublicKey, std::string>> names;
    for (const auto* p : device.peers()) {
        if (removed(p->public_key())) continue;
        for (const auto& prefix : device.allowed_ips_of(*p)) taken.emplace_back(p->public_key(), prefix);
        if (const auto it = loop_.peer_names().find(p->public_key()); it != loop_.peer_names().end())
            names.emplace_back(p->public_key(), it->second);
    }
    for (const auto& d : disabled_) {
        if (removed(d.public_key)) continue;
        for (const auto& prefix : d.allowed_ips) taken.emplace_back(d.public_key, prefix);
        if (d.name) names.emplace_back(d.public_key, *d.name);
    }
    const auto pool = config_.pool();
    std::string pool_text;
    for (const auto& p : pool) pool_text += (pool_text.empty() ? "" : ", ") + p.to_string();
    for (const auto& change : request.peers) {
        if (change.remove) continue;
        const std::string who = change.name ? *change.name : crypto::key_to_base64(change.public_key);
        if (change.name && !change.name->empty()) {
            if (!config::valid_peer_name(*change.name))
                return refuse("peer name '" + *change.name + "': use 1-64 letters, digits, '-', '_', '.', '@'");
            for (const auto& [key, name] : names)
                if (name == *change.name && key != change.public_key)
                    return refuse("peer name '" + *change.name + "' is already used");
            names.emplace_back(change.public_key, *change.name);
        }
        for (const auto& prefix : change.allowed_ips) {
            // The file's pool rule (gateway_config.hpp), so whatever is accepted can be saved.
            const bool in_pool = std::any_of(pool.begin(), pool.end(), [&](const auto& n) { return inside(prefix, n); });
            if (!in_pool && prefix.cidr == prefix.address.bit_length())
                return refuse("allowed IP " + prefix.to_string() + " of " + who + " is outside the address pool (" +
                              pool_text + ")");
            if (!in_pool) {
                for (const auto& n : pool)
                    if (overlaps(prefix, n))
                        return refuse("allowed IP " + prefix.to_string() + " of " + who + " overlaps the pool " +
                                      n.to_string());
                for (const auto& lan : config_.gateway.lan_routes)
                    if (overlaps(prefix, lan))
                        return refuse("allowed IP " + prefix.to_string() + " of " + who + " overlaps the LAN route " +
                                      lan.to_string());
            }
            for (const auto& a : config_.interface.addresses)
                if (prefix.contains(a.address))
                    return refuse("allowed IP " + prefix.to_string() + " of " + who +
                                  " contains the gateway's own address " + a.address.to_string());
            for (const auto& [key, other] : taken)
                if (key != change.public_key && overlaps(prefix, other))
                    return refuse("allowed IP " + prefix.to_string() + " of " + who + " overlaps " +
                                  other.to_string() + " of another peer");
        }
        for (const auto& prefix : change.allowed_ips) taken.emplace_back(change.public_key, prefix);
    }
    return std::nullopt;
}

void GatewayMode::stop() {
    if (!started_) return;
    started_ = false;
    write_timer_.cancel();
    if (writes_.dirty()) write_now();
    host_.stop();
}

}  // namespace wgate::daemon
