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
#include "wgate/io/tso.hpp"

namespace wgate::io {

class Tun {
public:
    // Creates (or attaches to a free persistent) TUN named `name`. Throws
    // std::system_error with a message that says what to fix.
    // With `offload` the TUN carries a virtio_net_hdr before every packet
    // (IFF_VNET_HDR) and may hand us TCP super-packets and packets without
    // their transport checksum (TUNSETOFFLOAD); see tso.hpp.
    static Tun open(const std::string& name, unsigned mtu, bool offload = false);

    int fd() const { return fd_.get(); }
    const std::string& name() const { return name_; }
    int ifindex() const { return ifindex_; }

    // Reads up to buffers.size() packets; sizes[i] gets each length. Returns the
    // count (0: nothing pending). Throws when the device is gone (deleted).
    std::size_t read_batch(std::vector<std::vector<std::uint8_t>>& buffers, std::vector<std::size_t>& sizes);
    // Writes one packet; drops it silently when the kernel queue is full.
    // With a vnet header it gets an all-zero one: no GSO, checksum complete.
    void write(std::span<const std::uint8_t> packet);
    // Writes a packet with the given vnet header (only when vnet_hdr()).
    void write(const VnetHdr& hdr, std::span<const std::uint8_t> packet);
    // Whether reads start with, and writes need, a virtio_net_hdr.
    bool vnet_hdr() const { return vnet_hdr_; }
    // The kernel takes and hands out UDP super-packets too (USO, Linux 6.2+).
    bool uso() const { return uso_; }

    // Whether the interface still exists, asked through the TUN fd itself so
    // it works after the interface moved to another network namespace: a
    // write to a deleted TUN fails with EBADFD.
    bool exists() const;

private:
    Fd fd_;
    std::string name_;
    int ifindex_ = 0;
    bool vnet_hdr_ = false;
    bool uso_ = false;
};

// The offload data path (TUN vnet header with TSO/checksum offload, TCP
// coalescing on TUN writes, UDP GSO on send, UDP GRO on receive) is on by
// default; WGATE_OFFLOAD=0 in the environment turns it off (the plain
// one-packet-per-syscall path, for comparison and as a fallback).
bool offload_requested();

// MTU of an interface in the current network namespace, 0 if unknown.
unsigned interface_mtu(const std::string& name);
// Whether the interface is administratively up (IFF_UP) in the current namespace.
bool interface_up(const std::string& name);

}  // namespace wgate::io
