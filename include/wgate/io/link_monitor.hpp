// Link notifications (RTM_NEWLINK) for one interface: MTU and up/down, as they
// happen, through an rtnetlink socket in the daemon's network namespace.
#pragma once

#include <cstdint>
#include <optional>

#include "wgate/io/fd.hpp"

struct mnl_socket;

namespace wgate::io {

struct LinkState {
    unsigned mtu = 0;
    bool up = false;
    // Gone from this namespace: deleted, or moved to another namespace (the
    // TUN fd tells which).
    bool removed = false;
};

class LinkMonitor {
public:
    explicit LinkMonitor(int ifindex);
    ~LinkMonitor();
    LinkMonitor(const LinkMonitor&) = delete;
    LinkMonitor& operator=(const LinkMonitor&) = delete;

    int fd() const;
    // Drains pending notifications; returns the latest state of our interface if any arrived.
    std::optional<LinkState> read();

private:
    mnl_socket* socket_ = nullptr;
    int ifindex_;
};

}  // namespace wgate::io
