// The UDP side: one IPv4 and one IPv6 socket (V6ONLY) on the same port,
// batched with recvmmsg/sendmmsg, with the local destination address of each
// received datagram recorded (IP_PKTINFO) so replies leave from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <sys/uio.h>

#include "wgate/core/packet.hpp"
#include "wgate/io/fd.hpp"

namespace wgate::io {

class UdpSockets {
public:
    static constexpr std::size_t kBatch = 64;

    UdpSockets();
    // Binds both families to `port` (0: a random port shared by both).
    // Throws std::system_error (EADDRINUSE etc.).
    void bind(std::uint16_t port);
    // Rebinds to a new port; on failure the old sockets stay. Returns errno or 0.
    int rebind(std::uint16_t port);
    std::uint16_t port() const { return port_; }
    int set_fwmark(std::uint32_t mark);  // errno or 0
    std::uint32_t fwmark() const { return fwmark_; }

    int fd4() const { return v4_.get(); }
    int fd6() const { return v6_.get(); }

    // Receives up to kBatch reads from the socket fd (fd4() or fd6()) and
    // returns how many there were (kBatch: more may be queued). `out` gets the
    // datagrams, more than the reads with GRO; its spans point into internal
    // buffers valid until the next call.
    std::size_t receive(int fd, std::vector<core::ReceivedDatagram>& out);
    // Sends all datagrams. A datagram whose sticky source address is gone is
    // retried without it; its address is reported in `lost_sources`.
    void send(const core::Batch<core::Datagram>& datagrams, std::vector<core::IpAddress>& lost_sources);

    std::uint64_t send_errors() const { return send_errors_; }
    // Offload at work: datagrams sent inside GSO sends, received inside GRO reads.
    std::uint64_t gso_datagrams() const { return gso_datagrams_; }
    std::uint64_t gro_datagrams() const { return gro_datagrams_; }

    // offload path: send runs of equal-sized datagrams to one endpoint as a
    // single UDP GSO send (UDP_SEGMENT), and receive coalesced datagrams
    // (UDP_GRO). Call before bind(); sockets made later get it too.
    void enable_offload() { offload_ = gso_ = true; }
    bool gso_active() const { return gso_; }

private:
    struct Slot;
    void send_family(int fd, std::vector<const core::Datagram*>& list, std::vector<core::IpAddress>& lost);
    void send_family_gso(int fd, std::vector<const core::Datagram*>& list, std::vector<core::IpAddress>& lost);

    Fd v4_;
    Fd v6_;
    std::uint16_t port_ = 0;
    std::uint32_t fwmark_ = 0;
    std::vector<std::vector<std::uint8_t>> buffers_;
    std::uint64_t send_errors_ = 0;
    std::uint64_t gso_datagrams_ = 0;
    std::uint64_t gro_datagrams_ = 0;
    bool offload_ = false;
    bool gso_ = false;            // cleared when the kernel refuses the first GSO send
    bool gso_confirmed_ = false;  // a GSO send went through: later errors are not "unsupported"
    std::vector<iovec> gso_iov_;
    std::vector<const core::Datagram*> retry_;
};

}  // namespace wgate::io
