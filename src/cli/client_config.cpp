#include "wgate/cli/client_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "wgate/cli/address_pool.hpp"
#include "wgate/cli/error.hpp"
#include "wgate/control/uapi.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::cli {
namespace {

using core::IpPrefix;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// wg strips every whitespace character of a line before parsing it.
std::string without_spaces(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    }
    return out;
}

struct NameHint {
    std::string name;
    bool explicit_form = false;  // "Name = x", "### begin x ###": stronger than a plain "# x"
};

// What a comment says about a peer's name, if anything.
std::optional<NameHint> name_from_comment(std::string_view comment) {
    std::string_view text = comment;
    while (!text.empty() && text.front() == '#') text.remove_prefix(1);
    text = trim(text);
    if (text.empty()) return std::nullopt;
    // PiVPN: "### begin laptop ###" ... "### end laptop ###"
    std::string_view stripped = text;
    while (!stripped.empty() && stripped.back() == '#') stripped.remove_suffix(1);
    stripped = trim(stripped);
    const std::string low = lower(stripped);
    if (low.rfind("begin ", 0) == 0) return NameHint{std::string(trim(stripped.substr(6))), true};
    if (low.rfind("end ", 0) == 0 && stripped.size() < text.size()) return std::nullopt;
    // "Name = x", "name: x", "comment=x" (RouterOS), "friendly_name = x"
    const auto sep = text.find_first_of("=:");
    if (sep != std::string_view::npos) {
        const std::string key = lower(trim(text.substr(0, sep)));
        if (key == "name" || key == "comment" || key == "friendly_name" || key == "friendlyname" || key == "peer") {
            return NameHint{std::string(trim(text.substr(sep + 1))), true};
        }
        if (text[sep] == '=') return std::nullopt;  // some other setting, not a name
    }
    return NameHint{std::string(text), false};
}

std::optional<std::string> pick_name(const std::vector<NameHint>& hints, bool plain_allowed) {
    const NameHint* best = nullptr;
    for (const NameHint& h : hints) {
        if (!h.explicit_form && !plain_allowed) continue;
        if (!best || h.explicit_form || !best->explicit_form) best = &h;
    }
    if (!best || best->name.empty()) return std::nullopt;
    return best->name;
}

std::optional<std::uint16_t> parse_u16(std::string_view s) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v > 0xffff) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

bool plausible_endpoint(std::string_view e) {
    const auto colon = e.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const auto port = parse_u16(e.substr(colon + 1));
    if (!port || *port == 0) return false;
    const std::string_view host = e.substr(0, colon);
    if (host.front() == '[') return host.back() == ']' && core::IpAddress::parse(host.substr(1, host.size() - 2));
    return host.find(':') == std::string_view::npos;
}

}  // namespace

std::string render_client_config(const ClientConfig& c) {
    std::string s = "[Interface]\nPrivateKey = ";
    std::string key = crypto::key_to_base64(c.private_key.bytes());
    s += key;
    wipe_string(key);
    s += "\n";
    if (!c.addresses.empty()) s += "Address = " + join(c.addresses) + "\n";
    if (!c.dns.empty()) s += "DNS = " + join(c.dns) + "\n";
    s += "\n[Peer]\nPublicKey = " + crypto::key_to_base64(c.gateway_public_key) + "\n";
    if (c.preshared_key) {
        std::string psk = crypto::key_to_base64(c.preshared_key->bytes());
        s += "PresharedKey = " + psk + "\n";
        wipe_string(psk);
    }
    if (!c.endpoint.empty()) s += "Endpoint = " + c.endpoint + "\n";
    s += "AllowedIPs = " + join(c.allowed_ips) + "\n";
    if (c.persistent_keepalive != 0) s += "PersistentKeepalive = " + std::to_string(c.persistent_keepalive) + "\n";
    return s;
}

std::vector<IpPrefix> client_allowed_ips(const std::vector<IpPrefix>& tunnel_networks,
                                         const std::vector<IpPrefix>& lan_routes, bool full_tunnel) {
    if (full_tunnel) return {*IpPrefix::parse("0.0.0.0/0"), *IpPrefix::parse("::/0")};
    std::vector<IpPrefix> result;
    for (const auto* list : {&tunnel_networks, &lan_routes}) {
        for (const IpPrefix& p : *list) {
            if (std::find(result.begin(), result.end(), p) == result.end()) result.push_back(p);
        }
    }
    return result;
}

WgQuickFile parse_wg_quick(std::string_view text, std::string_view file_name) {
    enum class Section { none, interface, peer };
    WgQuickFile file;
    Section section = Section::none;
    WgQuickPeer* peer = nullptr;
    bool peer_has_key = false;
    bool peer_keys_started = false;  // a key line came after its [Peer]
    std::vector<NameHint> pending;   // comments since the last key or header line
    std::set<crypto::PublicKey> seen;
    int line_no = 0;

    auto where = [&](int line) { return std::string(file_name) + ":" + std::to_string(line) + ": "; };
    auto fail = [&](const std::string& what) { return runtime_error(where(line_no) + what); };
    auto finish_peer = [&] {
        if (peer && !peer_has_key) {
            throw runtime_error(where(peer->line) + "this [Peer] has no PublicKey: add it or delete the section");
        }
    };

    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view raw = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);

        const auto hash = raw.find('#');
        const std::string content = without_spaces(raw.substr(0, hash));
        if (hash != std::string_view::npos && content.empty()) {
            if (auto hint = name_from_comment(raw.substr(hash))) pending.push_back(*hint);
            continue;
        }
        if (content.empty()) continue;

        if (content.front() == '[') {
            const std::string header = lower(content);
            if (section == Section::peer) finish_peer();
            if (header == "[interface]") {
                section = Section::interface;
                file.has_interface = true;
                peer = nullptr;
            } else if (header == "[peer]") {
                section = Section::peer;
                peer = &file.peers.emplace_back();
                peer->line = line_no;
                peer_has_key = false;
                peer_keys_started = false;
                if (auto name = pick_name(pending, true)) peer->name = *name;
            } else {
                throw fail("unknown section " + content + ": expected [Interface] or [Peer]");
            }
            pending.clear();
            continue;
        }

        const auto eq = content.find('=');
        if (eq == std::string::npos || eq == 0) throw fail("expected Key = Value, found \"" + content + "\"");
        const std::string key = lower(std::string_view(content).substr(0, eq));
        std::string value = content.substr(eq + 1);

        if (section == Section::peer && !peer_keys_started) {
            // "[Peer]\n# laptop\nPublicKey = ..." names the peer as well as a comment above it.
            if (peer->name.empty()) {
                if (auto name = pick_name(pending, true)) peer->name = *name;
            }
            peer_keys_started = true;
        }
        pending.clear();

        if (section == Section::none) throw fail("\"" + content + "\" is outside a section: put [Interface] or [Peer] above it");
        if (section == Section::interface) {
            if (key == "privatekey") {
                auto bytes = crypto::key_from_base64(value);
                wipe_string(value);
                if (!bytes) throw fail("PrivateKey is not a valid WireGuard key (44 characters of base64)");
                const crypto::PrivateKey private_key(*bytes);
                crypto::secure_zero(bytes->data(), bytes->size());
                file.interface_public_key = crypto::public_key_of(private_key);
            } else if (key == "listenport") {
                file.listen_port = parse_u16(value);
                if (!file.listen_port) throw fail("ListenPort must be a number from 0 to 65535");
            } else if (key == "address") {
                std::size_t start = 0;
                while (start <= value.size()) {
                    auto comma = value.find(',', start);
                    if (comma == std::string::npos) comma = value.size();
                    if (comma > start) file.interface_addresses.push_back(value.substr(start, comma - start));
                    start = comma + 1;
                }
            } else if (key == "fwmark" || key == "dns" || key == "mtu" || key == "table" || key == "preup" ||
                       key == "postup" || key == "predown" || key == "postdown" || key == "saveconfig") {
                // wg-quick's business on the other machine; nothing to import.
            } else {
                file.warnings.push_back(where(line_no) + "unknown [Interface] key " + content.substr(0, eq) + " ignored");
            }
            continue;
        }

        // [Peer]
        if (key == "publickey") {
            const auto k = crypto::key_from_base64(value);
            if (!k) throw fail("PublicKey is not a valid WireGuard key (44 characters of base64): was the line copied whole?");
            if (!seen.insert(*k).second) throw fail("a second [Peer] with PublicKey " + value + ": delete one of them");
            peer->public_key = *k;
            peer_has_key = true;
        } else if (key == "presharedkey") {
            auto bytes = crypto::key_from_base64(value);
            wipe_string(value);
            if (!bytes) throw fail("PresharedKey is not a valid WireGuard key (44 characters of base64)");
            crypto::PresharedKey psk(*bytes);
            crypto::secure_zero(bytes->data(), bytes->size());
            if (!psk.is_zero()) peer->preshared_key = psk;
        } else if (key == "allowedips") {
            std::size_t start = 0;
            while (start <= value.size()) {
                auto comma = value.find(',', start);
                if (comma == std::string::npos) comma = value.size();
                if (comma > start) {
                    const std::string item = value.substr(start, comma - start);
                    const auto prefix = IpPrefix::parse(item);
                    if (!prefix) throw fail("AllowedIPs entry '" + item + "' is not an address or CIDR prefix");
                    if (std::find(peer->allowed_ips.begin(), peer->allowed_ips.end(), *prefix) == peer->allowed_ips.end())
                        peer->allowed_ips.push_back(*prefix);
                }
                start = comma + 1;
            }
        } else if (key == "endpoint") {
            if (!plausible_endpoint(value)) throw fail("Endpoint '" + value + "' is not HOST:PORT ([IPv6]:PORT)");
            peer->endpoint = value;
        } else if (key == "persistentkeepalive") {
            if (lower(value) == "off") {
                peer->persistent_keepalive = 0;
            } else {
                peer->persistent_keepalive = parse_u16(value);
                if (!peer->persistent_keepalive) throw fail("PersistentKeepalive must be 'off' or 0 to 65535 seconds");
            }
        } else {
            file.warnings.push_back(where(line_no) + "unknown [Peer] key " + content.substr(0, eq) + " ignored");
        }
    }
    if (section == Section::peer) finish_peer();
    return file;
}

}  // namespace wgate::cli
