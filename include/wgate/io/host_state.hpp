// What gateway mode changed on the host (routes, nftables table, forwarding
// sysctls, the interface), kept in a small file so that a restart after a
// crash (kill -9) can undo it: /run/wgate/IFNAME.state, replaced atomically.
//
// The intended use, in order:
//   1. at start, read_host_state(); if present and !owner_alive(): undo_host_state(), remove it;
//      if the owner is alive, another wgated manages this interface: refuse;
//   2. write_host_state() before each change (record first, then change), so
//      no crash point leaves a change unrecorded;
//   3. on SIGTERM/SIGINT or a fatal error: undo_host_state() with the current
//      state, then remove_host_state().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wgate/core/ip.hpp"
#include "wgate/io/netlink.hpp"
#include "wgate/io/sysctl.hpp"

namespace wgate::io {

inline constexpr std::string_view kStateDirectory = "/run/wgate";

struct StateRoute {
    core::IpPrefix prefix;
    std::uint32_t table = kMainTable;

    friend bool operator==(const StateRoute&, const StateRoute&) = default;
};

struct StateAddress {
    core::IpAddress address;  // host bits kept: 10.0.0.1/24
    unsigned cidr = 0;

    friend bool operator==(const StateAddress&, const StateAddress&) = default;
};

struct HostState {
    std::string ifname;
    int ifindex = 0;         // with ifname, tells our interface from a later one of the same name
    bool owns_link = false;  // we created the interface: cleanup deletes it
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // of pid, in clock ticks since boot: tells a reused pid apart
    std::string nft_table;         // empty: none installed
    std::vector<SysctlChange> sysctls;
    std::vector<StateAddress> addresses;  // on ifindex; they leave with the interface anyway
    std::vector<StateRoute> routes;       // added with kRouteProtocol on ifindex

    friend bool operator==(const HostState&, const HostState&) = default;
};

// <dir>/<ifname>.state; throws std::invalid_argument for a name that is not a
// valid interface name (empty, too long, '/', whitespace, "." or "..").
std::filesystem::path host_state_path(std::string_view ifname,
                                      const std::filesystem::path& dir = std::filesystem::path(kStateDirectory));

// A state for this process (pid and start time filled in).
HostState new_host_state(std::string_view ifname);

// Start time of a running process (field 22 of /proc/PID/stat); 0 if there is
// no such process.
std::uint64_t process_start_time(pid_t pid);
// Whether the process that wrote `state` still runs (same pid, same start time).
bool owner_alive(const HostState& state);

// Writes atomically (temporary file, fsync, rename, fsync of the directory),
// mode 0600; creates the directory (0700) if needed. Throws std::system_error.
void write_host_state(const std::filesystem::path& path, const HostState& state);
// nullopt if there is no file; throws std::runtime_error for a file we cannot
// read or understand (a newer format, garbage).
std::optional<HostState> read_host_state(const std::filesystem::path& path);
// Returns whether a file was there.
bool remove_host_state(const std::filesystem::path& path);

struct CleanupReport {
    std::vector<std::string> done;    // "deleted route 10.1.0.0/24", ...
    std::vector<std::string> failed;  // each with the reason
    bool ok() const { return failed.empty(); }
};

// Undoes everything `state` records, best effort, each step on its own:
// routes (ours only: our protocol, on our interface if it still exists) and
// addresses, the nftables table, the forwarding sysctls (only where still at
// our value), and the interface if we own it and it is still the same one.
// Recording a route or address before adding it is safe: if the add then
// fails or finds someone else's, the undo matches nothing of theirs.
// Never throws.
CleanupReport undo_host_state(const HostState& state);

}  // namespace wgate::io
