#include "wgate/io/tso.hpp"


#include <algorithm>
#include <cstring>

namespace wgate::io {
namespace {

constexpr std::uint8_t kTcpFin = 0x01;
constexpr std::uint8_t kTcpPsh = 0x08;
constexpr std::uint8_t kTcpCwr = 0x80;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::size_t kUdpHeader = 8;

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void put16(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}
// Stores a finished checksum (native-order sum) at p.
void store_checksum(std::uint8_t* p, std::uint64_t acc, bool udp = false) {
    std::uint16_t c = static_cast<std::uint16_t>(~checksum_fold(acc));
    if (udp && c == 0) c = 0xffff;  // 0 means "no checksum" in UDP
    std::memcpy(p, &c, 2);
}

}  // namespace

std::uint64_t checksum_add(std::uint64_t acc, const std::uint8_t* data, std::size_t size) {
    while (size >= 8) {
        std::uint64_t w;
        std::memcpy(&w, data, 8);
        acc += w;
        acc += acc < w;  // end-around carry
        data += 8;
        size -= 8;
    }
    if (size) {
        // The tail, zero-padded: the same as summing it as the last word(s).
        std::uint64_t w = 0;
        std::memcpy(&w, data, size);
        acc += w;
        acc += acc < w;
    }
    return acc;
}

std::uint16_t checksum_fold(std::uint64_t acc) {
    acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}

namespace {

// Fixes the IP header of packet p (n bytes, the L4 header at ip_len) for its
// size: IPv4 total length and header checksum, or IPv6 payload length.
// Returns the sum of the pseudo-header the L4 checksum for `proto` covers.
std::uint64_t fix_ip_header(std::uint8_t* p, std::size_t n, bool v4, std::size_t ip_len, std::uint8_t proto) {
    std::uint8_t pseudo[40];
    std::size_t pseudo_len;
    const auto l4_len = static_cast<std::uint32_t>(n - ip_len);
    if (v4) {
        put16(p + 2, static_cast<std::uint32_t>(n));
        p[10] = p[11] = 0;
        store_checksum(p + 10, checksum_add(0, p, ip_len));
        std::memcpy(pseudo, p + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = proto;
        put16(pseudo + 10, l4_len);
        pseudo_len = 12;
    } else {
        put16(p + 4, static_cast<std::uint32_t>(n - 40));  // extension headers count as payload
        std::memcpy(pseudo, p + 8, 32);
        put32(pseudo + 32, l4_len);
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = proto;
        pseudo_len = 40;
    }
    return checksum_add(0, pseudo, pseudo_len);
}

// Where the L4 header of a super-packet carrying `proto` starts, read from the
// packet itself; 0 when it is no such packet. Behind IPv6 extension headers
// the kernel's csum_start says where.
std::size_t l4_offset(const VnetHdr& h, const std::uint8_t* p, std::size_t size, std::uint8_t proto) {
    if (size < 20) return 0;
    if ((p[0] >> 4) == 4) {
        const std::size_t ip_len = std::size_t{p[0]} % 16 * 4;
        return ip_len >= 20 && p[9] == proto ? ip_len : 0;
    }
    if ((p[0] >> 4) != 6 || size < 40) return 0;
    if (p[6] == proto) return 40;
    if ((h.flags & kVnetNeedsCsum) && h.csum_start >= 40) return h.csum_start;
    return 0;
}

std::size_t segment_count(std::size_t payload, std::size_t mss) { return payload == 0 ? 1 : (payload + mss - 1) / mss; }

}  // namespace

std::uint8_t* PacketArena::alloc(std::size_t size) {
    if (used_ + size > kBlockSize) {
        ++block_;
        used_ = 0;
    }
    if (block_ == blocks_.size()) blocks_.emplace_back(kBlockSize);
    std::uint8_t* p = blocks_[block_].data() + used_;
    used_ += (size + 7) & ~std::size_t{7};  // keep segments 8-byte aligned
    return p;
}

bool TsoSplitter::split(std::span<std::uint8_t> frame, std::vector<std::span<const std::uint8_t>>& out) {
    if (frame.size() < kVnetHdrSize) return bad();
    VnetHdr h;
    std::memcpy(&h, frame.data(), sizeof h);  // host byte order (legacy virtio header on a LE host)
    const std::span<std::uint8_t> pkt = frame.subspan(kVnetHdrSize);
    const std::size_t size = pkt.size();
    std::uint8_t* const p = pkt.data();
    const bool needs_csum = (h.flags & kVnetNeedsCsum) != 0;
    const std::size_t csum_start = h.csum_start;
    const std::size_t csum_at = csum_start + h.csum_offset;
    if (needs_csum && (csum_start >= size || csum_at + 2 > size)) return bad();
    const unsigned gso = h.gso_type & ~kGsoEcn;

    if (gso == kGsoNone) {
        if (needs_csum) {
            if (size < 20 || ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)) return bad();
            // The field holds the pseudo-header sum: fold in the rest.
            const std::uint64_t acc = checksum_add(0, p + csum_start, size - csum_start);
            store_checksum(p + csum_at, acc, h.csum_offset == 6);
        }
        out.emplace_back(p, size);
        return true;
    }
    if (gso == kGsoUdpL4) return split_udp(h, p, size, out);
    if (gso != kGsoTcpV4 && gso != kGsoTcpV6) return bad();
    if (h.gso_size == 0 || h.hdr_len > size) return bad();
    const bool v4 = gso == kGsoTcpV4;
    const std::size_t ip_len = l4_offset(h, p, size, kProtoTcp);
    if (ip_len == 0 || (p[0] >> 4) != (v4 ? 4u : 6u) || size < ip_len + 20) return bad();
    // Header lengths come from the packet itself; hdr_len is only a hint.
    const std::size_t tcp_len = std::size_t{p[ip_len + 12]} / 16 * 4;
    if (tcp_len < 20 || size < ip_len + tcp_len) return bad();
    const std::size_t hdr = ip_len + tcp_len;
    const std::size_t mss = h.gso_size;
    const std::size_t segments = segment_count(size - hdr, mss);
    const std::uint32_t seq = get32(p + ip_len + 4);
    const std::uint8_t flags = p[ip_len + 13];
    for (std::size_t i = 0; i < segments; ++i) {
        std::uint64_t pseudo;
        const std::span<std::uint8_t> s = cut(p, size, hdr, mss, i, ip_len, kProtoTcp, pseudo);
        std::uint8_t* tcp = s.data() + ip_len;
        put32(tcp + 4, static_cast<std::uint32_t>(seq + i * mss));
        std::uint8_t f = flags;
        if (i + 1 < segments) f &= static_cast<std::uint8_t>(~(kTcpFin | kTcpPsh));
        if (i > 0) f &= static_cast<std::uint8_t>(~kTcpCwr);
        tcp[13] = f;
        tcp[16] = tcp[17] = 0;
        store_checksum(tcp + 16, checksum_add(pseudo, tcp, s.size() - ip_len));
        out.emplace_back(s);
    }
    ++super_packets_;
    return true;
}

// A UDP super-packet (USO): every segment gets the IP and UDP headers with
// its own lengths, IPv4 ID and checksums, as the kernel's own segmentation does.
bool TsoSplitter::split_udp(const VnetHdr& h, std::uint8_t* p, std::size_t size,
                            std::vector<std::span<const std::uint8_t>>& out) {
    if (h.gso_size == 0) return bad();
    const std::size_t ip_len = l4_offset(h, p, size, kProtoUdp);
    if (ip_len == 0 || size < ip_len + kUdpHeader) return bad();
    const std::size_t hdr = ip_len + kUdpHeader;
    const std::size_t mss = h.gso_size;
    const std::size_t segments = segment_count(size - hdr, mss);
    for (std::size_t i = 0; i < segments; ++i) {
        std::uint64_t pseudo;
        const std::span<std::uint8_t> s = cut(p, size, hdr, mss, i, ip_len, kProtoUdp, pseudo);
        std::uint8_t* udp = s.data() + ip_len;
        const auto udp_len = static_cast<std::uint32_t>(s.size() - ip_len);
        put16(udp + 4, udp_len);
        udp[6] = udp[7] = 0;
        store_checksum(udp + 6, checksum_add(pseudo, udp, udp_len), true);
        out.emplace_back(s);
    }
    ++super_packets_;
    return true;
}

std::span<std::uint8_t> TsoSplitter::cut(const std::uint8_t* p, std::size_t size, std::size_t hdr, std::size_t mss,
                                         std::size_t i, std::size_t ip_len, std::uint8_t proto, std::uint64_t& pseudo) {
    const std::size_t payload = size - hdr;
    const std::size_t off = i * mss;
    const std::size_t len = std::min(mss, payload - std::min(payload, off));
    const std::size_t n = hdr + len;
    std::uint8_t* s = arena_.alloc(n);
    std::memcpy(s, p, hdr);
    std::memcpy(s + hdr, p + hdr + off, len);
    const bool v4 = (p[0] >> 4) == 4;
    if (v4) put16(s + 4, static_cast<std::uint16_t>(get16(p + 4) + i));
    pseudo = fix_ip_header(s, n, v4, ip_len, proto);
    return {s, n};
}

}  // namespace wgate::io

namespace wgate::io {
namespace {

constexpr std::uint8_t kTcpAck = 0x10;
constexpr std::size_t kMaxMerged = 65535;  // IPv4 total length / IPv6 payload length

// What decides whether a packet can join a group.
struct Segment {
    bool v4 = false;
    std::size_t ip_len = 0;
    std::size_t hdr_len = 0;  // IP + TCP headers
    std::size_t payload = 0;
    std::uint32_t seq = 0;
    std::uint8_t flags = 0;
};

// A plain IP header for `proto` that a merge can copy: IPv4 without options,
// not a fragment, or IPv6 without extension headers; lengths matching the packet.
bool plain_ip_header(std::span<const std::uint8_t> p, std::uint8_t proto, bool& v4, std::size_t& ip_len) {
    if (p.size() < 20) return false;
    const unsigned version = p[0] >> 4;
    if (version == 4) {
        if (p[0] != 0x45 || p[9] != proto || get16(&p[2]) != p.size()) return false;
        if ((get16(&p[6]) & 0x3fff) != 0) return false;  // a fragment
        v4 = true;
        ip_len = 20;
        return true;
    }
    if (version != 6 || p.size() < 40 || p[6] != proto || get16(&p[4]) + 40u != p.size()) return false;
    v4 = false;
    ip_len = 40;
    return true;
}

// A plain in-order data segment (ACK, maybe PSH; no options in IP, no fragments).
bool parse_segment(std::span<const std::uint8_t> p, Segment& s) {
    if (!plain_ip_header(p, kProtoTcp, s.v4, s.ip_len) || p.size() < s.ip_len + 20) return false;
    const std::size_t tcp_len = std::size_t{p[s.ip_len + 12]} / 16 * 4;
    if (tcp_len < 20 || p.size() < s.ip_len + tcp_len) return false;
    s.flags = p[s.ip_len + 13];
    if ((s.flags & ~kTcpPsh) != kTcpAck) return false;  // SYN/FIN/RST/URG/ECE/CWR: as is
    s.hdr_len = s.ip_len + tcp_len;
    s.payload = p.size() - s.hdr_len;
    s.seq = get32(&p[s.ip_len + 4]);
    return s.payload > 0;
}

// The IP fields a merged packet copies from its first one to every segment
// must be the same in all: IPv4 TOS (ECN included), DF/flags, TTL, protocol
// and addresses; IPv6 traffic class, flow label, hop limit and addresses.
bool same_ip_fields(std::span<const std::uint8_t> first, std::span<const std::uint8_t> next, bool v4) {
    if (v4)
        return first[1] == next[1] && first[6] == next[6] && first[8] == next[8] &&
               std::memcmp(&first[12], &next[12], 8) == 0;
    return std::memcmp(&first[0], &next[0], 4) == 0 && first[7] == next[7] && std::memcmp(&first[8], &next[8], 32) == 0;
}

// Whether `next` continues `first`'s flow right after `prev_end` (its sequence number).
bool continues(std::span<const std::uint8_t> first, const Segment& f, std::span<const std::uint8_t> next,
               const Segment& n, std::uint32_t next_seq) {
    if (n.v4 != f.v4 || n.hdr_len != f.hdr_len || n.seq != next_seq || !same_ip_fields(first, next, f.v4))
        return false;
    const std::size_t t = f.ip_len;
    // Ports, ACK number, data offset, window and options must match.
    return std::memcmp(&first[t], &next[t], 4) == 0 && std::memcmp(&first[t + 8], &next[t + 8], 5) == 0 &&
           std::memcmp(&first[t + 14], &next[t + 14], 2) == 0 &&
           std::memcmp(&first[t + 20], &next[t + 20], f.hdr_len - t - 20) == 0;
}

// One UDP datagram that may join a USO group.
struct Datagram {
    bool v4 = false;
    std::size_t ip_len = 0;
    std::size_t payload = 0;
    std::uint16_t id = 0;
    bool df = false;
};

bool parse_datagram(std::span<const std::uint8_t> p, Datagram& d) {
    if (!plain_ip_header(p, kProtoUdp, d.v4, d.ip_len) || p.size() < d.ip_len + kUdpHeader) return false;
    if (d.v4) {
        d.id = get16(&p[4]);
        d.df = (p[6] & 0x40) != 0;
    }
    if (get16(&p[d.ip_len + 4]) != p.size() - d.ip_len) return false;
    d.payload = p.size() - d.ip_len - kUdpHeader;
    return d.payload > 0;
}

// Same addresses, ports and the IP fields every segment will copy.
bool same_udp_flow(std::span<const std::uint8_t> first, const Datagram& f, std::span<const std::uint8_t> next,
                   const Datagram& n) {
    if (n.v4 != f.v4 || !same_ip_fields(first, next, f.v4)) return false;
    return std::memcmp(&first[f.ip_len], &next[f.ip_len], 4) == 0;
}

constexpr std::size_t kMaxUdpSegments = 64;  // UDP_MAX_SEGMENTS

}  // namespace

void TunCoalescer::coalesce(std::span<const std::span<const std::uint8_t>> packets, std::vector<Item>& out) {
    enum class Kind { none, tcp, udp };
    std::size_t start = 0;  // the open group: packets[start, i)
    Kind open = Kind::none;
    Segment first{}, last{};
    Datagram dfirst{}, dlast{};
    std::size_t total = 0;
    const auto close = [&](std::size_t end) {
        const auto group = packets.subspan(start, end - start);
        if (open == Kind::tcp) emit_tcp(group, out);
        if (open == Kind::udp) emit_udp(group, out);
        open = Kind::none;
    };
    for (std::size_t i = 0; i < packets.size(); ++i) {
        Segment s;
        Datagram d;
        const bool tcp = parse_segment(packets[i], s);
        const bool udp = !tcp && udp_ && parse_datagram(packets[i], d);
        if (open == Kind::tcp && tcp && s.payload <= first.payload && last.payload == first.payload &&
            (last.flags & kTcpPsh) == 0 && total + s.payload <= kMaxMerged &&
            continues(packets[start], first, packets[i], s, last.seq + static_cast<std::uint32_t>(last.payload))) {
            total += s.payload;
            last = s;
            continue;
        }
        if (open == Kind::udp && udp && d.payload <= dfirst.payload && dlast.payload == dfirst.payload &&
            i - start < kMaxUdpSegments && total + d.payload <= kMaxMerged &&
            (!d.v4 || d.df || d.id == static_cast<std::uint16_t>(dlast.id + 1)) &&
            same_udp_flow(packets[start], dfirst, packets[i], d)) {
            total += d.payload;
            dlast = d;
            continue;
        }
        close(i);
        start = i;
        if (tcp) {
            open = Kind::tcp;
            first = last = s;
            total = s.hdr_len + s.payload;
        } else if (udp) {
            open = Kind::udp;
            dfirst = dlast = d;
            total = d.ip_len + kUdpHeader + d.payload;
        } else {
            out.push_back({VnetHdr{}, packets[i]});
        }
    }
    close(packets.size());
}

void TunCoalescer::emit_tcp(std::span<const std::span<const std::uint8_t>> group, std::vector<Item>& out) {
    if (group.size() == 1) {
        out.push_back({VnetHdr{}, group[0]});
        return;
    }
    Segment f;
    parse_segment(group[0], f);
    std::size_t n = f.hdr_len;
    for (const auto& p : group) n += p.size() - f.hdr_len;
    std::uint8_t* m = arena_.alloc(n);
    std::memcpy(m, group[0].data(), f.hdr_len);
    std::size_t at = f.hdr_len;
    for (const auto& p : group) {
        std::memcpy(m + at, p.data() + f.hdr_len, p.size() - f.hdr_len);
        at += p.size() - f.hdr_len;
    }
    std::uint8_t* tcp = m + f.ip_len;
    tcp[13] = group.back()[f.ip_len + 13];  // PSH only if the last had it
    // CHECKSUM_PARTIAL convention: the field holds the (uncomplemented) pseudo-header sum.
    const std::uint16_t partial = checksum_fold(fix_ip_header(m, n, f.v4, f.ip_len, kProtoTcp));
    std::memcpy(tcp + 16, &partial, 2);
    VnetHdr h;
    h.flags = kVnetNeedsCsum;
    h.gso_type = f.v4 ? kGsoTcpV4 : kGsoTcpV6;
    h.hdr_len = static_cast<std::uint16_t>(f.hdr_len);
    h.gso_size = static_cast<std::uint16_t>(f.payload);
    h.csum_start = static_cast<std::uint16_t>(f.ip_len);
    h.csum_offset = 16;
    out.push_back({h, {m, n}});
    merged_tcp_ += group.size();
}

void TunCoalescer::emit_udp(std::span<const std::span<const std::uint8_t>> group, std::vector<Item>& out) {
    if (group.size() == 1) {
        out.push_back({VnetHdr{}, group[0]});
        return;
    }
    Datagram f;
    parse_datagram(group[0], f);
    const std::size_t hdr = f.ip_len + kUdpHeader;
    std::size_t n = hdr;
    for (const auto& p : group) n += p.size() - hdr;
    std::uint8_t* m = arena_.alloc(n);
    std::memcpy(m, group[0].data(), hdr);
    std::size_t at = hdr;
    for (const auto& p : group) {
        std::memcpy(m + at, p.data() + hdr, p.size() - hdr);
        at += p.size() - hdr;
    }
    std::uint8_t* udp = m + f.ip_len;
    put16(udp + 4, static_cast<std::uint32_t>(n - f.ip_len));
    // CHECKSUM_PARTIAL: the pseudo-header sum; the kernel adjusts it per segment.
    const std::uint16_t partial = checksum_fold(fix_ip_header(m, n, f.v4, f.ip_len, kProtoUdp));
    std::memcpy(udp + 6, &partial, 2);
    VnetHdr h;
    h.flags = kVnetNeedsCsum;
    h.gso_type = kGsoUdpL4;
    h.hdr_len = static_cast<std::uint16_t>(hdr);
    h.gso_size = static_cast<std::uint16_t>(f.payload);
    h.csum_start = static_cast<std::uint16_t>(f.ip_len);
    h.csum_offset = 6;
    out.push_back({h, {m, n}});
    merged_udp_ += group.size();
}

}  // namespace wgate::io
