// A Linux TUN device without packet-information header. Reads and writes are
// non-blocking; the event loop waits for readiness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "wgate/io/fd.hpp"

namespace wgate::io {

class Tun {
public:
    // Creates (or attaches to a free persistent) TUN named `name`. Throws
    // std::system_error with a message that says what to fix.
    static Tun open(const std::string& name, unsigned mtu);

    int fd() const { return fd_.get(); }
    const std::string& name() const { return name_; }
    int ifindex() const { return ifindex_; }

    // Reads up to buffers.size() packets; sizes[i] gets each length. Returns the
    // count (0: nothing pending). Throws when the device is gone (deleted).
    std::size_t read_batch(std::vector<std::vector<std::uint8_t>>& buffers, std::vector<std::size_t>& sizes);
    // Writes one packet; drops it silently when the kernel queue is full.
    void write(std::span<const std::uint8_t> packet);

    // Whether the interface still exists, asked through the TUN fd itself so
    // it works after the interface moved to another network namespace: a
    // write to a deleted TUN fails with EBADFD.
    bool exists() const;

private:
    Fd fd_;
    std::string name_;
    int ifindex_ = 0;
};

// MTU of an interface in the current network namespace, 0 if unknown.
unsigned interface_mtu(const std::string& name);
// Whether the interface is administratively up (IFF_UP) in the current namespace.
bool interface_up(const std::string& name);

}  // namespace wgate::io
