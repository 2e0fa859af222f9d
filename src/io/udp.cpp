#include "wgate/io/udp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace wgate::io {
namespace {

constexpr std::size_t kBufferSize = 65536;
// Room for a pktinfo plus a UDP_SEGMENT / UDP_GRO value (offload).
constexpr std::size_t kControlSize = CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo));
static_assert(kControlSize >= CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int)));
// UDP GSO limits: the kernel's segment cap and the largest UDP payload.
constexpr std::size_t kGsoMaxSegments = 64;
constexpr std::size_t kGsoMaxBytes = 65507;

std::system_error error(int err, const std::string& what) { return {err, std::generic_category(), what}; }

Fd make_socket(int family, std::uint16_t port, std::uint32_t fwmark, bool gro, int& err) {
    Fd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        err = errno;
        return {};
    }
    const int one = 1;
    if (family == AF_INET6) {
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    } else {
        ::setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    }
    // Big buffers absorb bursts between event-loop turns.
    const int size = 4 << 20;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    if (fwmark) ::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &fwmark, sizeof fwmark);
    // Coalesced receive; a kernel without it just delivers single datagrams.
    if (gro) ::setsockopt(fd.get(), SOL_UDP, UDP_GRO, &one, sizeof one);

    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET6) {
        auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
        sa->sin6_family = AF_INET6;
        sa->sin6_addr = in6addr_any;
        sa->sin6_port = htons(port);
        len = sizeof *sa;
    } else {
        auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
        sa->sin_family = AF_INET;
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
        sa->sin_port = htons(port);
        len = sizeof *sa;
    }
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        err = errno;
        return {};
    }
    err = 0;
    return fd;
}

std::uint16_t bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

core::Endpoint endpoint_of(const sockaddr_storage& ss) {
    core::Endpoint e;
    if (ss.ss_family == AF_INET) {
        const auto* sa = reinterpret_cast<const sockaddr_in*>(&ss);
        e.address = core::IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&sa->sin_addr));
        e.port = ntohs(sa->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const auto* sa = reinterpret_cast<const sockaddr_in6*>(&ss);
        e.address = core::IpAddress::v6(reinterpret_cast<const std::uint8_t*>(&sa->sin6_addr));
        e.port = ntohs(sa->sin6_port);
    }
    return e;
}

socklen_t sockaddr_of(const core::Endpoint& e, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof ss);
    if (e.address.is_v4()) {
        auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
        sa->sin_family = AF_INET;
        std::memcpy(&sa->sin_addr, e.address.bytes.data(), 4);
        sa->sin_port = htons(e.port);
        return sizeof *sa;
    }
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    std::memcpy(&sa->sin6_addr, e.address.bytes.data(), 16);
    sa->sin6_port = htons(e.port);
    // A link-local peer is only reachable through the interface it came in on.
    if (e.address.bytes[0] == 0xfe && (e.address.bytes[1] & 0xc0) == 0x80) sa->sin6_scope_id = e.local_ifindex;
    return sizeof *sa;
}

// Fills the control buffer with the sticky source; returns its length.
std::size_t source_control(const core::Endpoint& e, std::uint8_t* buf) {
    if (e.local.empty()) return 0;
    std::memset(buf, 0, kControlSize);
    msghdr m{};
    m.msg_control = buf;
    m.msg_controllen = kControlSize;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    if (e.address.is_v4() && e.local.is_v4()) {
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        std::memcpy(&info.ipi_spec_dst, e.local.bytes.data(), 4);
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
        return CMSG_SPACE(sizeof(in_pktinfo));
    }
    if (e.address.is_v6() && e.local.is_v6()) {
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
        in6_pktinfo info{};
        std::memcpy(&info.ipi6_addr, e.local.bytes.data(), 16);
        info.ipi6_ifindex = e.local_ifindex;
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
        return CMSG_SPACE(sizeof(in6_pktinfo));
    }
    return 0;
}

}  // namespace

UdpSockets::UdpSockets() : buffers_(kBatch, std::vector<std::uint8_t>(kBufferSize)) {}

void UdpSockets::bind(std::uint16_t port) {
    if (int err = rebind(port)) throw error(err, "binding UDP port " + std::to_string(port));
}

int UdpSockets::rebind(std::uint16_t port) {
    // With port 0 the kernel picks v4's port; v6 may find it taken: try again.
    for (int attempt = 0; attempt < 100; ++attempt) {
        int err = 0;
        Fd v4 = make_socket(AF_INET, port, fwmark_, offload_, err);
        if (!v4.valid() && err != EAFNOSUPPORT) {
            if (err == EADDRINUSE && port == 0) continue;
            return err;
        }
        const std::uint16_t chosen = v4.valid() ? bound_port(v4.get()) : port;
        Fd v6 = make_socket(AF_INET6, chosen, fwmark_, offload_, err);
        if (!v6.valid() && err != EAFNOSUPPORT) {
            if (err == EADDRINUSE && port == 0) continue;
            return err;
        }
        if (!v4.valid() && !v6.valid()) return EAFNOSUPPORT;
        v4_ = std::move(v4);
        v6_ = std::move(v6);
        port_ = v4_.valid() ? bound_port(v4_.get()) : bound_port(v6_.get());
        return 0;
    }
    return EADDRINUSE;
}

int UdpSockets::set_fwmark(std::uint32_t mark) {
    for (int fd : {v4_.get(), v6_.get()}) {
        if (fd < 0) continue;
        if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) return errno;
    }
    fwmark_ = mark;
    return 0;
}

std::size_t UdpSockets::receive(int fd, std::vector<core::ReceivedDatagram>& out) {
    out.clear();
    if (fd < 0) return 0;
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    sockaddr_storage from[kBatch];
    alignas(cmsghdr) std::uint8_t control[kBatch][kControlSize];
    for (std::size_t i = 0; i < kBatch; ++i) {
        iov[i] = {buffers_[i].data(), buffers_[i].size()};
        msgs[i].msg_hdr = {};
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = control[i];
        msgs[i].msg_hdr.msg_controllen = kControlSize;
    }
    const int n = ::recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    for (int i = 0; i < n; ++i) {
        core::ReceivedDatagram d;
        d.from = endpoint_of(from[i]);
        if (d.from.empty()) continue;
        std::size_t segment = 0;  // UDP GRO: the size of each coalesced datagram
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo info;
                std::memcpy(&info, CMSG_DATA(c), sizeof info);
                d.from.local = core::IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&info.ipi_addr));
                d.from.local_ifindex = static_cast<std::uint32_t>(info.ipi_ifindex);
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                in6_pktinfo info;
                std::memcpy(&info, CMSG_DATA(c), sizeof info);
                d.from.local = core::IpAddress::v6(reinterpret_cast<const std::uint8_t*>(&info.ipi6_addr));
                d.from.local_ifindex = info.ipi6_ifindex;
            } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                int size = 0;
                std::memcpy(&size, CMSG_DATA(c), sizeof size);
                if (size > 0) segment = static_cast<std::size_t>(size);
            }
        }
        if (segment && msgs[i].msg_len > segment) {
            // Split in place: every datagram is a span into the one buffer.
            for (std::size_t off = 0; off < msgs[i].msg_len; off += segment) {
                d.bytes = {buffers_[i].data() + off, std::min<std::size_t>(segment, msgs[i].msg_len - off)};
                out.push_back(d);
                ++gro_datagrams_;
            }
            continue;
        }
        d.bytes = {buffers_[i].data(), msgs[i].msg_len};
        out.push_back(d);
    }
    return static_cast<std::size_t>(n);
}

void UdpSockets::send(const core::Batch<core::Datagram>& datagrams, std::vector<core::IpAddress>& lost_sources) {
    std::vector<const core::Datagram*> v4, v6;
    for (const auto& d : datagrams) (d.endpoint.address.is_v4() ? v4 : v6).push_back(&d);
    if (gso_) {
        if (!v4.empty()) send_family_gso(v4_.get(), v4, lost_sources);
        if (!v6.empty()) send_family_gso(v6_.get(), v6, lost_sources);
        return;
    }
    if (!v4.empty()) send_family(v4_.get(), v4, lost_sources);
    if (!v6.empty()) send_family(v6_.get(), v6, lost_sources);
}

namespace {
bool same_destination(const core::Endpoint& a, const core::Endpoint& b) {
    return a.address == b.address && a.port == b.port && a.local == b.local && a.local_ifindex == b.local_ifindex;
}
}  // namespace

void UdpSockets::send_family_gso(int fd, std::vector<const core::Datagram*>& list, std::vector<core::IpAddress>& lost) {
    if (fd < 0) {
        send_errors_ += list.size();
        return;
    }
    if (gso_iov_.size() < list.size()) gso_iov_.resize(list.size());
    std::size_t done = 0;
    while (done < list.size()) {
        // Group runs: same destination and source, equal sizes, a smaller last one allowed.
        mmsghdr msgs[kBatch];
        std::size_t counts[kBatch];
        sockaddr_storage to[kBatch];
        alignas(cmsghdr) std::uint8_t control[kBatch][kControlSize];
        std::size_t m = 0;
        for (std::size_t i = done; i < list.size() && m < kBatch; ++m) {
            const core::Datagram& first = *list[i];
            const std::size_t segment = first.bytes.size();
            std::size_t j = i + 1, total = segment;
            if (gso_ && segment > 0) {
                while (j < list.size() && j - i < kGsoMaxSegments) {
                    const core::Datagram& d = *list[j];
                    if (!same_destination(d.endpoint, first.endpoint) || d.bytes.empty() || d.bytes.size() > segment ||
                        total + d.bytes.size() > kGsoMaxBytes)
                        break;
                    total += d.bytes.size();
                    ++j;
                    if (d.bytes.size() < segment) break;  // only the last may be smaller
                }
            }
            for (std::size_t k = i; k < j; ++k)
                gso_iov_[k] = {const_cast<std::uint8_t*>(list[k]->bytes.data()), list[k]->bytes.size()};
            msgs[m].msg_hdr = {};
            msgs[m].msg_hdr.msg_name = &to[m];
            msgs[m].msg_hdr.msg_namelen = sockaddr_of(first.endpoint, to[m]);
            msgs[m].msg_hdr.msg_iov = &gso_iov_[i];
            msgs[m].msg_hdr.msg_iovlen = j - i;
            std::size_t clen = source_control(first.endpoint, control[m]);
            if (j - i > 1) {
                auto* c = reinterpret_cast<cmsghdr*>(control[m] + clen);
                c->cmsg_level = SOL_UDP;
                c->cmsg_type = UDP_SEGMENT;
                c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
                const auto size16 = static_cast<std::uint16_t>(segment);
                std::memcpy(CMSG_DATA(c), &size16, sizeof size16);
                clen += CMSG_SPACE(sizeof(std::uint16_t));
                gso_datagrams_ += j - i;
            }
            msgs[m].msg_hdr.msg_control = clen ? control[m] : nullptr;
            msgs[m].msg_hdr.msg_controllen = clen;
            counts[m] = j - i;
            i = j;
        }
        const int n = ::sendmmsg(fd, msgs, static_cast<unsigned>(m), MSG_DONTWAIT);
        if (n > 0) {
            for (int k = 0; k < n; ++k) {
                done += counts[k];
                if (counts[k] > 1) gso_confirmed_ = true;
            }
            continue;
        }
        const int err = errno;
        if (err == EAGAIN || err == ENOBUFS) {
            send_errors_ += list.size() - done;  // queue full: drop the rest of the batch
            return;
        }
        // The first message failed: send its datagrams one by one, which also
        // handles a sticky source that is gone. A kernel that refuses the very
        // first GSO send does not support it here: stop using it.
        if (counts[0] > 1 && !gso_confirmed_ && (err == EIO || err == EINVAL)) gso_ = false;
        retry_.assign(list.begin() + static_cast<std::ptrdiff_t>(done),
                      list.begin() + static_cast<std::ptrdiff_t>(done + counts[0]));
        send_family(fd, retry_, lost);
        done += counts[0];
    }
}

void UdpSockets::send_family(int fd, std::vector<const core::Datagram*>& list, std::vector<core::IpAddress>& lost) {
    if (fd < 0) {
        send_errors_ += list.size();
        return;
    }
    std::size_t done = 0;
    while (done < list.size()) {
        const std::size_t count = std::min(kBatch, list.size() - done);
        mmsghdr msgs[kBatch];
        iovec iov[kBatch];
        sockaddr_storage to[kBatch];
        alignas(cmsghdr) std::uint8_t control[kBatch][kControlSize];
        for (std::size_t i = 0; i < count; ++i) {
            const core::Datagram& d = *list[done + i];
            iov[i] = {const_cast<std::uint8_t*>(d.bytes.data()), d.bytes.size()};
            msgs[i].msg_hdr = {};
            msgs[i].msg_hdr.msg_name = &to[i];
            msgs[i].msg_hdr.msg_namelen = sockaddr_of(d.endpoint, to[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            const std::size_t clen = source_control(d.endpoint, control[i]);
            msgs[i].msg_hdr.msg_control = clen ? control[i] : nullptr;
            msgs[i].msg_hdr.msg_controllen = clen;
        }
        const int n = ::sendmmsg(fd, msgs, static_cast<unsigned>(count), MSG_DONTWAIT);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        // The first message failed. If it used a sticky source that is gone,
        // retry it from whatever address the kernel picks; else drop it.
        const int err = errno;
        const core::Datagram& d = *list[done];
        if (err == EAGAIN || err == ENOBUFS) {
            send_errors_ += list.size() - done;  // queue full: drop the rest of the batch
            return;
        }
        if (!d.endpoint.local.empty() && (err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH)) {
            lost.push_back(d.endpoint.local);
            sockaddr_storage ss;
            const socklen_t len = sockaddr_of(d.endpoint, ss);
            if (::sendto(fd, d.bytes.data(), d.bytes.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len) < 0)
                ++send_errors_;
        } else {
            ++send_errors_;
        }
        ++done;
    }
}

}  // namespace wgate::io
