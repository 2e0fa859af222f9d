#include "wgate/control/uapi.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include "wgate/core/events.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::control {
namespace {

using core::Device;
using core::Endpoint;
using core::IpAddress;
using core::IpPrefix;
using core::Peer;

constexpr std::size_t kMaxCommandBytes = 64;  // longer than any command we know

UapiError invalid(std::string message) { return UapiError{EINVAL, std::move(message)}; }

// A buffered line may hold a private or preshared key.
void wipe(std::string& s) {
    crypto::secure_zero(s.data(), s.size());
    s.clear();
}

// strconv.ParseUint(value, 10, bits) as wireguard-go calls it: plain decimal
// digits (any number of leading zeros), no sign, no spaces, not empty.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max) {
    if (text.empty()) return std::nullopt;
    std::uint64_t value = 0;
    bool too_big = false;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        if (!too_big) {
            value = value * 10 + static_cast<std::uint64_t>(c - '0');  // value <= max < 2^60 before this
            too_big = value > max;
        }
    }
    if (too_big) return std::nullopt;
    return value;
}

// netip.ParsePrefix of Go >= 1.22: an address without zone, '/', and a prefix
// length of plain decimal digits with no leading zero (except "0" itself).
std::optional<IpPrefix> parse_allowed_ip(std::string_view text) {
    const auto slash = text.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    const std::string_view bits = text.substr(slash + 1);
    if (bits.size() > 1 && bits.front() == '0') return std::nullopt;
    const auto cidr = parse_decimal(bits, address->bit_length());
    if (!cidr) return std::nullopt;
    return IpPrefix::make(*address, static_cast<unsigned>(*cidr));
}

// "true" is the only value a flag takes.
std::optional<UapiError> check_flag(std::string_view key, std::string_view value) {
    if (value == "true") return std::nullopt;
    return invalid("failed to set " + std::string(key) + ", invalid value: " + std::string(value));
}

void clamp(crypto::PrivateKey& key) {
    key.data()[0] &= 248;
    key.data()[31] &= 127;
    key.data()[31] |= 64;
}

// Hex as wireguard-go prints keys: lower case.
void append_key(std::string& out, std::string_view name, const crypto::Bytes<crypto::kKeySize>& key) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += name;
    out += '=';
    for (const std::uint8_t b : key) {
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
    }
    out += '\n';
}

template <class Int>
void append_number(std::string& out, Int value) {
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)ec;  // 24 characters hold any 64-bit integer
    out.append(buffer, end);
}

void append_dotted(std::string& out, const std::uint8_t* b4) {
    for (int i = 0; i < 4; ++i) {
        if (i) out += '.';
        append_number(out, unsigned{b4[i]});
    }
}

// Go's netip.Addr.String(): IPv4 dotted; IPv4-mapped IPv6 as "::ffff:a.b.c.d";
// other IPv6 per RFC 5952 (lower-case hex without leading zeros, the first
// longest run of at least two zero groups as "::"). glibc's inet_ntop differs
// for addresses like ::2:3 ("::0.2.0.3"), so this does not use it.
void append_address(std::string& out, const IpAddress& a) {
    if (a.is_v4()) {
        append_dotted(out, a.bytes.data());
        return;
    }
    if (!a.is_v6()) return;
    const auto& b = a.bytes;
    bool mapped = b[10] == 0xff && b[11] == 0xff;
    for (int i = 0; i < 10 && mapped; ++i) mapped = b[i] == 0;
    if (mapped) {
        out += "::ffff:";
        append_dotted(out, b.data() + 12);
        return;
    }
    std::uint16_t words[8];
    for (int i = 0; i < 8; ++i) words[i] = static_cast<std::uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
    int zero_start = -1, zero_len = 0;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && words[j] == 0) ++j;
        if (j - i >= 2 && j - i > zero_len) {
            zero_start = i;
            zero_len = j - i;
        }
        i = j == i ? i + 1 : j;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) {
        if (i == zero_start) {
            out += "::";
            i += zero_len - 1;
            continue;
        }
        if (i > 0 && i != zero_start + zero_len) out += ':';
        const std::uint16_t w = words[i];
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned nibble = (w >> shift) & 0xf;
            if (nibble || started || shift == 0) {
                out += kHex[nibble];
                started = true;
            }
        }
    }
}

void append_endpoint(std::string& out, const Endpoint& e) {
    if (e.address.is_v6()) {
        out += '[';
        append_address(out, e.address);
        out += ']';
    } else {
        append_address(out, e.address);
    }
    out += ':';
    append_number(out, unsigned{e.port});
}

void append_prefix(std::string& out, const IpPrefix& p) {
    append_address(out, p.address);
    out += '/';
    append_number(out, unsigned{p.cidr});
}

struct KeyHash {
    std::size_t operator()(const crypto::PublicKey& k) const noexcept {
        std::size_t h;
        std::memcpy(&h, k.data(), sizeof h);
        return h;
    }
};

// Creating peer number max_peers + 1 is refused, as in wireguard-go. The
// request is played through on key sets first, so that a refusal changes nothing.
std::optional<UapiError> check_peer_limit(const Device& device, const SetRequest& request, bool will_have_key,
                                          const crypto::PublicKey& own, std::size_t max_peers) {
    std::size_t count = request.replace_peers ? 0 : device.peer_count();
    if (count + request.peers.size() <= max_peers) return std::nullopt;  // cannot overflow
    std::unordered_map<crypto::PublicKey, bool, KeyHash> changed;  // key -> exists after the steps so far
    auto exists = [&](const crypto::PublicKey& key) {
        const auto it = changed.find(key);
        if (it != changed.end()) return it->second;
        return !request.replace_peers && device.find_peer(key) != nullptr;
    };
    if (request.private_key && will_have_key && exists(own)) {
        --count;
        changed[own] = false;
    }
    for (const PeerChange& change : request.peers) {
        if (will_have_key && change.public_key == own) continue;
        const bool existed = exists(change.public_key);
        if (change.remove || change.disabled.value_or(false)) {
            if (existed) {
                --count;
                changed[change.public_key] = false;
            }
            continue;
        }
        // An explicit enable may re-create a disabled peer despite update_only.
        if (existed || (change.update_only && !change.disabled)) continue;
        if (count >= max_peers) return invalid("failed to create new peer: too many peers");
        ++count;
        changed[change.public_key] = true;
    }
    return std::nullopt;
}

bool disables(const PeerChange& change) { return !change.remove && change.disabled.value_or(false); }

// A disabled peer's block must be alone, so that what the Host keeps is
// exactly that peer's configuration before the request plus that block.
std::optional<UapiError> check_disabled_blocks(const SetRequest& request) {
    if (std::none_of(request.peers.begin(), request.peers.end(), disables)) return std::nullopt;
    std::unordered_map<crypto::PublicKey, int, KeyHash> blocks;
    for (const PeerChange& change : request.peers) ++blocks[change.public_key];
    for (const PeerChange& change : request.peers) {
        if (disables(change) && blocks[change.public_key] > 1)
            return invalid("a peer block with wgate_disabled=true must be the only block for that peer");
    }
    return std::nullopt;
}

// What one block sets on a live peer (not remove, update_only or disabled).
void apply_peer_fields(Device& device, Host& host, Peer& peer, const PeerChange& change, core::Now now,
                       core::Outputs& out) {
    if (change.preshared_key) device.set_preshared_key(peer, *change.preshared_key);
    if (change.endpoint) device.set_endpoint(peer, *change.endpoint);
    if (change.persistent_keepalive) device.set_persistent_keepalive(peer, *change.persistent_keepalive, now, out);
    if (change.replace_allowed_ips) device.clear_allowed_ips(peer);
    for (const IpPrefix& prefix : change.allowed_ips) {
        // wireguard-go and the kernel move a prefix the peer already has to
        // the end of its list; core::AllowedIps leaves it in place.
        device.remove_allowed_ip(peer, prefix);
        device.add_allowed_ip(peer, prefix);
    }
    if (change.name) {
        host.set_peer_name(peer.public_key(),
                           change.name->empty() ? std::nullopt : std::optional<std::string>(*change.name));
    }
}

// Host lines for a get answer: whole lines only, never an empty one.
void append_host_lines(std::string& out, std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty() || line.find('=') == std::string_view::npos) continue;
        out += line;
        out += '\n';
    }
}

bool has_key_line(std::string_view text, std::string_view key) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (text.compare(pos, key.size(), key) == 0 && pos + key.size() < text.size() && text[pos + key.size()] == '=')
            return true;
        const auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return false;
}

}  // namespace

// ---------------------------------------------------------------- parsing

bool valid_peer_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxPeerNameBytes) return false;
    std::size_t i = 0;
    while (i < name.size()) {
        const auto c = static_cast<std::uint8_t>(name[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f || c == '=') return false;
            ++i;
            continue;
        }
        std::size_t length;
        std::uint32_t cp;
        std::uint8_t low = 0x80, high = 0xbf;  // allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf) {
            length = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            length = 3;
            cp = c & 0x0f;
            if (c == 0xe0) low = 0xa0;   // overlong
            if (c == 0xed) high = 0x9f;  // UTF-16 surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            length = 4;
            cp = c & 0x07;
            if (c == 0xf0) low = 0x90;   // overlong
            if (c == 0xf4) high = 0x8f;  // beyond U+10FFFF
        } else {
            return false;
        }
        if (i + length > name.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto cont = static_cast<std::uint8_t>(name[i + k]);
            if (k == 1 ? (cont < low || cont > high) : (cont < 0x80 || cont > 0xbf)) return false;
            cp = cp << 6 | (cont & 0x3f);
        }
        if (cp >= 0x80 && cp <= 0x9f) return false;  // C1 controls
        i += length;
    }
    return true;
}

std::optional<UapiError> SetParser::feed_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return UapiError{EPROTO, "failed to parse line \"" + std::string(line) + "\""};
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);

    if (key == "public_key") {
        const auto public_key = crypto::key_from_hex(value);
        if (!public_key) return invalid("failed to get peer by public key: bad hex key");
        in_peer_ = true;
        PeerChange& change = request_.peers.emplace_back();
        change.public_key = *public_key;
        return std::nullopt;
    }

    if (!in_peer_) {
        if (key == "private_key") {
            const auto k = crypto::key_from_hex(value);
            if (!k) return invalid("failed to set private_key: bad hex key");
            request_.private_key.emplace(*k);
        } else if (key == "listen_port") {
            const auto port = parse_decimal(value, 0xffff);
            if (!port) return invalid("failed to parse listen_port: " + std::string(value));
            request_.listen_port = static_cast<std::uint16_t>(*port);
        } else if (key == "fwmark") {
            const auto mark = parse_decimal(value, 0xffffffff);
            if (!mark) return invalid("invalid fwmark: " + std::string(value));
            request_.fwmark = static_cast<std::uint32_t>(*mark);
        } else if (key == "replace_peers") {
            if (auto e = check_flag(key, value)) return e;
            request_.replace_peers = true;
        } else {
            return invalid("invalid UAPI device key: " + std::string(key));
        }
        return std::nullopt;
    }

    PeerChange& peer = request_.peers.back();
    if (key == "update_only") {
        if (auto e = check_flag(key, value)) return e;
        peer.update_only = true;
    } else if (key == "remove") {
        if (auto e = check_flag(key, value)) return e;
        peer.remove = true;
    } else if (key == "preshared_key") {
        const auto k = crypto::key_from_hex(value);
        if (!k) return invalid("failed to set preshared key: bad hex key");
        peer.preshared_key.emplace(*k);
    } else if (key == "endpoint") {
        if (value.find('%') != std::string_view::npos)
            return invalid("failed to set endpoint " + std::string(value) + ": IPv6 zones are not supported");
        const auto endpoint = Endpoint::parse(value);
        if (!endpoint) return invalid("failed to set endpoint " + std::string(value));
        peer.endpoint = *endpoint;
    } else if (key == "persistent_keepalive_interval") {
        const auto seconds = parse_decimal(value, 0xffff);
        if (!seconds) return invalid("failed to set persistent keepalive interval: " + std::string(value));
        peer.persistent_keepalive = static_cast<std::uint16_t>(*seconds);
    } else if (key == "replace_allowed_ips") {
        if (auto e = check_flag(key, value)) return e;
        peer.replace_allowed_ips = true;
        peer.allowed_ips.clear();  // wireguard-go: the list is emptied at this line
    } else if (key == "allowed_ip") {
        const auto prefix = parse_allowed_ip(value);
        if (!prefix) return invalid("failed to set allowed ip: " + std::string(value));
        peer.allowed_ips.push_back(*prefix);
    } else if (key == "protocol_version") {
        if (value != "1") return invalid("invalid protocol version: " + std::string(value));
    } else if (key == "wgate_disabled") {
        if (value == "true") {
            peer.disabled = true;
        } else if (value == "false") {
            peer.disabled = false;
        } else {
            return invalid("failed to set wgate_disabled, invalid value: " + std::string(value));
        }
    } else if (key == "name") {
        if (!value.empty() && !valid_peer_name(value))
            return invalid("invalid peer name (printable UTF-8 without '=', at most 64 bytes)");
        peer.name = std::string(value);
    } else {
        return invalid("invalid UAPI peer key: " + std::string(key));
    }
    return std::nullopt;
}

SetRequest SetParser::take() {
    SetRequest request = std::move(request_);
    reset();
    return request;
}

void SetParser::reset() {
    request_ = SetRequest{};
    in_peer_ = false;
}

std::variant<SetRequest, UapiError> parse_set(std::string_view lines) {
    SetParser parser;
    std::size_t pos = 0;
    while (pos < lines.size()) {
        auto nl = lines.find('\n', pos);
        if (nl == std::string_view::npos) nl = lines.size();
        std::string_view line = lines.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty() || line == "\r") break;  // the blank line ends the request
        if (auto error = parser.feed_line(line)) return std::move(*error);
    }
    return parser.take();
}

// ---------------------------------------------------------------- applying

std::optional<UapiError> apply_set(Device& device, Host& host, const SetRequest& request, core::Now now,
                                   core::Outputs& out) {
    // The identity the peer blocks will meet.
    std::optional<crypto::PrivateKey> new_key = request.private_key;
    bool will_have_key = device.identity().has_key;
    crypto::PublicKey own = device.identity().public_key;
    if (new_key) {
        will_have_key = !new_key->is_zero();
        if (will_have_key) {
            clamp(*new_key);
            own = crypto::public_key_of(*new_key);
        }
    }

    // Everything that can fail, before anything changes.
    if (auto error = check_disabled_blocks(request)) return error;
    if (auto error = check_peer_limit(device, request, will_have_key, own, host.max_peers())) return error;
    if (auto error = host.check_set(device, request)) return error;
    std::optional<std::uint16_t> old_port;
    if (request.listen_port) {
        const std::uint16_t before = host.listen_port();
        if (auto error = host.set_listen_port(*request.listen_port)) return error;
        old_port = before;
    }
    std::optional<std::uint32_t> old_mark;
    if (request.fwmark) {
        const std::uint32_t before = host.fwmark();
        if (auto error = host.set_fwmark(*request.fwmark)) {
            if (old_port) (void)host.set_listen_port(*old_port);
            return error;
        }
        old_mark = before;
    }
    // Disabling is the Host's to refuse; what it kept so far is undone then.
    struct Kept {
        crypto::PublicKey key;
        std::optional<PeerChange> previous;  // what the Host kept before, for a peer already disabled
    };
    std::vector<Kept> kept;
    auto undo = [&] {
        for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
            (void)host.take_disabled_peer(it->key);
            if (it->previous) (void)host.disable_peer(nullptr, *it->previous);
        }
        if (old_mark) (void)host.set_fwmark(*old_mark);
        if (old_port) (void)host.set_listen_port(*old_port);
    };
    for (const PeerChange& change : request.peers) {
        if (!disables(change)) continue;
        if (will_have_key && change.public_key == own) continue;  // ignored, as any block for our own key
        const Peer* current = device.find_peer(change.public_key);
        PeerChange config;
        std::optional<PeerChange> previous;
        if (current) {
            config = snapshot_peer(device, *current, host);
        } else {
            previous = host.take_disabled_peer(change.public_key);
            if (previous) {
                config = *previous;
            } else if (change.update_only) {
                continue;
            } else {
                config.public_key = change.public_key;
                config.replace_allowed_ips = true;
            }
        }
        merge_peer_change(config, change);
        if (auto error = host.disable_peer(current, config)) {
            if (previous) (void)host.disable_peer(nullptr, *previous);
            undo();
            return error;
        }
        kept.push_back(Kept{change.public_key, std::move(previous)});
    }

    // Peers removed as a side effect lose their names at the end (unless the
    // request brought them back).
    std::vector<crypto::PublicKey> maybe_gone;
    if (new_key) {
        if (will_have_key) {
            if (device.find_peer(own)) maybe_gone.push_back(own);
            device.set_private_key(*new_key);  // removes the peer with our new public key
        } else {
            device.clear_private_key();
        }
    }
    if (request.replace_peers) {
        for (const Peer* peer : device.peers()) maybe_gone.push_back(peer->public_key());
        device.remove_all_peers();
    }

    for (const PeerChange& change : request.peers) {
        const crypto::PublicKey& key = change.public_key;
        Peer* peer = device.find_peer(key);
        if (change.remove) {
            if (peer) {
                device.remove_peer(key);
                host.set_peer_name(key, std::nullopt);
            } else {
                (void)host.take_disabled_peer(key);  // a disabled peer is forgotten too
            }
            continue;
        }
        if (disables(change)) {
            // Its configuration, name included, now lives with the Host.
            if (peer) device.remove_peer(key);
            continue;
        }
        if (!peer) {
            if (change.update_only && !change.disabled) continue;
            const auto& identity = device.identity();
            if (identity.has_key && key == identity.public_key) continue;  // our own public key: ignored, as wg does
            const std::optional<PeerChange> stashed = host.take_disabled_peer(key);
            if (!stashed && change.update_only) continue;
            peer = device.add_peer(key);
            if (!peer) continue;
            if (stashed) apply_peer_fields(device, host, *peer, *stashed, now, out);
        }
        apply_peer_fields(device, host, *peer, change, now, out);
    }

    for (const crypto::PublicKey& key : maybe_gone) {
        if (!device.find_peer(key)) host.set_peer_name(key, std::nullopt);
    }
    return std::nullopt;
}

PeerChange snapshot_peer(const Device& device, const Peer& peer, const Host& host) {
    PeerChange config;
    config.public_key = peer.public_key();
    if (!peer.preshared_key().is_zero()) config.preshared_key = peer.preshared_key();
    if (const auto& endpoint = peer.endpoint(); endpoint && !endpoint->empty()) {
        config.endpoint = *endpoint;
        config.endpoint->clear_local();
    }
    if (peer.persistent_keepalive() != 0) config.persistent_keepalive = peer.persistent_keepalive();
    config.replace_allowed_ips = true;
    config.allowed_ips = device.allowed_ips_of(peer);
    if (auto name = host.peer_name(peer.public_key()); name && valid_peer_name(*name)) config.name = std::move(*name);
    return config;
}

void merge_peer_change(PeerChange& config, const PeerChange& change) {
    if (change.preshared_key) {
        if (change.preshared_key->is_zero()) {
            config.preshared_key.reset();
        } else {
            config.preshared_key = change.preshared_key;
        }
    }
    if (change.endpoint) config.endpoint = change.endpoint;
    if (change.persistent_keepalive) {
        if (*change.persistent_keepalive == 0) {
            config.persistent_keepalive.reset();
        } else {
            config.persistent_keepalive = change.persistent_keepalive;
        }
    }
    if (change.replace_allowed_ips) config.allowed_ips.clear();
    for (const IpPrefix& prefix : change.allowed_ips) {
        std::erase(config.allowed_ips, prefix);
        config.allowed_ips.push_back(prefix);
    }
    if (change.name) {
        if (change.name->empty()) {
            config.name.reset();
        } else {
            config.name = change.name;
        }
    }
    config.replace_allowed_ips = true;
}

void append_disabled_peer(std::string& out, const PeerChange& config) {
    append_key(out, "public_key", config.public_key);
    if (config.name && valid_peer_name(*config.name)) {
        out += "name=";
        out += *config.name;
        out += '\n';
    }
    out += "wgate_disabled=true\n";
    if (config.preshared_key && !config.preshared_key->is_zero())
        append_key(out, "preshared_key", config.preshared_key->bytes());
    if (config.endpoint && !config.endpoint->empty()) {
        out += "endpoint=";
        append_endpoint(out, *config.endpoint);
        out += '\n';
    }
    if (config.persistent_keepalive && *config.persistent_keepalive != 0) {
        out += "persistent_keepalive_interval=";
        append_number(out, unsigned{*config.persistent_keepalive});
        out += '\n';
    }
    for (const IpPrefix& prefix : config.allowed_ips) {
        out += "allowed_ip=";
        append_prefix(out, prefix);
        out += '\n';
    }
}

// ---------------------------------------------------------------- formatting

std::string format_address(const IpAddress& address) {
    std::string s;
    append_address(s, address);
    return s;
}

std::string format_endpoint(const Endpoint& endpoint) {
    std::string s;
    append_endpoint(s, endpoint);
    return s;
}

std::string format_prefix(const IpPrefix& prefix) {
    std::string s;
    append_prefix(s, prefix);
    return s;
}

std::string format_errno(int errno_value) {
    std::string s = "errno=";
    append_number(s, -errno_value);
    s += "\n\n";
    return s;
}

void append_get(std::string& out, const Device& device, const Host& host, bool with_names, bool extensions) {
    const auto& identity = device.identity();
    if (identity.has_key) {
        crypto::PrivateKey key = identity.private_key;
        clamp(key);  // what was set through apply_set already is; this covers other callers
        append_key(out, "private_key", key.bytes());
    }
    if (const std::uint16_t port = host.listen_port(); port != 0) {
        out += "listen_port=";
        append_number(out, unsigned{port});
        out += '\n';
    }
    if (const std::uint32_t mark = host.fwmark(); mark != 0) {
        out += "fwmark=";
        append_number(out, mark);
        out += '\n';
    }
    if (extensions) {
        std::string lines;
        host.append_interface_extension(lines);
        if (!has_key_line(lines, "wgate_mode")) out += "wgate_mode=plain\n";
        append_host_lines(out, lines);
        if (!has_key_line(lines, "wgate_mtu")) {
            out += "wgate_mtu=";
            append_number(out, device.mtu());
            out += '\n';
        }
        const auto& dropped = device.counters().dropped;
        for (std::size_t i = 0; i < dropped.size(); ++i) {
            if (dropped[i] == 0) continue;
            out += "wgate_dropped=";
            out += core::key_of(static_cast<core::Reason>(i));
            out += ':';
            append_number(out, dropped[i]);
            out += '\n';
        }
    }
    for (const Peer* peer : device.peers()) {
        append_key(out, "public_key", peer->public_key());
        if (with_names) {
            if (const auto name = host.peer_name(peer->public_key()); name && valid_peer_name(*name)) {
                out += "name=";
                out += *name;
                out += '\n';
            }
        }
        append_key(out, "preshared_key", peer->preshared_key().bytes());
        out += "protocol_version=1\n";
        if (const auto& endpoint = peer->endpoint(); endpoint && !endpoint->empty()) {
            out += "endpoint=";
            append_endpoint(out, *endpoint);
            out += '\n';
        }
        // Go: nano / 1e9 and nano % 1e9 of a signed count (truncating).
        const std::int64_t nano = peer->last_handshake() ? peer->last_handshake()->count() : 0;
        out += "last_handshake_time_sec=";
        append_number(out, nano / 1'000'000'000);
        out += "\nlast_handshake_time_nsec=";
        append_number(out, nano % 1'000'000'000);
        out += "\ntx_bytes=";
        append_number(out, peer->tx_bytes());
        out += "\nrx_bytes=";
        append_number(out, peer->rx_bytes());
        out += "\npersistent_keepalive_interval=";
        append_number(out, unsigned{peer->persistent_keepalive()});
        out += '\n';
        if (extensions && peer->last_rejection() != core::Reason::none) {
            out += "wgate_last_rejection=";
            out += core::key_of(peer->last_rejection());
            out += '\n';
        }
        for (const IpPrefix& prefix : device.allowed_ips_of(*peer)) {
            out += "allowed_ip=";
            append_prefix(out, prefix);
            out += '\n';
        }
    }
    if (extensions) {
        std::string blocks;
        host.append_disabled_peers(blocks);
        append_host_lines(out, blocks);
    }
    out += "errno=0\n\n";
}

std::string format_get(const Device& device, const Host& host, bool with_names, bool extensions) {
    std::string out;
    append_get(out, device, host, with_names, extensions);
    return out;
}

// ---------------------------------------------------------------- session

Session::Session(Device& device, Host& host, Clock clock, core::Outputs& out, SessionLimits limits)
    : device_(device), host_(host), clock_(std::move(clock)), out_(out), limits_(limits) {}

Session::Status Session::feed(std::string_view bytes, std::string& reply) {
    std::size_t pos = 0;
    while (pos < bytes.size() && state_ != State::closed) {
        if (state_ == State::get_blank) {
            // wireguard-go reads exactly one byte after "get=1\n".
            const char c = bytes[pos++];
            if (c == '\n') {
                append_get(reply, device_, host_, get_names_, get_extensions_);
            } else {
                reply += format_errno(EINVAL);
            }
            state_ = State::command;
            continue;
        }
        const bool in_set = state_ == State::set_lines || state_ == State::set_discard;
        const auto nl = bytes.find('\n', pos);
        const bool complete = nl != std::string_view::npos;
        const std::size_t end = complete ? nl : bytes.size();
        // Bytes of this line so far, its '\n' included once it is there.
        const std::size_t line_bytes = pending_.size() + (end - pos) + (complete ? 1 : 0);
        // Limits are checked before the '\n' arrives too: nothing over them is buffered.
        if (!in_set && line_bytes > kMaxCommandBytes) {
            state_ = State::closed;
            wipe(pending_);
            return Status::close;
        }
        if (in_set && line_bytes > limits_.max_line_bytes) return fail_and_close(EIO, reply);
        if (in_set && request_bytes_ + line_bytes > limits_.max_request_bytes) return fail_and_close(EMSGSIZE, reply);
        if (!complete) {
            pending_.append(bytes.substr(pos));
            break;
        }
        if (in_set) request_bytes_ += line_bytes;
        std::string_view line = bytes.substr(pos, nl - pos);
        pos = nl + 1;
        if (!pending_.empty()) {
            pending_.append(line);
            line = pending_;
        }
        const Status status = on_line(line, reply);
        wipe(pending_);
        if (status == Status::close) return status;
    }
    return state_ == State::closed ? Status::close : Status::keep_open;
}

Session::Status Session::on_line(std::string_view line, std::string& reply) {
    switch (state_) {
        case State::command:
            if (line == "set=1") {
                state_ = State::set_lines;
                parser_.reset();
                request_bytes_ = 0;
            } else if (line == "get=1") {
                state_ = State::get_blank;
                get_names_ = limits_.names_in_get;
                get_extensions_ = false;
            } else if (line == "get=wgate") {
                state_ = State::get_blank;
                get_names_ = true;
                get_extensions_ = true;
            } else {
                // wireguard-go logs "invalid UAPI operation" and hangs up.
                state_ = State::closed;
                return Status::close;
            }
            return Status::keep_open;
        case State::set_lines:
        case State::set_discard:
            return on_set_line(line, reply);
        case State::get_blank:
        case State::closed:
            break;
    }
    return Status::close;
}

Session::Status Session::on_set_line(std::string_view line, std::string& reply) {
    const bool blank = line.empty() || line == "\r";
    if (blank) {
        if (state_ == State::set_lines) end_set(reply);
        parser_.reset();
        state_ = State::command;
        return Status::keep_open;
    }
    if (state_ == State::set_discard) return Status::keep_open;
    if (auto error = parser_.feed_line(line)) {
        if (error->errno_value == EPROTO) return fail_and_close(EPROTO, reply);
        // Answer now, as wireguard-go does, and drop the rest of this request.
        reply += format_errno(error->errno_value);
        state_ = State::set_discard;
    }
    return Status::keep_open;
}

void Session::end_set(std::string& reply) {
    const SetRequest request = parser_.take();
    const auto error = apply_set(device_, host_, request, clock_(), out_);
    if (!error) ++sets_applied_;
    reply += format_errno(error ? error->errno_value : 0);
}

Session::Status Session::fail_and_close(int errno_value, std::string& reply) {
    reply += format_errno(errno_value);
    state_ = State::closed;
    wipe(pending_);
    parser_.reset();
    return Status::close;
}

Session::Status Session::finish(std::string& reply) {
    if (state_ == State::set_lines) {
        // wireguard-go's scanner hands out a last line without '\n' and then
        // applies what it has.
        std::string_view last = pending_;
        if (!last.empty() && last.back() == '\r') last.remove_suffix(1);
        std::optional<UapiError> error;
        if (!last.empty()) error = parser_.feed_line(last);
        if (error) {
            reply += format_errno(error->errno_value);
        } else {
            end_set(reply);
        }
    }
    state_ = State::closed;
    wipe(pending_);
    parser_.reset();
    return Status::close;
}

}  // namespace wgate::control
