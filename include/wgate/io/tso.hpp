// TUN offload helpers (the offload path; off with WGATE_OFFLOAD=0): a TUN opened with
// IFF_VNET_HDR hands us a virtio_net_hdr before every packet, and with
// TUNSETOFFLOAD the packet may be a TCP super-packet (TSO), a UDP one (USO,
// kernels from 6.2) or lack its transport checksum. TsoSplitter turns such a
// read into the plain IP packets the core expects; TunCoalescer goes the
// other way. Pure: no IO, so they are unit-tested directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace wgate::io {

// struct virtio_net_hdr (legacy layout, host byte order) from
// <linux/virtio_net.h>, which is not valid C++ (a member named `class`).
struct VnetHdr {
    std::uint8_t flags = 0;
    std::uint8_t gso_type = 0;
    std::uint16_t hdr_len = 0;      // headers up to the L4 payload (a hint)
    std::uint16_t gso_size = 0;     // payload bytes per segment
    std::uint16_t csum_start = 0;   // where the L4 checksum's coverage starts
    std::uint16_t csum_offset = 0;  // where the checksum field is, from csum_start
};
inline constexpr std::size_t kVnetHdrSize = 10;  // what TUNSETVNETHDRSZ is set to
static_assert(sizeof(VnetHdr) == kVnetHdrSize);
inline constexpr std::uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kGsoNone = 0;        // VIRTIO_NET_HDR_GSO_NONE
inline constexpr std::uint8_t kGsoTcpV4 = 1;       // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr std::uint8_t kGsoUdp = 3;         // VIRTIO_NET_HDR_GSO_UDP
inline constexpr std::uint8_t kGsoTcpV6 = 4;       // VIRTIO_NET_HDR_GSO_TCPV6
inline constexpr std::uint8_t kGsoUdpL4 = 5;       // VIRTIO_NET_HDR_GSO_UDP_L4 (USO)
inline constexpr std::uint8_t kGsoEcn = 0x80;      // VIRTIO_NET_HDR_GSO_ECN

// RFC 1071 ones-complement sum helpers, byte-order independent: sums are
// taken over native 16-bit loads, so storing ~fold(...) natively is correct.
std::uint64_t checksum_add(std::uint64_t acc, const std::uint8_t* data, std::size_t size);
std::uint16_t checksum_fold(std::uint64_t acc);

// Packet buffers handed out in order and recycled together by reset(); the
// blocks stay allocated, so a steady data path does not allocate.
class PacketArena {
public:
    std::uint8_t* alloc(std::size_t size);  // size <= kBlockSize
    void reset() {
        block_ = 0;
        used_ = 0;
    }
    static constexpr std::size_t kBlockSize = 128 * 1024;  // > any packet (64 KiB + headers)

private:
    std::vector<std::vector<std::uint8_t>> blocks_;
    std::size_t block_ = 0;
    std::size_t used_ = 0;
};

class TsoSplitter {
public:
    // Splits one TUN read (virtio_net_hdr + packet) into plain IP packets,
    // appended to `out`. A packet that needs no segmentation is passed as a
    // span into `frame` (its checksum completed in place when asked for);
    // segments are written into the arena. Returns false and counts the frame
    // when it is malformed (nothing is appended then).
    bool split(std::span<std::uint8_t> frame, std::vector<std::span<const std::uint8_t>>& out);
    // Recycles the arena: spans produced by split() become invalid.
    void reset() { arena_.reset(); }
    std::uint64_t malformed() const { return malformed_; }
    std::uint64_t super_packets() const { return super_packets_; }  // TSO/USO reads split

private:
    bool bad() {
        ++malformed_;
        return false;
    }
    bool split_udp(const VnetHdr& h, std::uint8_t* p, std::size_t size, std::vector<std::span<const std::uint8_t>>& out);
    // Segment i of the super-packet p (size bytes, headers hdr bytes, the L4
    // header at ip_len), its payload cut every mss bytes: the headers and its
    // slice, the IPv4 ID renumbered, the IP header fixed. `pseudo` gets the
    // sum of its L4 pseudo-header.
    std::span<std::uint8_t> cut(const std::uint8_t* p, std::size_t size, std::size_t hdr, std::size_t mss,
                                std::size_t i, std::size_t ip_len, std::uint8_t proto, std::uint64_t& pseudo);

    PacketArena arena_;
    std::uint64_t malformed_ = 0;
    std::uint64_t super_packets_ = 0;
};

// The way back (like GRO): consecutive packets of one flow, as the core
// decrypted them, merged into one super-packet that the kernel takes in a
// single TUN write and splits again (virtio_net_hdr + NEEDS_CSUM):
// - TCP (GSO TCPV4/TCPV6): plain in-order data segments (ACK, optionally PSH
//   on the last);
// - UDP (GSO UDP_L4), only when the TUN accepted USO: datagrams of equal size
//   (the last may be shorter), at most 64 (the kernel's UDP_MAX_SEGMENTS),
//   IPv4 ones with DF set or consecutive IDs (segmenting renumbers them).
// All else passes through unchanged, in order.
class TunCoalescer {
public:
    struct Item {
        VnetHdr hdr;  // all zero for a packet written as is
        std::span<const std::uint8_t> bytes;
    };
    explicit TunCoalescer(bool udp = false) : udp_(udp) {}
    void set_udp(bool on) { udp_ = on; }
    // Appends what to write to `out`, in the order of `packets`. Merged
    // packets live in the arena until reset().
    void coalesce(std::span<const std::span<const std::uint8_t>> packets, std::vector<Item>& out);
    void reset() { arena_.reset(); }
    // Packets that went into super-packets: TCP segments, UDP datagrams.
    std::uint64_t merged_tcp() const { return merged_tcp_; }
    std::uint64_t merged_udp() const { return merged_udp_; }

private:
    void emit_tcp(std::span<const std::span<const std::uint8_t>> group, std::vector<Item>& out);
    void emit_udp(std::span<const std::span<const std::uint8_t>> group, std::vector<Item>& out);

    PacketArena arena_;
    bool udp_ = false;
    std::uint64_t merged_tcp_ = 0;
    std::uint64_t merged_udp_ = 0;
};

}  // namespace wgate::io
