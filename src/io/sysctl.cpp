#include "wgate/io/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "wgate/io/fd.hpp"

namespace wgate::io {
namespace {

std::system_error error(int err, const std::string& what) { return {err, std::generic_category(), what}; }

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    return s;
}

}  // namespace

std::string sysctl_path(std::string_view key) {
    if (key.empty() || key.find("..") != std::string_view::npos || key.front() == '/' || key.front() == '.')
        throw error(EINVAL, "sysctl: invalid key '" + std::string(key) + "'");
    std::string path = "/proc/sys/";
    if (key.find('/') != std::string_view::npos) {
        path += key;
    } else {
        for (char c : key) path += c == '.' ? '/' : c;
    }
    return path;
}

std::string read_sysctl(std::string_view key) {
    const std::string path = sysctl_path(key);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw error(errno, "sysctl: reading " + std::string(key) + " (" + path + ")");
    std::string value;
    char buf[256];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw error(errno, "sysctl: reading " + std::string(key));
        }
        if (n == 0) break;
        value.append(buf, static_cast<std::size_t>(n));
    }
    return trim(std::move(value));
}

void write_sysctl(std::string_view key, std::string_view value) {
    const std::string path = sysctl_path(key);
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) {
        const int err = errno;
        // A read-only /proc/sys is the usual container setup: say so.
        const std::string hint = (err == EROFS || err == EACCES || err == EPERM)
                                     ? " (needs root and a writable /proc/sys; in a container, set it from outside)"
                                     : "";
        throw error(err, "sysctl: setting " + std::string(key) + " = " + std::string(value) + hint);
    }
    // One write: /proc/sys parses the whole value from a single write().
    const std::string line = std::string(value) + "\n";
    ssize_t n;
    do {
        n = ::write(fd.get(), line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw error(errno, "sysctl: setting " + std::string(key) + " = " + std::string(value));
    if (static_cast<std::size_t>(n) != line.size())
        throw error(EIO, "sysctl: setting " + std::string(key) + ": short write");
}

SysctlRestore restore_sysctls(const std::vector<SysctlChange>& changes) {
    SysctlRestore result;
    // Reverse order: the last change is undone first.
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
        try {
            if (read_sysctl(it->key) != it->new_value) continue;  // changed by someone else since
            write_sysctl(it->key, it->old_value);
            result.restored.push_back(it->key);
        } catch (const std::exception& e) {
            result.failed.push_back(e.what());
        }
    }
    return result;
}

ForwardingGuard::ForwardingGuard(bool ipv4, bool ipv6, const BeforeChange& before_change) {
    std::vector<SysctlChange> planned;
    auto plan = [&](std::string_view key) {
        std::string old = read_sysctl(key);
        if (old != "1") planned.push_back({std::string(key), std::move(old), "1"});
    };
    if (ipv4) plan(kIpv4Forwarding);
    if (ipv6) plan(kIpv6Forwarding);
    if (planned.empty()) return;
    if (before_change) before_change(planned);
    for (const SysctlChange& change : planned) {
        try {
            write_sysctl(change.key, change.new_value);
        } catch (...) {
            restore();  // leave the host as we found it
            throw;
        }
        changes_.push_back(change);
    }
}

ForwardingGuard::~ForwardingGuard() { restore(); }

ForwardingGuard::ForwardingGuard(ForwardingGuard&& other) noexcept : changes_(std::exchange(other.changes_, {})) {}

ForwardingGuard& ForwardingGuard::operator=(ForwardingGuard&& other) noexcept {
    if (this != &other) {
        restore();
        changes_ = std::exchange(other.changes_, {});
    }
    return *this;
}

SysctlRestore ForwardingGuard::restore() {
    SysctlRestore result;
    try {
        result = restore_sysctls(changes_);
    } catch (...) {
        // Only allocation can throw here; the destructor must not.
    }
    changes_.clear();
    return result;
}

}  // namespace wgate::io
