#include "wgate/config/gateway_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <span>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include "gateway_config_yaml.hpp"
#include "wgate/config/key_file.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::config {
namespace {

constexpr std::size_t kMaxConfigSize = 64u << 20;
constexpr std::string_view kExampleHint = "config/gateway.yaml in the wgate sources explains every setting";

// ---------------------------------------------------------------- text helpers

// A value quoted for a message: printable ASCII kept, the rest escaped, long
// values cut, so that hostile input cannot garble a terminal or a log.
std::string quote(std::string_view value) {
    constexpr std::size_t kMaxShown = 80;
    std::string out = "'";
    for (std::size_t i = 0; i < value.size() && i < kMaxShown; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    if (value.size() > kMaxShown) out += "...";
    return out + "'";
}

std::string join(std::span<const std::string_view> items) {
    std::string out;
    for (const auto item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

std::string describe_pool(const std::vector<core::IpPrefix>& pool) {
    std::string out;
    for (const auto& network : pool) {
        if (!out.empty()) out += ", ";
        out += network.to_string();
    }
    return out.empty() ? "empty: interface.addresses has none" : out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// Plain decimal without sign or leading zeros ("0" itself is fine): YAML 1.1
// would read "0755" as octal, so such a value is refused instead of guessed.
std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

// "0x" and 1..8 hex digits, as `wg` prints a fwmark.
std::optional<std::uint64_t> parse_hex(std::string_view text) {
    if (text.size() < 3 || text.size() > 10 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), value, 16);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// The prefix with the host part added, for hints: 10.8.0.0/24 + 1 = 10.8.0.1.
core::IpAddress nth_address(const core::IpPrefix& network, unsigned n) {
    core::IpAddress a = network.address;
    unsigned carry = n;
    for (int i = static_cast<int>(a.bit_length() / 8) - 1; i >= 0 && carry != 0; --i) {
        const unsigned sum = a.bytes[static_cast<std::size_t>(i)] + (carry & 0xff);
        a.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sum);
        carry = (carry >> 8) + (sum >> 8);
    }
    return a;
}

bool prefix_contains(const core::IpPrefix& outer, const core::IpPrefix& inner) {
    return outer.address.family == inner.address.family && outer.cidr <= inner.cidr &&
           core::IpPrefix::make(inner.address, outer.cidr).address == outer.address;
}

bool overlap(const core::IpPrefix& a, const core::IpPrefix& b) { return prefix_contains(a, b) || prefix_contains(b, a); }

bool is_dns_label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// RFC 1123 host names; an all-numeric last label is refused because resolvers
// read "10.1" as an address (inet_aton) rather than a name.
bool valid_host_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    std::size_t start = 0;
    bool last_all_digits = false;
    while (true) {
        const auto dot = name.find('.', start);
        const std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        if (!std::all_of(label.begin(), label.end(), is_dns_label_char)) return false;
        last_all_digits = std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return !last_all_digits;
}

// Valid UTF-8 without control characters: a file name YAML can carry (the
// emitter cannot write invalid UTF-8) and a terminal can show.
bool printable_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        std::uint32_t code = 0;
        if ((c & 0xe0) == 0xc0) {
            length = 2;
            code = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            length = 3;
            code = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            length = 4;
            code = c & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t j = 1; j < length; ++j) {
            const auto next = static_cast<unsigned char>(text[i + j]);
            if ((next & 0xc0) != 0x80) return false;
            code = (code << 6) | (next & 0x3f);
        }
        // Overlong forms, surrogates, beyond Unicode, and C1 controls.
        const std::uint32_t min_code[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < min_code[length] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff ||
            (code >= 0x80 && code <= 0x9f))
            return false;
        i += length;
    }
    return true;
}

}  // namespace

// ---------------------------------------------------------------- value types

ConfigError::ConfigError(std::string file, int line, std::string field, std::string message)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " +
                         (field.empty() ? std::string() : field + ": ") + message),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)),
      message_(std::move(message)) {}

std::string InterfaceAddress::to_string() const { return address.to_string() + "/" + std::to_string(cidr); }

std::optional<InterfaceAddress> InterfaceAddress::parse(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto prefix = core::IpPrefix::parse(text);
    const auto address = core::IpAddress::parse(text.substr(0, slash));
    if (!prefix || !address) return std::nullopt;
    return InterfaceAddress{*address, prefix->cidr};
}

std::string HostPort::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool HostPort::is_literal() const { return core::IpAddress::parse(host).has_value(); }

std::optional<HostPort> HostPort::parse(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    unsigned port = 0;
    std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port == 0 || port > 65535) return std::nullopt;

    HostPort result;
    result.port = static_cast<std::uint16_t>(port);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        const auto address = core::IpAddress::parse(host.substr(1, host.size() - 2));
        if (!address || !address->is_v6()) return std::nullopt;
        result.host = address->to_string();  // canonical, so equal endpoints compare equal
        return result;
    }
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
    if (const auto address = core::IpAddress::parse(host)) {
        result.host = address->to_string();
        return result;
    }
    if (!valid_host_name(host)) return std::nullopt;
    result.host = std::string(host);
    return result;
}

int ConfigSource::line_of(std::string_view field) const {
    std::string key(field);
    while (!key.empty()) {
        if (const auto it = lines.find(key); it != lines.end()) return it->second;
        // "peers[1].allowed_ips[0]" -> "peers[1].allowed_ips" -> "peers[1]" -> "peers"
        const auto cut = key.find_last_of(".[");
        if (cut == std::string::npos) break;
        key.resize(cut);
    }
    return 0;
}

std::vector<core::IpPrefix> GatewayConfig::pool() const {
    std::vector<core::IpPrefix> networks;
    for (const auto& a : interface.addresses) networks.push_back(a.network());
    return networks;
}

bool valid_peer_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxPeerNameLength) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == '@';
    });
}

bool valid_interface_name(std::string_view name) {
    if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '=' ||
               c == '+' || c == '.' || c == '-';
    });
}

std::string resolve_path(const GatewayConfig& config, const std::string& file) {
    const std::filesystem::path path(file);
    if (path.is_absolute()) return path.lexically_normal().string();
    const auto directory = std::filesystem::path(config.source.path).parent_path();
    return (directory / path).lexically_normal().string();
}

// ---------------------------------------------------------------- parsing

namespace detail {
namespace {

int line_of(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string kind_of(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Scalar: return "a single value";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping (key: value lines)";
        default: return "nothing";
    }
}

std::string child(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string item(const std::string& parent, std::size_t index) { return parent + "[" + std::to_string(index) + "]"; }

// The entries of one mapping, by key. Null values count as absent.
class Fields {
public:
    struct Entry {
        YAML::Node key;
        YAML::Node value;
    };

    const Entry* get(std::string_view key) const {
        const auto it = entries_.find(key);
        return it == entries_.end() || it->second.value.IsNull() ? nullptr : &it->second;
    }
    void add(std::string key, Entry entry) { entries_.emplace(std::move(key), std::move(entry)); }

private:
    std::map<std::string, Entry, std::less<>> entries_;
};

class Parser {
public:
    Parser(const std::string& name, std::string_view text, ConfigSource& source)
        : name_(name), text_(text), source_(source) {}

    [[noreturn]] void fail(const YAML::Node& at, const std::string& field, const std::string& message) const {
        throw ConfigError(name_, line_of(at), field, message);
    }

    void note(const std::string& field, const YAML::Node& at) { source_.lines[field] = line_of(at); }

    // Refuses anything but a mapping with plain text keys from `known`, each once.
    Fields fields(const YAML::Node& map, const std::string& field, std::span<const std::string_view> known,
                  const std::string& expected) {
        if (!map.IsMap()) fail(map, field, "expected " + expected + ", found " + kind_of(map));
        Fields result;
        std::set<std::string, std::less<>> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const YAML::Node key = it->first;
            if (!key.IsScalar())
                fail(key, field, "keys must be plain names, found " + kind_of(key) + "; known keys: " + join(known));
            const std::string& text = key.Scalar();
            const std::string path = child(field, text);
            if (std::find(std::begin(known), std::end(known), text) == std::end(known)) {
                std::string hint;
                for (const auto candidate : known) {
                    std::string normalised = text;
                    std::replace(normalised.begin(), normalised.end(), '-', '_');
                    if (normalised == candidate || edit_distance(text, candidate) <= 2) {
                        hint = "did you mean '" + std::string(candidate) + "'? ";
                        break;
                    }
                }
                fail(key, path, "unknown key " + quote(text) + "; " + hint + "known keys here: " + join(known));
            }
            if (!seen.insert(text).second)
                fail(key, path, "is given twice in this mapping; keep one (YAML keys must be unique)");
            // A section or list is found by its key's line; a value by its own.
            note(path, it->second.IsScalar() ? it->second : key);
            result.add(text, {key, it->second});
        }
        return result;
    }

    const YAML::Node& list(const YAML::Node& node, const std::string& field, const std::string& example) {
        if (!node.IsSequence())
            fail(node, field, "expected a list, found " + kind_of(node) + "; write it like " + example);
        return node;
    }

    std::string text(const YAML::Node& node, const std::string& field) {
        if (!node.IsScalar()) fail(node, field, "expected a single value, found " + kind_of(node));
        note(field, node);
        return node.Scalar();
    }

    bool boolean(const YAML::Node& node, const std::string& field) {
        const std::string value = text(node, field);
        if (value == "true" || value == "True" || value == "TRUE") return true;
        if (value == "false" || value == "False" || value == "FALSE") return false;
        fail(node, field, quote(value) + " is not a boolean; write true or false");
    }

    std::uint64_t number(const YAML::Node& node, const std::string& field, std::uint64_t max, const std::string& what) {
        const std::string value = text(node, field);
        const auto n = parse_decimal(value);
        if (!n || *n > max) fail(node, field, quote(value) + " is not " + what);
        return *n;
    }

    std::uint16_t port(const YAML::Node& node, const std::string& field) {
        return static_cast<std::uint16_t>(
            number(node, field, 65535, "a port number; use 1..65535 (51820 is WireGuard's usual port)"));
    }

    std::uint16_t keepalive(const YAML::Node& node, const std::string& field) {
        return static_cast<std::uint16_t>(number(
            node, field, 65535, "a keepalive interval; use seconds 0..65535 (0 = off, 25 keeps NAT mappings open)"));
    }

    crypto::PublicKey public_key(const YAML::Node& node, const std::string& field) {
        const std::string value = text(node, field);
        const auto key = crypto::key_from_base64(value);
        if (!key)
            fail(node, field,
                 quote(value) + " is not a public key; use the 44-character base64 text that `wg pubkey` prints");
        if (crypto::is_zero_ct(key->data(), key->size()))
            fail(node, field, "the all-zero key is a placeholder, not a public key; use the client's `wg pubkey` output");
        return *key;
    }

    // A prefix written in canonical form (host bits zero): "10.8.0.5/24" is
    // refused instead of silently meaning 10.8.0.0/24.
    core::IpPrefix prefix(const YAML::Node& node, const std::string& field, const std::string& example) {
        const std::string value = text(node, field);
        const auto parsed = core::IpPrefix::parse(value);
        if (!parsed)
            fail(node, field, quote(value) + " is not an IP address or network; write it like " + example);
        const auto address = core::IpAddress::parse(std::string_view(value).substr(0, value.find('/')));
        if (address && *address != parsed->address)
            fail(node, field,
                 quote(value) + " has host bits set; write the network as " + parsed->to_string() +
                     " (or a single address as " + address->to_string() + "/" +
                     std::to_string(address->bit_length()) + ")");
        return *parsed;
    }

    HostPort host_port(const YAML::Node& node, const std::string& field, const std::string& example) {
        const std::string value = text(node, field);
        const auto parsed = HostPort::parse(value);
        if (!parsed)
            fail(node, field,
                 quote(value) + " is not host:port; write it like " + example +
                     " (a DNS name or an address, IPv6 in brackets, port 1..65535)");
        return *parsed;
    }

    // yaml-cpp marks an empty list item ("-" and nothing) at the next token,
    // often on the following line: find the '-' line itself in the text.
    int empty_item_line(const YAML::Node& node) const {
        const int marked = line_of(node);
        std::vector<std::string_view> lines;
        for (std::size_t start = 0; start <= text_.size() && lines.size() < static_cast<std::size_t>(marked);) {
            const auto end = text_.find('\n', start);
            lines.push_back(text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
            if (end == std::string_view::npos) break;
            start = end + 1;
        }
        for (std::size_t i = lines.size(); i-- > 0;) {
            std::string_view line = lines[i];
            const auto first = line.find_first_not_of(' ');
            if (first == std::string_view::npos) continue;
            line.remove_prefix(first);
            if (line == "-" || line.starts_with("- #")) return static_cast<int>(i) + 1;
            // The marked line holds the next token; above it only comments may come first.
            if (line.front() != '#' && i + 1 < lines.size()) break;
        }
        return marked;
    }

    [[noreturn]] void fail_at_line(int line, const std::string& field, const std::string& message) const {
        throw ConfigError(name_, line, field, message);
    }

private:
    const std::string& name_;
    std::string_view text_;
    ConfigSource& source_;
};

void parse_interface(Parser& p, const YAML::Node& node, InterfaceConfig& out) {
    const std::string field = "interface";
    const Fields f = p.fields(node, field, kInterfaceKeys, "a mapping of interface settings (name, addresses, ...)");
    if (const auto* e = f.get("name")) out.name = p.text(e->value, "interface.name");
    if (const auto* e = f.get("private_key_file")) {
        out.private_key_file = p.text(e->value, "interface.private_key_file");
        if (out.private_key_file.empty())
            p.fail(e->value, "interface.private_key_file",
                   "is empty; name the gateway's key file (default keys/gateway.key) or remove the line");
    }
    if (const auto* e = f.get("listen_port")) out.listen_port = p.port(e->value, "interface.listen_port");
    if (const auto* e = f.get("mtu"))
        out.mtu = static_cast<std::uint32_t>(
            p.number(e->value, "interface.mtu", 65535, "an MTU; use 1280..9000 (1420 is the usual value)"));
    if (const auto* e = f.get("fwmark")) {
        const std::string value = p.text(e->value, "interface.fwmark");
        auto mark = parse_hex(value);
        if (!mark) mark = parse_decimal(value);
        if (!mark || *mark > 0xffffffffu)
            p.fail(e->value, "interface.fwmark",
                   quote(value) + " is not a firewall mark; use a 32-bit number like 0xca6c or 51820, or remove "
                                  "the line for none");
        out.fwmark = static_cast<std::uint32_t>(*mark);
    }
    if (const auto* e = f.get("addresses")) {
        const std::string list_field = "interface.addresses";
        const auto& list = p.list(e->value, list_field, "[10.8.0.1/24, fd42:8::1/64]");
        std::size_t index = 0;
        for (const auto& element : list) {
            const std::string element_field = item(list_field, index++);
            const std::string value = p.text(element, element_field);
            const auto address = InterfaceAddress::parse(value);
            if (!address)
                p.fail(element, element_field,
                       quote(value) + " is not an address with a prefix length; write it like 10.8.0.1/24 or "
                                      "fd42:8::1/64 (the prefix length defines the client address pool)");
            out.addresses.push_back(*address);
        }
    }
}

void parse_gateway(Parser& p, const YAML::Node& node, GatewaySettings& out) {
    const Fields f = p.fields(node, "gateway", kGatewayKeys, "a mapping of gateway settings (lan_routes, ...)");
    if (const auto* e = f.get("public_endpoint"))
        out.public_endpoint = p.host_port(e->value, "gateway.public_endpoint", "vpn.example.com:51820");
    if (const auto* e = f.get("lan_routes")) {
        const std::string list_field = "gateway.lan_routes";
        std::size_t index = 0;
        for (const auto& element : p.list(e->value, list_field, "[192.168.88.0/24]"))
            out.lan_routes.push_back(p.prefix(element, item(list_field, index++), "192.168.88.0/24"));
    }
    if (const auto* e = f.get("masquerade")) out.masquerade = p.boolean(e->value, "gateway.masquerade");
    if (const auto* e = f.get("egress_interface")) out.egress_interface = p.text(e->value, "gateway.egress_interface");
    if (const auto* e = f.get("client_dns")) {
        const std::string list_field = "gateway.client_dns";
        std::size_t index = 0;
        for (const auto& element : p.list(e->value, list_field, "[192.168.88.1]")) {
            const std::string element_field = item(list_field, index++);
            const std::string value = p.text(element, element_field);
            const auto address = core::IpAddress::parse(value);
            if (!address)
                p.fail(element, element_field,
                       quote(value) + " is not an IP address; list DNS servers by address, like 192.168.88.1");
            out.client_dns.push_back(*address);
        }
    }
    if (const auto* e = f.get("persistent_keepalive"))
        out.persistent_keepalive = p.keepalive(e->value, "gateway.persistent_keepalive");
}

PeerConfig parse_peer(Parser& p, const YAML::Node& node, const std::string& field) {
    if (node.IsNull())
        p.fail_at_line(p.empty_item_line(node), field,
                       "is an empty list item; fill in the peer (name, public_key, allowed_ips) or remove the '-'");
    const Fields f = p.fields(node, field, kPeerKeys, "a peer: a mapping with name, public_key and allowed_ips");
    PeerConfig peer;
    if (const auto* e = f.get("name")) {
        peer.name = p.text(e->value, field + ".name");
        if (peer.name.empty())
            p.fail(e->value, field + ".name", "is empty; give the peer a name like alice-laptop or remove the line");
    }
    const auto* key = f.get("public_key");
    if (!key)
        p.fail(node, field + ".public_key",
               "is missing; add the client's public key (the output of `wg pubkey < client.key`)");
    peer.public_key = p.public_key(key->value, field + ".public_key");
    if (const auto* e = f.get("preshared_key_file")) {
        peer.preshared_key_file = p.text(e->value, field + ".preshared_key_file");
        if (peer.preshared_key_file.empty())
            p.fail(e->value, field + ".preshared_key_file",
                   "is empty; name a file written by `wg genpsk` or remove the line");
    }
    const auto* allowed = f.get("allowed_ips");
    if (!allowed) {
        // `allowed_ips: []` is a peer without addresses, which `wg set` can make.
        p.fail(node, field + ".allowed_ips",
               "is missing; give the peer its tunnel addresses from the pool, e.g. [10.8.0.2/32, fd42:8::2/128]");
    }
    const std::string list_field = field + ".allowed_ips";
    std::size_t index = 0;
    for (const auto& element : p.list(allowed->value, list_field, "[10.8.0.2/32, fd42:8::2/128]"))
        peer.allowed_ips.push_back(p.prefix(element, item(list_field, index++), "10.8.0.2/32"));
    if (const auto* e = f.get("endpoint"))
        peer.endpoint = p.host_port(e->value, field + ".endpoint", "203.0.113.7:51820");
    if (const auto* e = f.get("persistent_keepalive"))
        peer.persistent_keepalive = p.keepalive(e->value, field + ".persistent_keepalive");
    if (const auto* e = f.get("disabled")) peer.disabled = p.boolean(e->value, field + ".disabled");
    return peer;
}

}  // namespace

namespace {

// A first pass over the parser's events, before any node is built: counts
// documents and finds aliases. Aliases are refused because a few bytes of
// them ("peers: [*p, *p, ...]" of a peer with "allowed_ips: [*a, *a, ...]")
// stand for quadratically many settings, and a config needs none.
class Prescan final : public YAML::EventHandler {
public:
    int documents = 0;
    std::optional<YAML::Mark> second_document;
    std::optional<YAML::Mark> alias;

    void OnDocumentStart(const YAML::Mark& mark) override {
        if (++documents == 2) second_document = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
        if (!alias) alias = mark;
    }
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

int line_number(const YAML::Mark& mark) { return mark.line >= 0 ? mark.line + 1 : 0; }

}  // namespace

YAML::Node load_yaml(std::string_view text, const std::string& name) {
    if (text.size() > kMaxConfigSize)
        throw ConfigError(name, 0, "", "is larger than 64 MiB; this is not a gateway config");
    const std::string owned(text);
    try {
        std::istringstream in(owned);
        YAML::Parser parser(in);
        Prescan scan;
        while (scan.documents < 2 && !scan.alias && parser.HandleNextDocument(scan)) {
        }
        if (scan.alias)
            throw ConfigError(name, line_number(*scan.alias), "",
                              "YAML aliases (*name) are not supported in the gateway config; write the value out");
        if (scan.second_document)
            throw ConfigError(name, line_number(*scan.second_document), "",
                              "holds several YAML documents ('---'); keep one document per config file");
        return scan.documents == 0 ? YAML::Node() : YAML::Load(owned);
    } catch (const YAML::Exception& e) {
        throw ConfigError(name, line_number(e.mark), "",
                          "YAML syntax error: " + e.msg +
                              "; check indentation (spaces, not tabs), 'key: value' pairs and '- ' list items");
    }
}

GatewayConfig parse_tree(const YAML::Node& root, const std::string& name, std::string_view text) {
    GatewayConfig config;
    config.source.path = name;
    Parser p(name, text, config.source);
    if (root.IsNull())
        throw ConfigError(name, 1, "",
                          "is empty; it needs at least interface.addresses (" + std::string(kExampleHint) + ")");
    const Fields f = p.fields(root, "", kTopKeys, "a mapping with the sections interface, gateway, peers, persist");
    if (const auto* e = f.get("interface")) parse_interface(p, e->value, config.interface);
    if (const auto* e = f.get("gateway")) parse_gateway(p, e->value, config.gateway);
    if (const auto* e = f.get("peers")) {
        std::size_t index = 0;
        for (const auto& node : p.list(e->value, "peers", "a list of '- name: ...' items")) {
            const std::string field = item("peers", index++);
            p.note(field, node);
            config.peers.push_back(parse_peer(p, node, field));
        }
    }
    if (const auto* e = f.get("persist")) config.persist = p.boolean(e->value, "persist");
    return config;
}

}  // namespace detail

GatewayConfig parse_gateway_config(std::string_view text, const std::string& name) {
    const YAML::Node root = detail::load_yaml(text, name);
    GatewayConfig config;
    try {
        config = detail::parse_tree(root, name, text);
    } catch (const YAML::Exception& e) {
        // yaml-cpp throws on trees it built itself only in corner cases
        // (e.g. an invalid node); report them like syntax errors.
        throw ConfigError(name, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "cannot read the YAML: " + e.msg);
    }
    config.source.text = std::string(text);
    check_gateway_config(config);
    return config;
}

GatewayConfig load_gateway_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError(path, 0, "",
                          std::string("cannot be opened: ") + std::strerror(errno) +
                              "; check the path given to --config");
    std::string text;
    char chunk[65536];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        text.append(chunk, static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxConfigSize)
            throw ConfigError(path, 0, "", "is larger than 64 MiB; this is not a gateway config");
    }
    if (in.bad()) throw ConfigError(path, 0, "", "cannot be read; check the file and the disk");
    return parse_gateway_config(text, path);
}

// ---------------------------------------------------------------- rules between fields

namespace {

class Checker {
public:
    explicit Checker(const GatewayConfig& config)
        : config_(config), name_(config.source.path.empty() ? "(config)" : config.source.path) {}

    [[noreturn]] void refuse(const std::string& field, const std::string& message) const {
        throw ConfigError(name_, config_.source.line_of(field), field, message);
    }

    // " (line 12)" when the field's line is known.
    std::string at(const std::string& field) const {
        const int line = config_.source.line_of(field);
        return line > 0 ? " (line " + std::to_string(line) + ")" : "";
    }

    std::string peer_label(std::size_t index) const {
        const auto& name = config_.peers[index].name;
        return "peers[" + std::to_string(index) + "]" + (name.empty() ? "" : " " + quote(name));
    }

    void run() {
        check_interface();
        check_gateway();
        check_peers();
    }

private:
    void check_interface() {
        const auto& in = config_.interface;
        if (!valid_interface_name(in.name))
            refuse("interface.name", quote(in.name) +
                                         " is not an interface name; use 1..15 letters, digits or _=+.- (e.g. wg0)");
        if (in.private_key_file.empty())
            refuse("interface.private_key_file", "is empty; name the gateway's key file (default keys/gateway.key)");
        if (!printable_utf8(in.private_key_file))
            refuse("interface.private_key_file", quote(in.private_key_file) +
                                                     " contains control characters or invalid UTF-8; name the file "
                                                     "with printable characters");
        if (in.listen_port == 0)
            refuse("interface.listen_port",
                   "0 is not a port laptops can dial; use 1..65535 (51820 is WireGuard's usual port)");
        if (in.addresses.empty())
            refuse("interface.addresses",
                   "needs at least one address; list the gateway's tunnel addresses, e.g. [10.8.0.1/24, "
                   "fd42:8::1/64] (they also define the client address pool)");
        bool has_v6 = false;
        for (std::size_t i = 0; i < in.addresses.size(); ++i) {
            const auto& a = in.addresses[i];
            const std::string field = "interface.addresses[" + std::to_string(i) + "]";
            if (a.address.empty() || a.cidr > a.address.bit_length())
                refuse(field, "is not an address with a prefix length; write it like 10.8.0.1/24");
            has_v6 = has_v6 || a.address.is_v6();
            const core::IpPrefix network = a.network();
            const unsigned bits = a.address.bit_length();
            // Point-to-point (/31, /127) and single-address (/32, /128) networks have no such addresses.
            if (a.cidr + 1u < bits) {
                if (a.address == network.address)
                    refuse(field, quote(a.to_string()) + " is the network address of " + network.to_string() +
                                      "; the gateway needs a host address, e.g. " +
                                      nth_address(network, 1).to_string() + "/" + std::to_string(a.cidr));
                if (a.address.is_v4()) {
                    core::IpAddress broadcast = network.address;  // all host bits set
                    for (unsigned bit = a.cidr; bit < 32; ++bit)
                        broadcast.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
                    if (a.address == broadcast)
                        refuse(field, quote(a.to_string()) + " is the broadcast address of " + network.to_string() +
                                          "; use a host address, e.g. " + nth_address(network, 1).to_string() + "/" +
                                          std::to_string(a.cidr));
                }
            }
            for (std::size_t j = 0; j < i; ++j) {
                if (overlap(in.addresses[j].network(), network))
                    refuse(field, quote(a.to_string()) + " overlaps interface.addresses[" + std::to_string(j) + "] " +
                                      quote(in.addresses[j].to_string()) +
                                      "; use one address per network (the networks form the client address pool)");
            }
        }
        const std::uint32_t min_mtu = has_v6 ? kMinMtuV6 : kMinMtuV4;
        if (in.mtu < min_mtu || in.mtu > kMaxMtu)
            refuse("interface.mtu", std::to_string(in.mtu) + " is out of range; use " + std::to_string(min_mtu) +
                                        ".." + std::to_string(kMaxMtu) +
                                        (has_v6 ? " (IPv6 needs at least 1280)" : "") + "; 1420 is the usual value");
    }

    void check_gateway() {
        const auto& gw = config_.gateway;
        const auto pool = config_.pool();
        for (std::size_t i = 0; i < gw.lan_routes.size(); ++i) {
            const auto& route = gw.lan_routes[i];
            const std::string field = "gateway.lan_routes[" + std::to_string(i) + "]";
            for (std::size_t j = 0; j < i; ++j) {
                if (gw.lan_routes[j] == route)
                    refuse(field, quote(route.to_string()) + " is listed twice (also gateway.lan_routes[" +
                                      std::to_string(j) + "]); remove one");
            }
            for (const auto& network : pool) {
                if (prefix_contains(network, route))
                    refuse(field, quote(route.to_string()) + " lies inside the client address pool (" +
                                      describe_pool(pool) +
                                      "); clients reach the pool through the tunnel already: list only the networks "
                                      "behind the gateway, like 192.168.88.0/24");
            }
        }
        if (gw.egress_interface && !valid_interface_name(*gw.egress_interface))
            refuse("gateway.egress_interface",
                   quote(*gw.egress_interface) +
                       " is not an interface name; use the LAN-side interface as `ip link` shows it (e.g. eth0), "
                       "or remove the line to detect it");
    }

    struct Owned {
        core::IpPrefix prefix;
        std::size_t peer;
        std::size_t index;
    };

    std::string ip_field(std::size_t peer, std::size_t index) const {
        return "peers[" + std::to_string(peer) + "].allowed_ips[" + std::to_string(index) + "]";
    }

    void check_peers() {
        const auto pool = config_.pool();
        std::map<std::string, std::size_t> names;
        std::map<crypto::PublicKey, std::size_t> keys;
        std::vector<Owned> owned;
        for (std::size_t i = 0; i < config_.peers.size(); ++i) {
            const auto& peer = config_.peers[i];
            const std::string field = "peers[" + std::to_string(i) + "]";
            if (!peer.name.empty()) {
                if (!valid_peer_name(peer.name))
                    refuse(field + ".name", quote(peer.name) +
                                                " is not a valid peer name; use 1..64 letters, digits or -_.@ "
                                                "(e.g. alice-laptop)");
                if (const auto [it, fresh] = names.emplace(peer.name, i); !fresh)
                    refuse(field + ".name", quote(peer.name) + " is also the name of peers[" +
                                                std::to_string(it->second) + "]" +
                                                at("peers[" + std::to_string(it->second) + "].name") +
                                                "; names must be unique: rename one");
            }
            if (!printable_utf8(peer.preshared_key_file))
                refuse(field + ".preshared_key_file", quote(peer.preshared_key_file) +
                                                          " contains control characters or invalid UTF-8; name the "
                                                          "file with printable characters");
            if (const auto [it, fresh] = keys.emplace(peer.public_key, i); !fresh)
                refuse(field + ".public_key", "is also the public key of " + peer_label(it->second) +
                                                  at("peers[" + std::to_string(it->second) + "].public_key") +
                                                  "; each client needs its own key pair: remove the duplicate "
                                                  "entry or give this client a new key (wg genkey | wg pubkey)");
            for (std::size_t j = 0; j < peer.allowed_ips.size(); ++j) {
                const auto& ip = peer.allowed_ips[j];
                const bool inside =
                    std::any_of(pool.begin(), pool.end(), [&](const auto& n) { return prefix_contains(n, ip); });
                const bool host = ip.cidr == ip.address.bit_length();
                if (!inside && host)
                    refuse(ip_field(i, j), quote(ip.to_string()) + " is outside the address pool (" +
                                               describe_pool(pool) +
                                               "); use an address inside the pool or widen interface.addresses");
                if (!inside) {
                    // A network behind the peer (a site): routed to it, so it must stay
                    // clear of the pool and of the LAN the gateway serves.
                    for (const auto& n : pool)
                        if (overlap(ip, n))
                            refuse(ip_field(i, j), quote(ip.to_string()) + " overlaps the address pool " +
                                                       n.to_string() + "; a network behind a peer must lie outside "
                                                       "the pool");
                    for (const auto& lan : config_.gateway.lan_routes)
                        if (overlap(ip, lan))
                            refuse(ip_field(i, j), quote(ip.to_string()) + " overlaps the LAN route " +
                                                       lan.to_string() + "; a peer cannot own the gateway's LAN");
                }
                for (const auto& own : config_.interface.addresses) {
                    if (ip.contains(own.address))
                        refuse(ip_field(i, j),
                               quote(ip.to_string()) + " contains the gateway's own address " +
                                   own.address.to_string() + "; give the peer addresses of its own, e.g. " +
                                   nth_address(own.network(), 2).to_string() + "/" +
                                   std::to_string(own.address.bit_length()));
                }
                owned.push_back({ip, i, j});
            }
        }
        check_overlaps(std::move(owned));
    }

    // Sorted by address then prefix length, a prefix comes right before the
    // prefixes it contains, so one pass with a stack of the enclosing
    // prefixes finds every containment in O(n log n), even for the thousands
    // of allowed IPs a large `wg setconf` brings.
    void check_overlaps(std::vector<Owned> owned) {
        std::sort(owned.begin(), owned.end(), [](const Owned& a, const Owned& b) {
            if (a.prefix != b.prefix) return a.prefix < b.prefix;
            return std::tie(a.peer, a.index) < std::tie(b.peer, b.index);
        });
        std::vector<const Owned*> enclosing;
        for (const auto& current : owned) {
            while (!enclosing.empty() && !prefix_contains(enclosing.back()->prefix, current.prefix))
                enclosing.pop_back();
            // Only the innermost enclosing prefix needs a look: the ones below it
            // belong to its peer too, or that containment was refused already.
            if (!enclosing.empty()) {
                const Owned* outer = enclosing.back();
                // Report at the entry that comes later in the file.
                const Owned* later = &current;
                const Owned* earlier = outer;
                if (std::tie(outer->peer, outer->index) > std::tie(current.peer, current.index))
                    std::swap(later, earlier);
                if (outer->peer != current.peer) {
                    refuse(ip_field(later->peer, later->index),
                           quote(later->prefix.to_string()) + " overlaps " + quote(earlier->prefix.to_string()) +
                               " of " + peer_label(earlier->peer) + at(ip_field(earlier->peer, earlier->index)) +
                               "; every address must belong to one peer: give each peer its own addresses");
                }
                if (outer->prefix == current.prefix)
                    refuse(ip_field(later->peer, later->index),
                           quote(later->prefix.to_string()) + " is listed twice for this peer; remove one");
            }
            enclosing.push_back(&current);
        }
    }

    const GatewayConfig& config_;
    std::string name_;
};

}  // namespace

void check_gateway_config(const GatewayConfig& config) { Checker(config).run(); }

// ---------------------------------------------------------------- key files

KeyMaterial validate_files(const GatewayConfig& config) {
    const std::string name = config.source.path.empty() ? "(config)" : config.source.path;
    const auto refuse = [&](const std::string& field, const std::string& message) {
        throw ConfigError(name, config.source.line_of(field), field, message);
    };

    KeyMaterial keys;
    keys.private_key_path = resolve_path(config, config.interface.private_key_file);
    try {
        keys.private_key = read_key_file(keys.private_key_path, KeyKind::private_key);
    } catch (const KeyFileError& e) {
        if (e.kind() != KeyFileError::Kind::missing) refuse("interface.private_key_file", e.what());
        // First start: the daemon generates the key, if it can write there.
        std::string directory = std::filesystem::path(keys.private_key_path).parent_path().string();
        if (directory.empty()) directory = ".";
        struct stat st {};
        const bool writable = ::stat(directory.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
                              ::access(directory.c_str(), W_OK | X_OK) == 0;
        if (!writable)
            refuse("interface.private_key_file",
                   keys.private_key_path + " does not exist and cannot be generated: directory " + directory +
                       " does not exist or is not writable; create the directory (mkdir -m 700 " + directory +
                       ") or the key (wg genkey > " + keys.private_key_path + " && chmod 600 " +
                       keys.private_key_path + ")");
        keys.notes.push_back("interface.private_key_file: " + keys.private_key_path +
                             " does not exist yet; wgated will generate it (mode 0600) at start");
    }

    std::optional<crypto::PublicKey> own_public;
    if (keys.private_key) own_public = crypto::public_key_of(*keys.private_key);
    keys.preshared_keys.reserve(config.peers.size());
    for (std::size_t i = 0; i < config.peers.size(); ++i) {
        const auto& peer = config.peers[i];
        const std::string field = "peers[" + std::to_string(i) + "]";
        if (own_public && peer.public_key == *own_public)
            refuse(field + ".public_key",
                   "is the gateway's own public key (from " + keys.private_key_path +
                       "); a peer entry needs the client's key: wg pubkey < client.key");
        if (peer.preshared_key_file.empty()) {
            keys.preshared_keys.emplace_back();
            continue;
        }
        try {
            keys.preshared_keys.emplace_back(
                read_key_file(resolve_path(config, peer.preshared_key_file), KeyKind::preshared_key));
        } catch (const KeyFileError& e) {
            refuse(field + ".preshared_key_file", e.what());
        }
    }
    return keys;
}

}  // namespace wgate::config
