// The `wgate` command line: CLI11 wiring, then one function per subcommand.
#include "wgate/cli/cli.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <strings.h>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "wgate/cli/address_pool.hpp"
#include "wgate/cli/client_config.hpp"
#include "wgate/cli/error.hpp"
#include "wgate/cli/keys.hpp"
#include "wgate/cli/qr.hpp"
#include "wgate/cli/show.hpp"
#include "wgate/control/uapi.hpp"
#include "wgate/core/endpoint.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::cli {
namespace {

using core::IpPrefix;
using nlohmann::json;

constexpr const char* kVersion = "wgate 0.1.0";
constexpr std::uint16_t kDefaultClientKeepalive = 25;

// ---------------------------------------------------------------- parsed command line

struct ClientOptions {  // what shapes a client config (peer add, export)
    std::string endpoint;
    std::vector<std::string> allowed_ips;
    std::vector<std::string> dns;
    int keepalive = -1;  // -1: the gateway's setting
    bool full_tunnel = false;
    std::string out_file;
    bool qr = false;
    std::string qr_png;
};

struct Options {
    std::string interface;
    std::string show_interface;
    bool json = false;
    std::string name;      // peer add / remove / rename / disable / enable / export
    std::string new_name;  // peer rename
    std::vector<std::string> ips{"auto"};
    bool psk = false;
    ClientOptions client;
    std::string private_key_file;
    std::string import_file;
    bool dry_run = false;
    bool skip_existing = false;
    std::string doctor_endpoint;
};

// ---------------------------------------------------------------- helpers

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// Files holding a private key: created 0600 and exclusively before the daemon
// changes anything, removed again when the command fails.
class PrivateFile {
public:
    explicit PrivateFile(const std::string& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd_ < 0) {
            if (errno == EEXIST) throw runtime_error(path + " already exists: choose another file or delete it first");
            throw runtime_error("cannot create " + path + ": " + std::strerror(errno));
        }
        (void)::fchmod(fd_, 0600);
    }
    ~PrivateFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(path_.c_str());
    }
    PrivateFile(const PrivateFile&) = delete;
    PrivateFile& operator=(const PrivateFile&) = delete;

    void write(const void* data, std::size_t size) {
        const auto* p = static_cast<const char*>(data);
        while (size > 0) {
            const ssize_t n = ::write(fd_, p, size);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw runtime_error("writing " + path_ + ": " + std::strerror(errno));
            p += n;
            size -= static_cast<std::size_t>(n);
        }
    }
    void commit() {
        if (::fsync(fd_) < 0 || ::close(fd_) < 0) {
            fd_ = -1;
            throw runtime_error("writing " + path_ + ": " + std::strerror(errno));
        }
        fd_ = -1;
        committed_ = true;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
    bool committed_ = false;
};

// One daemon, found by -i or as the only one running.
class Daemon {
public:
    Daemon(CliEnv& env, const std::string& ifname) : ifname_(ifname), client_(env.connect(ifname)) {}
    const std::string& ifname() const { return ifname_; }
    DeviceInfo get() { return get_device(*client_, ifname_); }
    // Applies `lines`; on an error explains what was refused.
    void set(std::string lines, const std::string& what, const std::string& hint = {}) {
        const int e = set_device(*client_, lines);
        wipe_string(lines);  // it may hold a preshared key
        if (e == 0) return;
        if (e == EOPNOTSUPP) throw runtime_error(what + ": " + (hint.empty() ? "not supported by this daemon" : hint));
        throw runtime_error(what + ": the daemon refused (" + std::strerror(e) + ")" +
                            (hint.empty() ? "; see its log (LOG_LEVEL=verbose)" : "; " + hint));
    }

private:
    std::string ifname_;
    std::unique_ptr<ControlClient> client_;
};

const PeerInfo& require_peer(const DeviceInfo& d, const std::string& name_or_key) {
    if (const PeerInfo* p = d.find_peer(name_or_key)) return *p;
    throw runtime_error("no peer named or with public key " + in_quotes(name_or_key) + " on " + d.ifname +
                        ": see wgate peer list");
}

void check_name(const std::string& name) {
    if (!control::valid_peer_name(name)) {
        throw usage_error("invalid peer name " + in_quotes(name) +
                          ": use printable characters without '=', at most 64 bytes");
    }
}

void check_name_free(const DeviceInfo& d, const std::string& name, const PeerInfo* except = nullptr) {
    for (const PeerInfo& p : d.peers) {
        if (p.name == name && &p != except) {
            throw runtime_error("the name " + in_quotes(name) + " is already used on " + d.ifname + " by " +
                                key_text(p.public_key) + ": choose another name, or remove that peer (wgate peer remove " +
                                name + ")");
        }
    }
}

bool valid_endpoint_text(const std::string& e) {
    const auto colon = e.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == e.size()) return false;
    const std::string port = e.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) || port.size() > 5)
        return false;
    const unsigned long n = std::stoul(port);
    if (n == 0 || n > 65535) return false;
    const std::string host = e.substr(0, colon);
    if (host.front() == '[') return host.back() == ']' && core::IpAddress::parse(host.substr(1, host.size() - 2));
    return host.find(':') == std::string::npos && host.find_first_of(" /\t") == std::string::npos;
}

// A host name or address with port, as the UAPI wants it: numeric.
std::string resolve_endpoint(const std::string& text) {
    if (const auto e = core::Endpoint::parse(text)) return e->to_string();
    const auto colon = text.rfind(':');
    std::string host = text.substr(0, colon);
    const std::string port = text.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* result = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &result);
    if (rc != 0 || !result) throw runtime_error("cannot resolve " + text + ": " + ::gai_strerror(rc));
    char buf[NI_MAXHOST];
    std::string numeric;
    if (::getnameinfo(result->ai_addr, result->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0) {
        numeric = result->ai_family == AF_INET6 ? "[" + std::string(buf) + "]:" + port : std::string(buf) + ":" + port;
    }
    ::freeaddrinfo(result);
    if (numeric.empty()) throw runtime_error("cannot resolve " + text);
    return numeric;
}

std::vector<IpPrefix> parse_prefix_list(const std::vector<std::string>& items, const std::string& option) {
    std::vector<IpPrefix> list;
    for (const std::string& item : items) {
        const auto p = IpPrefix::parse(item);
        if (!p) throw usage_error(option + ": " + in_quotes(item) + " is not an address or CIDR prefix");
        list.push_back(*p);
    }
    return list;
}

// The networks of IFNAME's own addresses (plain mode has no pool to tell).
std::vector<IpPrefix> host_interface_networks(System& system, const std::string& ifname) {
    std::vector<IpPrefix> nets;
    const auto out = system.run({"ip", "-j", "addr", "show", "dev", ifname});
    if (!out) return nets;
    try {
        const json j = json::parse(*out);
        for (const json& link : j) {
            if (!link.contains("addr_info")) continue;
            for (const json& a : link["addr_info"]) {
                if (!a.contains("local") || !a.contains("prefixlen")) continue;
                const auto address = core::IpAddress::parse(a["local"].get<std::string>());
                if (!address || (address->is_v6() && address->bytes[0] == 0xfe && (address->bytes[1] & 0xc0) == 0x80))
                    continue;  // link-local
                const IpPrefix net = IpPrefix::make(*address, a["prefixlen"].get<unsigned>());
                if (std::find(nets.begin(), nets.end(), net) == nets.end()) nets.push_back(net);
            }
        }
    } catch (const json::exception&) {
    }
    return nets;
}

// Everything in a client config except the private key and addresses.
void fill_client_config(ClientConfig& config, const DeviceInfo& d, const ClientOptions& o, CliEnv& env) {
    if (!d.public_key) {
        throw runtime_error(d.ifname + " has no private key yet: set one (wg set " + d.ifname +
                            " private-key FILE) before adding clients");
    }
    config.gateway_public_key = *d.public_key;
    config.endpoint = o.endpoint.empty() ? d.public_endpoint : o.endpoint;
    if (config.endpoint.empty()) {
        throw runtime_error("no public endpoint is configured for " + d.ifname +
                            (d.gateway() ? " (gateway.public_endpoint)" : " (plain mode)") +
                            ": pass --endpoint HOST:PORT, the address clients dial");
    }
    if (!o.dns.empty()) {
        for (const std::string& s : o.dns) {
            const auto a = core::IpAddress::parse(s);
            if (!a) throw usage_error("--dns: " + in_quotes(s) + " is not an IP address");
            config.dns.push_back(*a);
        }
    } else {
        config.dns = d.dns;
    }
    if (!o.allowed_ips.empty()) {
        config.allowed_ips = parse_prefix_list(o.allowed_ips, "--allowed-ips");
    } else {
        std::vector<IpPrefix> tunnel;
        for (const auto& a : d.addresses) tunnel.push_back(a.network());
        if (tunnel.empty() && !o.full_tunnel) tunnel = host_interface_networks(env.system, d.ifname);
        if (tunnel.empty() && d.lan_routes.empty() && !o.full_tunnel) {
            throw runtime_error("cannot tell which networks the client should send into the tunnel (" + d.ifname +
                                " has no address here): pass --allowed-ips CIDR,... or --full-tunnel");
        }
        config.allowed_ips = client_allowed_ips(tunnel, d.lan_routes, o.full_tunnel);
    }
    config.persistent_keepalive = o.keepalive >= 0 ? static_cast<std::uint16_t>(o.keepalive)
                                                   : d.keepalive.value_or(kDefaultClientKeepalive);
}

// A client config in every form asked for, made before the daemon changes so
// that a config too long for a QR code changes nothing. Wiped on destruction.
struct RenderedConfig {
    std::string text;
    std::string qr_text;
    std::vector<std::uint8_t> png;

    RenderedConfig(const ClientConfig& config, const ClientOptions& o) : text(render_client_config(config)) {
        try {
            if (o.qr || !o.qr_png.empty()) {
                const QrCode code(text);
                if (o.qr) qr_text = render_qr_utf8(code);
                if (!o.qr_png.empty()) png = render_qr_png(code);
            }
        } catch (...) {
            wipe();
            throw;
        }
    }
    ~RenderedConfig() { wipe(); }
    RenderedConfig(const RenderedConfig&) = delete;
    RenderedConfig& operator=(const RenderedConfig&) = delete;

    void wipe() noexcept {
        wipe_string(text);
        wipe_string(qr_text);
        crypto::secure_zero(png.data(), png.size());
    }
};

// Writes the config where the options say; returns where it went, for the
// message that tells the user to keep it.
std::vector<std::string> deliver_config(const RenderedConfig& rendered, const ClientOptions& o, CliEnv& env,
                                        std::unique_ptr<PrivateFile>& conf_file,
                                        std::unique_ptr<PrivateFile>& png_file) {
    std::vector<std::string> where;
    if (conf_file) {
        conf_file->write(rendered.text.data(), rendered.text.size());
        conf_file->commit();
        where.push_back(conf_file->path() + " (mode 0600)");
    } else if (!o.qr) {
        env.out << rendered.text;
        where.push_back("the config printed above");
    }
    if (o.qr) {
        env.out << rendered.qr_text;
        where.push_back("the QR code printed above");
    }
    if (png_file) {
        png_file->write(rendered.png.data(), rendered.png.size());
        png_file->commit();
        where.push_back(png_file->path() + " (QR code, mode 0600)");
    }
    env.out.flush();
    if (!env.out) throw runtime_error("could not write the config to stdout");
    return where;
}

std::string list_places(const std::vector<std::string>& where) {
    std::string s;
    for (std::size_t i = 0; i < where.size(); ++i) {
        if (i) s += i + 1 == where.size() ? " and " : ", ";
        s += where[i];
    }
    return s;
}

// --ip: "auto", or host addresses (10.8.0.7, 10.8.0.7/32, fd42::7/128), comma-separated or repeated.
std::optional<std::vector<IpPrefix>> explicit_addresses(const std::vector<std::string>& ips) {
    if (ips.size() == 1 && ips[0] == "auto") return std::nullopt;
    std::vector<IpPrefix> list;
    for (const std::string& s : ips) {
        if (s == "auto") throw usage_error("--ip: 'auto' cannot be combined with addresses");
        const auto p = IpPrefix::parse(s);
        if (!p || p->cidr != p->address.bit_length())
            throw usage_error("--ip: " + in_quotes(s) + " is not one host address (10.8.0.7, 10.8.0.7/32, fd42::7/128)");
        list.push_back(*p);
    }
    return list;
}

std::string peer_block(const crypto::PublicKey& key, const std::string& name,
                       const std::optional<crypto::PresharedKey>& psk, const std::string& endpoint,
                       std::optional<std::uint16_t> keepalive, const std::vector<IpPrefix>& allowed_ips) {
    std::string s;
    s.reserve(512 + 64 * allowed_ips.size());  // one buffer: no stray copies of the preshared key
    s += public_key_line(key);
    if (!name.empty()) s += "name=" + name + "\n";
    if (psk) {
        std::string hex = crypto::key_to_hex(psk->bytes());
        s += "preshared_key=";
        s += hex;
        s += '\n';
        wipe_string(hex);
    }
    if (!endpoint.empty()) s += "endpoint=" + endpoint + "\n";
    if (keepalive) s += "persistent_keepalive_interval=" + std::to_string(*keepalive) + "\n";
    s += "replace_allowed_ips=true\n";
    for (const IpPrefix& p : allowed_ips) s += "allowed_ip=" + to_text(p) + "\n";
    return s;
}

// ---------------------------------------------------------------- subcommands

int cmd_genkey(CliEnv& env, bool psk) {
    if (env.stdout_world_accessible()) env.err << kWorldAccessibleWarning;
    std::string key = psk ? genpsk_text(env.random) : genkey_text(env.random);
    env.out << key;
    env.out.flush();
    wipe_string(key);
    return kExitOk;
}

int cmd_show(CliEnv& env, Daemon& daemon, const Options& o) {
    const DeviceInfo d = daemon.get();
    if (o.json) {
        env.out << device_json(d).dump(2) << "\n";
    } else {
        env.out << render_show(d, env.now());
    }
    return kExitOk;
}

int cmd_peer_add(CliEnv& env, Daemon& daemon, const Options& o) {
    check_name(o.name);
    const auto requested = explicit_addresses(o.ips);
    if (!o.client.endpoint.empty() && !valid_endpoint_text(o.client.endpoint))
        throw usage_error("--endpoint: " + in_quotes(o.client.endpoint) + " is not HOST:PORT ([IPv6]:PORT)");
    const DeviceInfo d = daemon.get();
    check_name_free(d, o.name);

    // The client's addresses.
    std::vector<IpPrefix> addresses;
    if (requested) {
        for (const IpPrefix& p : *requested) {
            if (!d.addresses.empty() && !inside_pool(d.addresses, p)) {
                std::string pools;
                for (const auto& a : d.addresses) pools += (pools.empty() ? "" : ", ") + to_text(a.network());
                throw runtime_error(to_text(p.address) + " is outside the address pool (" + pools +
                                    "): pick an address inside it, or leave out --ip");
            }
            for (const auto& a : d.addresses) {
                if (a.address == p.address)
                    throw runtime_error(to_text(p.address) + " is the gateway's own address: pick another, or leave out --ip");
            }
            for (const PeerInfo& peer : d.peers) {
                for (const IpPrefix& used : peer.allowed_ips) {
                    if (overlaps(used, p)) {
                        throw runtime_error(to_text(p.address) + " is already used by peer " + peer.label() + " (" +
                                            to_text(used) + "): pick another, or leave out --ip");
                    }
                }
            }
        }
        addresses = *requested;
    } else {
        addresses = allocate_addresses(d.addresses, d.used_prefixes());
    }

    ClientConfig config;
    fill_client_config(config, d, o.client, env);
    config.addresses = addresses;
    config.private_key = crypto::generate_private_key(env.random);
    const crypto::PublicKey client_public = crypto::public_key_of(config.private_key);
    if (o.psk) {
        crypto::PresharedKey psk;
        env.random.fill(psk.data(), psk.size());
        config.preshared_key = psk;
    }

    // Everything that can fail before the daemon changes: the config, its QR
    // code, and the files (a name clash there changes nothing in the daemon).
    const RenderedConfig rendered(config, o.client);
    std::unique_ptr<PrivateFile> conf_file, png_file;
    if (!o.client.out_file.empty()) conf_file = std::make_unique<PrivateFile>(o.client.out_file);
    if (!o.client.qr_png.empty()) png_file = std::make_unique<PrivateFile>(o.client.qr_png);

    daemon.set(peer_block(client_public, o.name, config.preshared_key, {}, std::nullopt, addresses),
               "adding peer " + in_quotes(o.name));

    std::vector<std::string> where;
    try {
        where = deliver_config(rendered, o.client, env, conf_file, png_file);
    } catch (const CliError& e) {
        // Nobody would ever have the key of that peer: take it out again.
        try {
            daemon.set(public_key_line(client_public) + "remove=true\n", "removing peer " + in_quotes(o.name));
        } catch (const CliError&) {
            throw runtime_error(std::string(e.what()) + "; remove the peer: wgate peer remove " + o.name);
        }
        throw runtime_error(std::string(e.what()) + " (peer " + in_quotes(o.name) + " was not added)");
    }
    env.err << "Added peer " << in_quotes(o.name) << " (" << key_text(client_public) << ") to " << d.ifname << " with "
            << join(addresses) << ".\n"
            << "The client's private key is only in " << list_places(where)
            << ": wgate and wgated do not keep it, so store it now.\n";
    return kExitOk;
}

int cmd_peer_remove(CliEnv& env, Daemon& daemon, const Options& o) {
    const DeviceInfo d = daemon.get();
    const PeerInfo& p = require_peer(d, o.name);
    daemon.set(public_key_line(p.public_key) + "remove=true\n", "removing peer " + p.label());
    env.out << "Removed peer " << in_quotes(p.label()) << " (" << key_text(p.public_key) << ") from " << d.ifname << ".\n";
    return kExitOk;
}

int cmd_peer_list(CliEnv& env, Daemon& daemon, const Options& o) {
    const DeviceInfo d = daemon.get();
    if (o.json) {
        json list = json::array();
        for (const PeerInfo& p : d.peers) list.push_back(peer_json(p));
        env.out << list.dump(2) << "\n";
    } else if (d.peers.empty()) {
        env.out << "No peers on " << d.ifname << ": add one with wgate peer add NAME\n";
    } else {
        env.out << render_peer_list(d, env.now());
    }
    return kExitOk;
}

int cmd_peer_rename(CliEnv& env, Daemon& daemon, const Options& o) {
    check_name(o.new_name);
    const DeviceInfo d = daemon.get();
    const PeerInfo& p = require_peer(d, o.name);
    check_name_free(d, o.new_name, &p);
    // A disabled peer lives with the daemon's host side: the block must say so.
    const std::string how = p.disabled ? "wgate_disabled=true\n" : "update_only=true\n";
    daemon.set(public_key_line(p.public_key) + how + "name=" + o.new_name + "\n", "renaming peer " + p.label());
    env.out << "Renamed peer " << in_quotes(p.label()) << " to " << in_quotes(o.new_name) << ".\n";
    return kExitOk;
}

int cmd_peer_enable(CliEnv& env, Daemon& daemon, const Options& o, bool enable) {
    const DeviceInfo d = daemon.get();
    const PeerInfo& p = require_peer(d, o.name);
    if (p.disabled != enable) {
        env.out << "Peer " << in_quotes(p.label()) << " is already " << (enable ? "enabled" : "disabled") << ".\n";
        return kExitOk;
    }
    daemon.set(public_key_line(p.public_key) + (enable ? "wgate_disabled=false\n" : "wgate_disabled=true\n"),
               std::string(enable ? "enabling" : "disabling") + " peer " + p.label(),
               "disabling peers needs gateway mode: start wgated with --config FILE (in plain mode remove the peer "
               "instead: wgate peer remove " + p.label() + ")");
    env.out << (enable ? "Enabled" : "Disabled") << " peer " << in_quotes(p.label()) << " on " << d.ifname
            << (enable ? ".\n" : ": it keeps its configuration but cannot connect (wgate peer enable " + p.label() + ").\n");
    return kExitOk;
}

// The private key in FILE ("-": stdin): a bare key, or the PrivateKey line of a wg-quick file.
crypto::PrivateKey read_private_key(CliEnv& env, const std::string& file) {
    std::string text;
    if (file == "-") {
        text.assign(std::istreambuf_iterator<char>(env.in), std::istreambuf_iterator<char>());
    } else {
        struct stat st{};
        if (::stat(file.c_str(), &st) < 0)
            throw runtime_error("cannot read " + file + ": " + std::strerror(errno));
        if (st.st_mode & 077)
            throw runtime_error(file + " is readable by others (mode " + std::to_string((st.st_mode >> 6) & 7) +
                                std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                                "): chmod 600 " + file + ", and consider the key exposed");
        std::ifstream in(file, std::ios::binary);
        if (!in) throw runtime_error("cannot read " + file + ": " + std::strerror(errno));
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::string candidate;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        const std::string_view line = std::string_view(text).substr(pos, nl - pos);
        pos = nl + 1;
        std::string compact;
        compact.reserve(line.size());
        for (const char c : line.substr(0, line.find('#'))) {
            if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
        }
        if (compact.empty()) continue;
        if (compact.size() >= 11 && ::strncasecmp(compact.data(), "privatekey=", 11) == 0) {
            candidate = compact.substr(11);
            wipe_string(compact);
            break;
        }
        if (candidate.empty() && compact.find('=') + 1 == compact.size()) candidate = compact;  // a bare key
        wipe_string(compact);
    }
    wipe_string(text);
    auto bytes = crypto::key_from_base64(candidate);
    wipe_string(candidate);
    if (!bytes) throw usage_error(file + " holds no private key (a `wg genkey` line or a wg-quick PrivateKey = line)");
    crypto::PrivateKey key(*bytes);
    crypto::secure_zero(bytes->data(), bytes->size());
    return key;
}

int cmd_export(CliEnv& env, Daemon& daemon, const Options& o) {
    if (!o.client.endpoint.empty() && !valid_endpoint_text(o.client.endpoint))
        throw usage_error("--endpoint: " + in_quotes(o.client.endpoint) + " is not HOST:PORT ([IPv6]:PORT)");
    const DeviceInfo d = daemon.get();
    const PeerInfo& p = require_peer(d, o.name);
    if (o.private_key_file.empty()) {
        throw usage_error("cannot export " + in_quotes(p.label()) + ": the gateway never receives or keeps a client's "
                          "private key (it has only the public key " + key_text(p.public_key) + "). Pass "
                          "--private-key-file FILE with the client's key, or replace the peer: wgate peer remove " +
                          p.label() + " && wgate peer add " + p.label());
    }
    ClientConfig config;
    config.private_key = read_private_key(env, o.private_key_file);
    if (crypto::public_key_of(config.private_key) != p.public_key) {
        throw runtime_error("the private key in " + o.private_key_file + " belongs to " +
                            key_text(crypto::public_key_of(config.private_key)) + ", not to peer " + p.label() + " (" +
                            key_text(p.public_key) + ")");
    }
    fill_client_config(config, d, o.client, env);
    for (const IpPrefix& ip : p.allowed_ips) {
        if (ip.cidr == ip.address.bit_length() && (d.addresses.empty() || inside_pool(d.addresses, ip)))
            config.addresses.push_back(ip);
    }
    if (config.addresses.empty()) config.addresses = p.allowed_ips;
    config.preshared_key = p.preshared_key;

    const RenderedConfig rendered(config, o.client);
    std::unique_ptr<PrivateFile> conf_file, png_file;
    if (!o.client.out_file.empty()) conf_file = std::make_unique<PrivateFile>(o.client.out_file);
    if (!o.client.qr_png.empty()) png_file = std::make_unique<PrivateFile>(o.client.qr_png);
    const std::vector<std::string> where = deliver_config(rendered, o.client, env, conf_file, png_file);
    if (conf_file || png_file) env.err << "Exported " << in_quotes(p.label()) << " to " << list_places(where) << ".\n";
    return kExitOk;
}

int cmd_import(CliEnv& env, Daemon& daemon, const Options& o) {
    std::string text;
    if (o.import_file == "-") {
        text.assign(std::istreambuf_iterator<char>(env.in), std::istreambuf_iterator<char>());
    } else {
        std::ifstream in(o.import_file, std::ios::binary);
        if (!in) throw runtime_error("cannot read " + o.import_file + ": " + std::strerror(errno));
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const WgQuickFile file = parse_wg_quick(text, o.import_file == "-" ? "stdin" : o.import_file);
    wipe_string(text);  // it may hold a private key
    for (const std::string& w : file.warnings) env.err << "wgate: " << w << "\n";
    if (file.peers.empty()) throw runtime_error(o.import_file + " has no [Peer] section: nothing to import");

    const DeviceInfo d = daemon.get();
    std::string pools;
    for (const auto& a : d.addresses) pools += (pools.empty() ? "" : ", ") + to_text(a.network());

    std::string lines;
    std::vector<std::string> added;
    std::vector<std::string> names_in_file;
    std::vector<IpPrefix> claimed;  // allowed IPs of the peers imported so far
    for (const WgQuickPeer& peer : file.peers) {
        const std::string where = o.import_file + ":" + std::to_string(peer.line) + ": ";
        std::string name = peer.name;
        if (!name.empty() && !control::valid_peer_name(name)) {
            env.err << "wgate: " << where << "the comment " << in_quotes(name)
                    << " is not a valid peer name (printable, no '=', at most 64 bytes): imported without a name\n";
            name.clear();
        }
        if (const PeerInfo* existing = d.find_by_key(peer.public_key)) {
            if (o.skip_existing) {
                env.err << "wgate: " << where << "skipping " << key_text(peer.public_key) << ": already on " << d.ifname
                        << " as " << existing->label() << "\n";
                continue;
            }
            throw runtime_error(where + "peer " + key_text(peer.public_key) + " already exists on " + d.ifname + " (" +
                                existing->label() + "): remove it first, or pass --skip-existing");
        }
        if (!name.empty()) {
            check_name_free(d, name);
            if (std::find(names_in_file.begin(), names_in_file.end(), name) != names_in_file.end())
                throw runtime_error(where + "the name " + in_quotes(name) + " is used twice in the file: rename one");
            names_in_file.push_back(name);
        }
        for (const IpPrefix& ip : peer.allowed_ips) {
            if (!d.addresses.empty() && !inside_pool(d.addresses, ip)) {
                throw runtime_error(where + "AllowedIPs " + to_text(ip) + " is outside the address pool (" + pools +
                                    "): the gateway only routes client addresses from its pool; change it in the "
                                    "file or widen interface.addresses");
            }
            for (const PeerInfo& other : d.peers) {
                for (const IpPrefix& used : other.allowed_ips) {
                    if (overlaps(used, ip))
                        throw runtime_error(where + "AllowedIPs " + to_text(ip) + " overlaps " + to_text(used) +
                                            " of peer " + other.label() + ": change one of them");
                }
            }
            for (const IpPrefix& used : claimed) {
                if (overlaps(used, ip))
                    throw runtime_error(where + "AllowedIPs " + to_text(ip) + " overlaps " + to_text(used) +
                                        " of another peer in the file: change one of them");
            }
        }
        claimed.insert(claimed.end(), peer.allowed_ips.begin(), peer.allowed_ips.end());
        const std::string endpoint = peer.endpoint.empty() ? std::string() : resolve_endpoint(peer.endpoint);
        lines += peer_block(peer.public_key, name, peer.preshared_key, endpoint, peer.persistent_keepalive,
                            peer.allowed_ips);
        added.push_back((name.empty() ? short_key(peer.public_key) : name) +
                        (peer.allowed_ips.empty() ? "" : " (" + join(peer.allowed_ips) + ")"));
    }
    if (added.empty()) {
        env.out << "Nothing to import: every peer of " << o.import_file << " is already on " << d.ifname << ".\n";
        return kExitOk;
    }
    if (o.dry_run) {
        env.out << "Would import " << added.size() << (added.size() == 1 ? " peer" : " peers") << " into " << d.ifname
                << ":\n";
        for (const std::string& a : added) env.out << "  " << a << "\n";
        wipe_string(lines);
        return kExitOk;
    }
    daemon.set(std::move(lines), "importing " + o.import_file);
    env.out << "Imported " << added.size() << (added.size() == 1 ? " peer" : " peers") << " into " << d.ifname << ":\n";
    for (const std::string& a : added) env.out << "  " << a << "\n";
    if (file.has_interface) {
        env.err << "wgate: the [Interface] section (the other machine's own key and port) was not imported: "
                   "clients must now use this gateway's public key and endpoint (wgate show)\n";
    }
    return kExitOk;
}

int cmd_doctor(CliEnv& env, Daemon& daemon, const Options& o) {
    if (!o.doctor_endpoint.empty() && !valid_endpoint_text(o.doctor_endpoint))
        throw usage_error("--endpoint: " + in_quotes(o.doctor_endpoint) + " is not HOST:PORT ([IPv6]:PORT)");
    const DeviceInfo d = daemon.get();
    const HostFacts facts = gather_facts(d, env.system);
    const std::vector<Finding> findings = run_checks(d, facts, o.doctor_endpoint);
    if (o.json) {
        env.out << json{{"interface", d.ifname}, {"findings", findings_json(findings)}}.dump(2) << "\n";
    } else {
        env.out << render_findings(findings);
    }
    const bool failed = std::any_of(findings.begin(), findings.end(),
                                    [](const Finding& f) { return f.severity == Severity::fail; });
    return failed ? kExitRuntime : kExitOk;
}

// ---------------------------------------------------------------- wiring

void add_client_options(CLI::App* cmd, ClientOptions& c, bool export_cmd) {
    cmd->add_option("--endpoint", c.endpoint, "HOST:PORT clients dial (default: the gateway's public endpoint)")
        ->type_name("HOST:PORT");
    cmd->add_option("--allowed-ips", c.allowed_ips,
                    "what the client sends into the tunnel (default: tunnel subnet + LAN routes)")
        ->delimiter(',')
        ->type_name("CIDR,...");
    cmd->add_option("--dns", c.dns, "DNS servers for the client (default: the gateway's)")
        ->delimiter(',')
        ->type_name("ADDR,...");
    cmd->add_option("--keepalive", c.keepalive, "client PersistentKeepalive in seconds, 0 = off (default: gateway's, or 25)")
        ->check(CLI::Range(0, 65535))
        ->type_name("SECONDS");
    cmd->add_flag("--full-tunnel", c.full_tunnel, "route everything through the gateway (0.0.0.0/0, ::/0)");
    cmd->add_option("--out", c.out_file,
                    export_cmd ? "write the config to FILE (mode 0600) instead of stdout"
                               : "write the config to FILE (mode 0600) instead of stdout; it must not exist")
        ->type_name("FILE");
    cmd->add_flag("--qr", c.qr, "print the config as a QR code (UTF-8 blocks) on stdout");
    cmd->add_option("--qr-png", c.qr_png, "write the QR code as a PNG image to FILE (mode 0600)")->type_name("FILE");
}

std::string command_path(const CLI::App& app) {
    std::string path = app.get_name();
    const CLI::App* at = &app;
    for (;;) {
        const auto subs = at->get_subcommands();
        if (subs.empty()) break;
        at = subs.front();
        path += " " + at->get_name();
    }
    return path;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, CliEnv& env) {
    Options o;
    std::string socket_dir = kDefaultSocketDir;
    CLI::App app{"wgate: keys, named peers, client configs and diagnostics for a wgated gateway", "wgate"};
    app.set_version_flag("--version", kVersion);
    app.require_subcommand(1);
    app.fallthrough();
    app.add_option("-i,--interface", o.interface, "the wgated interface (default: the only one running)")
        ->type_name("IFNAME");
    app.footer("Exit codes: 0 done, 1 wrong command line, 2 could not be done.");

    auto* genkey = app.add_subcommand("genkey", "print a new private key (as wg genkey)");
    auto* pubkey = app.add_subcommand("pubkey", "read a private key on stdin, print its public key (as wg pubkey)");
    auto* genpsk = app.add_subcommand("genpsk", "print a new preshared key (as wg genpsk)");

    auto* show = app.add_subcommand("show", "the interface and its peers, like wg show, with names");
    show->add_option("interface", o.show_interface, "interface (same as -i)")->type_name("IFNAME");
    show->add_flag("--json", o.json, "JSON for scripts");

    auto* peer = app.add_subcommand("peer", "add, remove, list, rename, disable and enable peers");
    peer->require_subcommand(1);
    auto* add = peer->add_subcommand("add", "add a client: keys, next free address, config to stdout/--out/--qr");
    add->add_option("name", o.name, "the peer's name")->required()->type_name("NAME");
    add->add_option("--ip", o.ips, "auto (next free address of the pool) or host addresses, comma-separated")
        ->delimiter(',')
        ->type_name("ADDR|auto");
    add->add_flag("--psk", o.psk, "also generate a preshared key");
    add_client_options(add, o.client, false);
    auto* remove = peer->add_subcommand("remove", "remove a peer");
    remove->add_option("peer", o.name, "NAME or PUBLIC_KEY")->required()->type_name("PEER");
    auto* list = peer->add_subcommand("list", "list the peers");
    list->add_flag("--json", o.json, "JSON for scripts");
    auto* rename = peer->add_subcommand("rename", "rename a peer");
    rename->add_option("peer", o.name, "NAME or PUBLIC_KEY")->required()->type_name("PEER");
    rename->add_option("new_name", o.new_name, "the new name")->required()->type_name("NEW_NAME");
    auto* disable = peer->add_subcommand("disable", "disable a peer, keeping its configuration (gateway mode)");
    disable->add_option("peer", o.name, "NAME or PUBLIC_KEY")->required()->type_name("PEER");
    auto* enable = peer->add_subcommand("enable", "enable a disabled peer");
    enable->add_option("peer", o.name, "NAME or PUBLIC_KEY")->required()->type_name("PEER");

    auto* exp = app.add_subcommand("export", "rebuild a client's config from the gateway (needs its private key)");
    exp->add_option("peer", o.name, "NAME or PUBLIC_KEY")->required()->type_name("PEER");
    exp->add_option("--private-key-file", o.private_key_file,
                    "the client's private key: a key file or its old config ('-' for stdin)")
        ->type_name("FILE");
    add_client_options(exp, o.client, true);

    auto* imp = app.add_subcommand("import", "add the peers of a wg-quick config, names from its comments");
    imp->add_option("file", o.import_file, "a wg-quick config ('-' for stdin)")->required()->type_name("FILE.conf");
    imp->add_flag("--dry-run", o.dry_run, "show what would be imported, change nothing");
    imp->add_flag("--skip-existing", o.skip_existing, "skip peers whose public key is already configured");

    auto* doctor = app.add_subcommand("doctor", "check what usually breaks a gateway, and say how to fix it");
    doctor->add_flag("--json", o.json, "JSON for scripts");
    doctor->add_option("--endpoint", o.doctor_endpoint, "HOST:PORT clients dial (default: the gateway's)")
        ->type_name("HOST:PORT");

    auto* hidden = app.add_option("--socket-dir", socket_dir, "where the control sockets are");
    hidden->group("");

    // CLI11 would only say "A subcommand is required" for a misspelt one.
    if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
        app.get_subcommands([&](CLI::App* a) { return a->check_name(args[0]); }).empty()) {
        env.err << "wgate: unknown command " << in_quotes(args[0]) << "\nRun 'wgate --help' for the commands.\n";
        return kExitUsage;
    }
    if (args.size() >= 2 && args[0] == "peer" && !args[1].empty() && args[1][0] != '-' &&
        peer->get_subcommands([&](CLI::App* a) { return a->check_name(args[1]); }).empty()) {
        env.err << "wgate: unknown command 'peer " << args[1]
                << "' (add, remove, list, rename, disable, enable)\nRun 'wgate peer --help' for usage.\n";
        return kExitUsage;
    }
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(std::move(reversed));
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
            app.exit(e, env.out, env.err);
            return kExitOk;
        }
        env.err << "wgate: " << e.what() << "\nRun '" << command_path(app) << " --help' for usage.\n";
        return kExitUsage;
    }

    try {
        if (genkey->parsed()) return cmd_genkey(env, false);
        if (genpsk->parsed()) return cmd_genkey(env, true);
        if (pubkey->parsed()) return pubkey_command(env.in, env.out, env.err);

        std::optional<std::string> requested;
        if (!o.interface.empty()) requested = o.interface;
        if (!o.show_interface.empty()) {
            if (requested && *requested != o.show_interface)
                throw usage_error("two interfaces given (-i " + *requested + " and " + o.show_interface + "): give one");
            requested = o.show_interface;
        }
        const std::string ifname = choose_interface(requested, env.list_running ? env.list_running : [&socket_dir] {
            return running_interfaces(socket_dir);
        });
        if (!env.connect) {
            env.connect = [&socket_dir](const std::string& name) {
                return std::make_unique<SocketControlClient>(name, socket_dir);
            };
        }
        Daemon daemon(env, ifname);
        if (show->parsed()) return cmd_show(env, daemon, o);
        if (add->parsed()) return cmd_peer_add(env, daemon, o);
        if (remove->parsed()) return cmd_peer_remove(env, daemon, o);
        if (list->parsed()) return cmd_peer_list(env, daemon, o);
        if (rename->parsed()) return cmd_peer_rename(env, daemon, o);
        if (disable->parsed()) return cmd_peer_enable(env, daemon, o, false);
        if (enable->parsed()) return cmd_peer_enable(env, daemon, o, true);
        if (exp->parsed()) return cmd_export(env, daemon, o);
        if (imp->parsed()) return cmd_import(env, daemon, o);
        if (doctor->parsed()) return cmd_doctor(env, daemon, o);
        throw usage_error("no command given: run wgate --help");
    } catch (const CliError& e) {
        env.out.flush();
        env.err << "wgate: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        env.out.flush();
        env.err << "wgate: unexpected error: " << e.what() << "\n";
        return kExitRuntime;
    }
}

}  // namespace wgate::cli
