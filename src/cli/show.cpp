#include "wgate/cli/show.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "wgate/cli/address_pool.hpp"
#include "wgate/core/events.hpp"

namespace wgate::cli {
namespace {

using nlohmann::json;

std::string join_addresses(const std::vector<InterfaceAddress>& items) {
    std::string s;
    for (const InterfaceAddress& a : items) s += (s.empty() ? "" : ", ") + a.to_string();
    return s;
}

// "bad_mac1 (mac1 invalid: ...)": the daemon's key plus what it means.
std::string describe_reason(const std::string& key) {
    if (const auto reason = core::reason_from_key(key)) return key + " (" + core::to_string(*reason) + ")";
    return key;
}

// wg's order: the most recent handshake first; disabled peers after all others.
std::vector<const PeerInfo*> in_show_order(const DeviceInfo& device) {
    std::vector<const PeerInfo*> peers;
    for (const PeerInfo& p : device.peers) peers.push_back(&p);
    std::stable_sort(peers.begin(), peers.end(), [](const PeerInfo* a, const PeerInfo* b) {
        if (a->disabled != b->disabled) return !a->disabled;
        return a->last_handshake_sec > b->last_handshake_sec;
    });
    return peers;
}

}  // namespace

std::string format_bytes(std::uint64_t b) {
    char buf[64];
    constexpr double k = 1024.0;
    if (b < 1024ULL) {
        std::snprintf(buf, sizeof buf, "%u B", static_cast<unsigned>(b));
    } else if (b < 1024ULL * 1024) {
        std::snprintf(buf, sizeof buf, "%.2f KiB", static_cast<double>(b) / k);
    } else if (b < 1024ULL * 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / (k * k));
    } else if (b < 1024ULL * 1024 * 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (k * k * k));
    } else {
        std::snprintf(buf, sizeof buf, "%.2f TiB", static_cast<double>(b) / (k * k * k * k));
    }
    return buf;
}

std::string format_duration(std::uint64_t left) {
    const std::uint64_t years = left / (365ULL * 24 * 3600);
    left %= 365ULL * 24 * 3600;
    const std::uint64_t days = left / (24 * 3600);
    left %= 24 * 3600;
    const std::uint64_t hours = left / 3600;
    left %= 3600;
    const std::uint64_t minutes = left / 60;
    const std::uint64_t seconds = left % 60;
    std::string s;
    auto part = [&](std::uint64_t n, const char* unit) {
        if (n == 0) return;
        if (!s.empty()) s += ", ";
        s += std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
    };
    part(years, "year");
    part(days, "day");
    part(hours, "hour");
    part(minutes, "minute");
    part(seconds, "second");
    return s.empty() ? "0 seconds" : s;
}

std::string format_ago(std::int64_t then, std::int64_t now) {
    if (now == then) return "Now";
    if (now < then) return "in the future (system clock wound backward; connection problems may ensue)";
    return format_duration(static_cast<std::uint64_t>(now - then)) + " ago";
}

std::string render_show(const DeviceInfo& d, std::int64_t now) {
    std::string s = "interface: " + d.ifname + "\n";
    if (d.public_key) s += "  public key: " + key_text(*d.public_key) + "\n  private key: (hidden)\n";
    if (d.listen_port) s += "  listening port: " + std::to_string(d.listen_port) + "\n";
    if (d.fwmark) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%x", d.fwmark);
        s += std::string("  fwmark: ") + buf + "\n";
    }
    s += "  mode: " + d.mode + (d.config_path.empty() ? "" : " (" + d.config_path + ")") + "\n";
    if (!d.addresses.empty()) s += "  addresses: " + join_addresses(d.addresses) + "\n";
    if (!d.public_endpoint.empty()) s += "  public endpoint: " + d.public_endpoint + "\n";
    if (!d.lan_routes.empty()) s += "  lan routes: " + join(d.lan_routes) + "\n";
    if (!d.dns.empty()) s += "  dns: " + join(d.dns) + "\n";
    if (d.masquerade) {
        s += std::string("  masquerade: ") + (*d.masquerade ? "on" : "off") +
             (d.egress.empty() ? "" : " (egress " + d.egress + ")") + "\n";
    }
    if (d.mtu) s += "  mtu: " + std::to_string(*d.mtu) + "\n";
    if (!d.dropped.empty()) {
        std::string list;
        for (const auto& [key, n] : d.dropped) list += (list.empty() ? "" : ", ") + key + " " + std::to_string(n);
        s += "  dropped: " + list + "\n";
    }
    for (const PeerInfo* p : in_show_order(d)) {
        s += "\npeer: " + key_text(p->public_key) + "\n";
        if (!p->name.empty()) s += "  name: " + p->name + "\n";
        if (p->disabled) s += "  state: disabled (wgate peer enable " + p->label() + ")\n";
        if (p->preshared_key) s += "  preshared key: (hidden)\n";
        if (!p->endpoint.empty()) s += "  endpoint: " + p->endpoint + "\n";
        s += "  allowed ips: " + (p->allowed_ips.empty() ? std::string("(none)") : join(p->allowed_ips)) + "\n";
        if (p->last_handshake_sec) {
            s += "  latest handshake: " + format_ago(p->last_handshake_sec, now) + "\n";
        } else if (!p->disabled && !p->last_rejection.empty()) {
            s += "  last rejection: " + describe_reason(p->last_rejection) + "\n";
        }
        if (p->rx_bytes || p->tx_bytes) {
            s += "  transfer: " + format_bytes(p->rx_bytes) + " received, " + format_bytes(p->tx_bytes) + " sent\n";
        }
        if (p->persistent_keepalive) {
            s += "  persistent keepalive: every " + format_duration(p->persistent_keepalive) + "\n";
        }
    }
    return s;
}

std::string render_peer_list(const DeviceInfo& d, std::int64_t now) {
    struct Row {
        std::string name, key, addresses, state, handshake;
    };
    std::vector<Row> rows;
    rows.push_back({"NAME", "PUBLIC KEY", "ADDRESSES", "STATE", "LATEST HANDSHAKE"});
    for (const PeerInfo& p : d.peers) {
        rows.push_back({p.name.empty() ? "-" : p.name, key_text(p.public_key),
                        p.allowed_ips.empty() ? "-" : join(p.allowed_ips), p.disabled ? "disabled" : "enabled",
                        p.last_handshake_sec ? format_ago(p.last_handshake_sec, now) : "never"});
    }
    // Column widths in characters (names may be UTF-8: count code points).
    auto width = [](const std::string& s) {
        std::size_t n = 0;
        for (const char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
        return n;
    };
    std::size_t w[4] = {};
    for (const Row& r : rows) {
        w[0] = std::max(w[0], width(r.name));
        w[1] = std::max(w[1], width(r.key));
        w[2] = std::max(w[2], width(r.addresses));
        w[3] = std::max(w[3], width(r.state));
    }
    std::string s;
    for (const Row& r : rows) {
        const std::string* cells[4] = {&r.name, &r.key, &r.addresses, &r.state};
        for (int i = 0; i < 4; ++i) s += *cells[i] + std::string(w[i] - width(*cells[i]) + 2, ' ');
        s += r.handshake + "\n";
    }
    return s;
}

json peer_json(const PeerInfo& p) {
    json j;
    j["name"] = p.name.empty() ? json(nullptr) : json(p.name);
    j["public_key"] = key_text(p.public_key);
    j["preshared_key"] = p.preshared_key.has_value();
    j["endpoint"] = p.endpoint.empty() ? json(nullptr) : json(p.endpoint);
    json ips = json::array();
    for (const auto& ip : p.allowed_ips) ips.push_back(to_text(ip));
    j["allowed_ips"] = ips;
    j["latest_handshake"] = p.last_handshake_sec ? json(p.last_handshake_sec) : json(nullptr);
    j["rx_bytes"] = p.rx_bytes;
    j["tx_bytes"] = p.tx_bytes;
    j["persistent_keepalive"] = p.persistent_keepalive;
    j["disabled"] = p.disabled;
    j["last_rejection"] = p.last_rejection.empty() ? json(nullptr) : json(p.last_rejection);
    return j;
}

json device_json(const DeviceInfo& d) {
    json j;
    j["interface"] = d.ifname;
    j["public_key"] = d.public_key ? json(key_text(*d.public_key)) : json(nullptr);
    j["listen_port"] = d.listen_port;
    j["fwmark"] = d.fwmark;
    j["mode"] = d.mode;
    json addresses = json::array();
    for (const auto& a : d.addresses) addresses.push_back(a.to_string());
    j["addresses"] = addresses;
    j["public_endpoint"] = d.public_endpoint.empty() ? json(nullptr) : json(d.public_endpoint);
    json routes = json::array();
    for (const auto& r : d.lan_routes) routes.push_back(to_text(r));
    j["lan_routes"] = routes;
    json dns = json::array();
    for (const auto& a : d.dns) dns.push_back(to_text(a));
    j["dns"] = dns;
    j["keepalive"] = d.keepalive ? json(*d.keepalive) : json(nullptr);
    j["masquerade"] = d.masquerade ? json(*d.masquerade) : json(nullptr);
    j["egress"] = d.egress.empty() ? json(nullptr) : json(d.egress);
    j["config"] = d.config_path.empty() ? json(nullptr) : json(d.config_path);
    j["mtu"] = d.mtu ? json(*d.mtu) : json(nullptr);
    j["dropped"] = json::object();
    for (const auto& [key, n] : d.dropped) j["dropped"][key] = n;
    json peers = json::array();
    for (const PeerInfo& p : d.peers) peers.push_back(peer_json(p));
    j["peers"] = peers;
    return j;
}

}  // namespace wgate::cli
