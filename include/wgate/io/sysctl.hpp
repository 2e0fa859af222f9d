// Kernel parameters under /proc/sys, and the forwarding switches gateway mode
// turns on. Network sysctls belong to the network namespace of the calling
// thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wgate::io {

inline constexpr std::string_view kIpv4Forwarding = "net.ipv4.ip_forward";
inline constexpr std::string_view kIpv6Forwarding = "net.ipv6.conf.all.forwarding";

// "net.ipv4.ip_forward" -> /proc/sys/net/ipv4/ip_forward. A key with '/'
// is taken as a path below /proc/sys as is (for names with dots, such as
// "net/ipv6/conf/eth0.5/forwarding"). Keys with ".." are refused.
std::string sysctl_path(std::string_view key);
// The value without its trailing newline. Throws std::system_error.
std::string read_sysctl(std::string_view key);
void write_sysctl(std::string_view key, std::string_view value);

// One change we made: what to put back.
struct SysctlChange {
    std::string key;
    std::string old_value;
    std::string new_value;

    friend bool operator==(const SysctlChange&, const SysctlChange&) = default;
};

struct SysctlRestore {
    std::vector<std::string> restored;  // keys put back to their old value
    std::vector<std::string> failed;    // "<reason>" for each key that could not be
};

// Puts old values back, but only where the value is still the one we set
// (someone who changed it since knows better: such keys are in neither list).
// Never throws for a single key.
SysctlRestore restore_sysctls(const std::vector<SysctlChange>& changes);

// Turns forwarding on and remembers what it was, to put it back on restore()
// or destruction. Only values it actually changed are recorded, so a host
// that already forwarded keeps forwarding.
class ForwardingGuard {
public:
    using BeforeChange = std::function<void(const std::vector<SysctlChange>&)>;

    ForwardingGuard() = default;
    // `before_change` sees the planned changes before anything is written, so
    // they can be persisted first (a crash between the write and the record
    // would otherwise lose the old values). If it throws, nothing changes.
    ForwardingGuard(bool ipv4, bool ipv6, const BeforeChange& before_change = {});
    ~ForwardingGuard();
    ForwardingGuard(ForwardingGuard&& other) noexcept;
    ForwardingGuard& operator=(ForwardingGuard&& other) noexcept;
    ForwardingGuard(const ForwardingGuard&) = delete;
    ForwardingGuard& operator=(const ForwardingGuard&) = delete;

    const std::vector<SysctlChange>& changes() const { return changes_; }
    // Restores now (see restore_sysctls). Idempotent.
    SysctlRestore restore();
    // Keeps the changes in place (e.g. to hand them to a successor).
    void release() { changes_.clear(); }

private:
    std::vector<SysctlChange> changes_;
};

}  // namespace wgate::io
