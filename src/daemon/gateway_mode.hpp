// `wgated --config FILE`: the lab gateway from one YAML file. Wires the
// config layer (load, validate, persist), the host configuration (addresses,
// routes, forwarding, nftables) and the running daemon together.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "wgate/config/device_sync.hpp"
#include "wgate/config/gateway_config.hpp"
#include "wgate/config/persister.hpp"
#include "wgate/io/event_loop.hpp"
#include "wgate/io/gateway_host.hpp"

namespace wgate::daemon {

class GatewayMode : public io::ControlHooks {
public:
    GatewayMode(io::EventLoop& loop, config::GatewayConfig config, config::KeyMaterial keys);
    ~GatewayMode() override;

    // Configures the device and the host. Throws on failure (stop() undoes).
    void start();
    // Writes pending changes and undoes the host configuration.
    void stop();

    // io::ControlHooks
    void append_interface_extension(std::string& out) const override;
    void append_disabled_peers(std::string& out) const override;
    std::optional<control::UapiError> disable_peer(const core::Peer* current,
                                                   const control::PeerChange& config) override;
    std::optional<control::PeerChange> take_disabled_peer(const crypto::PublicKey& key) override;
    std::optional<control::UapiError> check_set(const core::Device& device,
                                                const control::SetRequest& request) const override;

private:
    void load_peers();
    void load_disabled_peers();
    config::PeerConfig to_config(const control::PeerChange& disabled);
    // What the control protocol keeps for a peer the file marks disabled.
    control::PeerChange disabled_entry(const config::PeerConfig& peer, const crypto::PresharedKey& psk) const;
    void configuration_changed();
    void arm_write_timer();
    void write_now();
    void reload();
    void sync_routes();
    io::GatewayHostConfig host_config() const;
    std::optional<core::Endpoint> resolve(const config::PeerConfig& peer) const;
    std::string store_psk(const config::PeerConfig& peer, const crypto::PresharedKey& psk);

    io::EventLoop& loop_;
    config::GatewayConfig config_;
    config::KeyMaterial keys_;
    config::PresharedKeys psks_;  // what the PSK files on disk hold
    std::string current_text_;    // the config file as last read or written
    config::WriteCoalescer writes_;
    boost::asio::steady_timer write_timer_;
    io::GatewayHost host_;
    std::vector<control::PeerChange> disabled_;  // peers kept but not in the Device
    bool started_ = false;
};

}  // namespace wgate::daemon
