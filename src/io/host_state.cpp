#include "wgate/io/host_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "wgate/io/fd.hpp"
#include "wgate/io/nat.hpp"

namespace wgate::io {
namespace {

constexpr int kFormatVersion = 1;

std::system_error error(int err, const std::string& what) { return {err, std::generic_category(), what}; }

// Sysctl values may hold spaces and tabs ("4096 87380 6291456"): the file is
// space-separated, so those (and '%') are percent-encoded.
std::string escape(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= ' ' || c == '%' || u >= 0x7f) {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        unsigned v = 0;
        const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (ec != std::errc{} || p != s.data() + i + 3) return std::nullopt;
        out += static_cast<char>(v);
        i += 2;
    }
    return out;
}

template <typename T>
std::optional<T> parse_number(std::string_view s) {
    T v{};
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string> split(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

void write_all(int fd, const std::string& data, const std::string& what) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw error(errno, what);
        }
        done += static_cast<std::size_t>(n);
    }
}

std::string serialise(const HostState& s) {
    std::string out = "# wgate host state: what wgated changed, undone at exit or after a crash. Do not edit.\n";
    out += "version " + std::to_string(kFormatVersion) + "\n";
    out += "ifname " + s.ifname + "\n";
    out += "ifindex " + std::to_string(s.ifindex) + "\n";
    out += "owns_link " + std::string(s.owns_link ? "1" : "0") + "\n";
    out += "pid " + std::to_string(s.pid) + "\n";
    out += "start_time " + std::to_string(s.start_time) + "\n";
    if (!s.nft_table.empty()) out += "nft_table " + s.nft_table + "\n";
    for (const auto& c : s.sysctls)
        out += "sysctl " + escape(c.key) + " " + escape(c.old_value) + " " + escape(c.new_value) + "\n";
    for (const auto& a : s.addresses) out += "address " + a.address.to_string() + "/" + std::to_string(a.cidr) + "\n";
    for (const auto& r : s.routes) out += "route " + r.prefix.to_string() + " " + std::to_string(r.table) + "\n";
    return out;
}

}  // namespace

std::filesystem::path host_state_path(std::string_view ifname, const std::filesystem::path& dir) {
    const bool valid = !ifname.empty() && ifname.size() < 16 && ifname != "." && ifname != ".." &&
                       std::none_of(ifname.begin(), ifname.end(), [](char c) {
                           return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0';
                       });
    if (!valid) throw std::invalid_argument("host state: '" + std::string(ifname) + "' is not an interface name");
    return dir / (std::string(ifname) + ".state");
}

HostState new_host_state(std::string_view ifname) {
    HostState s;
    s.ifname = ifname;
    s.pid = ::getpid();
    s.start_time = process_start_time(s.pid);
    return s;
}

std::uint64_t process_start_time(pid_t pid) {
    if (pid <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) return 0;
    // "PID (comm) state ppid ...": comm may hold spaces and ')', so count
    // fields after the last ')'. starttime is field 22, the 20th after it.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(line.substr(close + 1));
    std::string field;
    for (int i = 0; i < 20; ++i)
        if (!(fields >> field)) return 0;
    return parse_number<std::uint64_t>(field).value_or(0);
}

bool owner_alive(const HostState& state) {
    const std::uint64_t now = process_start_time(state.pid);
    if (now == 0) return false;
    return state.start_time == 0 || now == state.start_time;
}

void write_host_state(const std::filesystem::path& path, const HostState& state) {
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);  // deeper trees (tests, custom dirs)
        if (ec) throw std::system_error(ec, "host state: creating " + dir.string());
        ::chmod(dir.c_str(), 0700);
    }
    // Unique per process, so two writers never share a temporary file.
    const std::filesystem::path tmp = dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd.valid()) throw error(errno, "host state: creating " + tmp.string());
        try {
            write_all(fd.get(), serialise(state), "host state: writing " + tmp.string());
            if (::fsync(fd.get()) < 0) throw error(errno, "host state: syncing " + tmp.string());
        } catch (...) {
            ::unlink(tmp.c_str());
            throw;
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw error(err, "host state: renaming " + tmp.string() + " to " + path.string());
    }
    // The rename itself must reach the disk (on /run, tmpfs, this is a no-op).
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.valid()) ::fsync(dfd.get());
}

std::optional<HostState> read_host_state(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) return std::nullopt;
        throw error(errno, "host state: reading " + path.string());
    }
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw error(errno, "host state: reading " + path.string());
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    std::istringstream in(text);
    HostState s;
    bool versioned = false;
    int number = 0;
    auto bad = [&](const std::string& why) {
        return std::runtime_error("host state: " + path.string() + " line " + std::to_string(number) + ": " + why);
    };
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        const auto w = split(line);
        if (w.empty()) continue;
        const std::string& key = w[0];
        auto want = [&](std::size_t n) {
            if (w.size() != n + 1) throw bad("'" + key + "' wants " + std::to_string(n) + " value(s)");
        };
        if (key == "version") {
            want(1);
            const auto v = parse_number<int>(w[1]);
            if (!v || *v > kFormatVersion || *v < 1) throw bad("unsupported version " + w[1]);
            versioned = true;
        } else if (key == "ifname") {
            want(1);
            s.ifname = w[1];
        } else if (key == "ifindex") {
            want(1);
            s.ifindex = parse_number<int>(w[1]).value_or(-1);
            if (s.ifindex < 0) throw bad("bad ifindex");
        } else if (key == "owns_link") {
            want(1);
            if (w[1] != "0" && w[1] != "1") throw bad("owns_link must be 0 or 1");
            s.owns_link = w[1] == "1";
        } else if (key == "pid") {
            want(1);
            s.pid = parse_number<pid_t>(w[1]).value_or(-1);
            if (s.pid < 0) throw bad("bad pid");
        } else if (key == "start_time") {
            want(1);
            const auto t = parse_number<std::uint64_t>(w[1]);
            if (!t) throw bad("bad start_time");
            s.start_time = *t;
        } else if (key == "nft_table") {
            want(1);
            s.nft_table = w[1];
        } else if (key == "sysctl") {
            want(3);
            auto k = unescape(w[1]), o = unescape(w[2]), n = unescape(w[3]);
            if (!k || !o || !n) throw bad("bad escape");
            s.sysctls.push_back({*k, *o, *n});
        } else if (key == "address") {
            want(1);
            const auto slash = w[1].find('/');
            const auto address = core::IpAddress::parse(std::string_view(w[1]).substr(0, slash));
            const auto cidr = slash == std::string::npos ? std::nullopt
                                                         : parse_number<unsigned>(std::string_view(w[1]).substr(slash + 1));
            if (!address || !cidr || *cidr > address->bit_length()) throw bad("bad address");
            s.addresses.push_back({*address, *cidr});
        } else if (key == "route") {
            want(2);
            const auto prefix = core::IpPrefix::parse(w[1]);
            const auto table = parse_number<std::uint32_t>(w[2]);
            if (!prefix || !table) throw bad("bad route");
            s.routes.push_back({*prefix, *table});
        }
        // Unknown keys are skipped: a newer minor addition must not block cleanup.
    }
    if (!versioned) throw bad("no version line");
    if (s.ifname.empty()) throw bad("no ifname");
    return s;
}

bool remove_host_state(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    throw error(errno, "host state: removing " + path.string());
}

CleanupReport undo_host_state(const HostState& state) {
    CleanupReport report;
    auto step = [&](const std::string& what, auto&& action) {
        try {
            action();
        } catch (const std::exception& e) {
            report.failed.push_back(what + ": " + e.what());
        }
    };

    std::optional<Netlink> netlink;
    step("opening rtnetlink", [&] { netlink.emplace(); });
    // Our interface is the one with the recorded index *and* name; another one
    // that took the name later is left alone.
    bool link_is_ours = false;
    if (netlink && state.ifindex > 0)
        step("looking up " + state.ifname, [&] { link_is_ours = netlink->name_of(state.ifindex) == state.ifname; });

    // Routes and addresses leave with their interface; if it still exists,
    // delete ours: routes by prefix, device, table and protocol (never a
    // same-prefix route of someone else).
    if (link_is_ours) {
        for (const StateRoute& r : state.routes) {
            step("deleting route " + r.prefix.to_string(), [&] {
                if (netlink->delete_route(r.prefix, state.ifindex, r.table, kRouteProtocol))
                    report.done.push_back("deleted route " + r.prefix.to_string() + " dev " + state.ifname);
            });
        }
        for (const StateAddress& a : state.addresses) {
            const std::string text = a.address.to_string() + "/" + std::to_string(a.cidr);
            step("deleting address " + text, [&] {
                if (netlink->delete_address(state.ifindex, a.address, a.cidr))
                    report.done.push_back("deleted address " + text + " from " + state.ifname);
            });
        }
    }

    if (!state.nft_table.empty()) {
        step("removing nftables table inet " + state.nft_table, [&] {
            Nat nat;
            if (nat.remove(state.nft_table)) report.done.push_back("removed nftables table inet " + state.nft_table);
        });
    }

    if (!state.sysctls.empty()) {
        step("restoring sysctls", [&] {
            // Only network keys: a state file must not become a way to set any sysctl.
            std::vector<SysctlChange> network;
            for (const SysctlChange& c : state.sysctls) {
                if (c.key.starts_with("net.") || c.key.starts_with("net/"))
                    network.push_back(c);
                else
                    report.failed.push_back("sysctl " + c.key + ": not a network key, left alone");
            }
            const SysctlRestore result = restore_sysctls(network);
            for (const auto& key : result.restored) report.done.push_back("restored sysctl " + key);
            report.failed.insert(report.failed.end(), result.failed.begin(), result.failed.end());
        });
    }

    if (link_is_ours && state.owns_link) {
        step("deleting interface " + state.ifname, [&] {
            if (netlink->delete_link(state.ifindex)) report.done.push_back("deleted interface " + state.ifname);
        });
    }
    return report;
}

}  // namespace wgate::io
