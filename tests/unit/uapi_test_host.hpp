// A control::Host for tests that does what the gateway daemon does with the
// wgate extension: keeps names, writes gateway lines for get=wgate, and keeps
// disabled peers (in memory, in the order they were disabled).
#pragma once

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wgate/control/uapi.hpp"

namespace wgate::test {

class TestHost : public control::Host {
public:
    std::uint16_t listen_port() const override { return port; }
    std::optional<control::UapiError> set_listen_port(std::uint16_t p) override {
        if (busy_port && *busy_port == p) return control::UapiError{EADDRINUSE, "address in use"};
        port = p;
        return std::nullopt;
    }
    std::uint32_t fwmark() const override { return mark; }
    std::optional<control::UapiError> set_fwmark(std::uint32_t m) override {
        mark = m;
        return std::nullopt;
    }
    std::optional<std::string> peer_name(const crypto::PublicKey& k) const override {
        const auto it = names.find(k);
        if (it == names.end()) return std::nullopt;
        return it->second;
    }
    void set_peer_name(const crypto::PublicKey& k, const std::optional<std::string>& name) override {
        if (name) {
            names[k] = *name;
        } else {
            names.erase(k);
        }
    }

    void append_interface_extension(std::string& out) const override { out += extension_lines; }
    void append_disabled_peers(std::string& out) const override {
        for (const control::PeerChange& c : disabled) control::append_disabled_peer(out, c);
    }
    std::optional<control::UapiError> disable_peer(const core::Peer* current, const control::PeerChange& config) override {
        ++disable_calls;
        if (!supports_disable) return control::Host::disable_peer(current, config);
        if (refuse_disable && *refuse_disable == config.public_key) return control::UapiError{EPERM, "refused"};
        last_disable_had_current = current != nullptr;
        auto it = find(config.public_key);
        if (it != disabled.end()) {
            *it = config;
        } else {
            disabled.push_back(config);
        }
        names.erase(config.public_key);  // the name lives in the kept configuration now
        return std::nullopt;
    }
    std::optional<control::PeerChange> take_disabled_peer(const crypto::PublicKey& key) override {
        auto it = find(key);
        if (it == disabled.end()) return std::nullopt;
        control::PeerChange c = std::move(*it);
        disabled.erase(it);
        return c;
    }

    const control::PeerChange* kept(const crypto::PublicKey& key) const {
        const auto it = std::find_if(disabled.begin(), disabled.end(),
                                     [&](const control::PeerChange& c) { return c.public_key == key; });
        return it == disabled.end() ? nullptr : &*it;
    }

    std::uint16_t port = 0;
    std::uint32_t mark = 0;
    std::optional<std::uint16_t> busy_port;
    std::map<crypto::PublicKey, std::string> names;
    std::string extension_lines;  // what append_interface_extension writes
    bool supports_disable = true;
    std::optional<crypto::PublicKey> refuse_disable;
    int disable_calls = 0;
    bool last_disable_had_current = false;
    std::vector<control::PeerChange> disabled;

private:
    std::vector<control::PeerChange>::iterator find(const crypto::PublicKey& key) {
        return std::find_if(disabled.begin(), disabled.end(),
                            [&](const control::PeerChange& c) { return c.public_key == key; });
    }
};

}  // namespace wgate::test
