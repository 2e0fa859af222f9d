// TsoSplitter: TCP super-packets from a TUN with offloads become valid,
// independently checked segments; partial checksums get completed; malformed
// virtio headers are rejected and counted.
#include "wgate/io/tso.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace wgate::io {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) { return std::uint32_t{get16(p)} << 16 | get16(p + 2); }
void put16(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}

// Independent reference: a plain big-endian RFC 1071 sum, byte by byte.
std::uint32_t ref_sum(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
    for (std::size_t i = 0; i < n; ++i) acc += (i % 2 == 0) ? std::uint32_t{p[i]} << 8 : p[i];
    return acc;
}
std::uint16_t ref_fold(std::uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}
// Pseudo-header sum of an IP packet for `proto` with L4 at l4.
std::uint32_t ref_pseudo(const Bytes& pkt, std::size_t l4, std::uint8_t proto) {
    const std::size_t l4len = pkt.size() - l4;
    std::uint32_t acc;
    if ((pkt[0] >> 4) == 4)
        acc = ref_sum(pkt.data() + 12, 8);
    else
        acc = ref_sum(pkt.data() + 8, 32);
    return acc + proto + static_cast<std::uint32_t>(l4len >> 16) + static_cast<std::uint32_t>(l4len & 0xffff);
}
// Whether the L4 checksum at l4 verifies (sum over everything == 0xffff).
bool l4_ok(const Bytes& pkt, std::size_t l4, std::uint8_t proto) {
    return ref_fold(ref_sum(pkt.data() + l4, pkt.size() - l4, ref_pseudo(pkt, l4, proto))) == 0xffff;
}

constexpr std::uint8_t kFin = 0x01, kPsh = 0x08, kAck = 0x10, kCwr = 0x80;

// A TCP packet with `options` bytes of TCP options (multiple of 4) and a
// payload of `payload` bytes; the checksum field holds the pseudo-header sum,
// as the kernel leaves it for CHECKSUM_PARTIAL.
Bytes tcp_packet(bool v4, std::size_t options, std::size_t payload, std::uint8_t flags) {
    const std::size_t ip = v4 ? 20 : 40, tcp = 20 + options;
    Bytes p(ip + tcp + payload);
    if (v4) {
        p[0] = 0x45;
        put16(&p[2], static_cast<std::uint32_t>(p.size()));
        put16(&p[4], 0xfff0);  // id wraps during segmentation
        p[8] = 64;
        p[9] = 6;
        const std::uint8_t src[4] = {10, 9, 0, 1}, dst[4] = {10, 9, 0, 2};
        std::memcpy(&p[12], src, 4);
        std::memcpy(&p[16], dst, 4);
    } else {
        p[0] = 0x60;
        put16(&p[4], static_cast<std::uint32_t>(p.size() - 40));
        p[6] = 6;
        p[7] = 64;
        p[8] = 0xfd;
        p[23] = 1;
        p[24] = 0xfd;
        p[39] = 2;
    }
    std::uint8_t* t = &p[ip];
    put16(t, 40000);
    put16(t + 2, 5201);
    put32(t + 4, 0xfffff000);  // the sequence number wraps too
    put32(t + 8, 12345);
    t[12] = static_cast<std::uint8_t>((tcp / 4) << 4);
    t[13] = flags;
    put16(t + 14, 502);
    for (std::size_t i = 0; i < options; ++i) t[20 + i] = i == 0 ? 1 : static_cast<std::uint8_t>(0xa0 + i);  // NOP + junk
    for (std::size_t i = 0; i < payload; ++i) p[ip + tcp + i] = static_cast<std::uint8_t>(i * 7 + 3);
    put16(t + 16, ref_fold(ref_pseudo(p, ip, 6)));
    return p;
}

Bytes frame(const Bytes& pkt, std::uint8_t flags, std::uint8_t gso_type, std::uint16_t gso_size, std::uint16_t csum_start,
            std::uint16_t csum_offset, std::uint16_t hdr_len = 0) {
    VnetHdr h{};
    h.flags = flags;
    h.gso_type = gso_type;
    h.hdr_len = hdr_len;
    h.gso_size = gso_size;
    h.csum_start = csum_start;
    h.csum_offset = csum_offset;
    Bytes f(sizeof h + pkt.size());
    std::memcpy(f.data(), &h, sizeof h);
    std::copy(pkt.begin(), pkt.end(), f.begin() + sizeof h);
    return f;
}

void check_segments(bool v4, std::size_t options, std::size_t payload, std::uint16_t mss, std::uint8_t flags) {
    SCOPED_TRACE(::testing::Message() << (v4 ? "v4" : "v6") << " options " << options << " payload " << payload
                                      << " mss " << mss);
    const Bytes orig = tcp_packet(v4, options, payload, flags);
    const std::size_t ip = v4 ? 20 : 40, hdr = ip + 20 + options;
    Bytes f = frame(orig, kVnetNeedsCsum, v4 ? kGsoTcpV4 : kGsoTcpV6, mss,
                    static_cast<std::uint16_t>(ip), 16, static_cast<std::uint16_t>(hdr));
    TsoSplitter splitter;
    std::vector<std::span<const std::uint8_t>> out;
    ASSERT_TRUE(splitter.split(f, out));
    const std::size_t expect = payload == 0 ? 1 : (payload + mss - 1) / mss;
    ASSERT_EQ(out.size(), expect);
    std::size_t offset = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        SCOPED_TRACE(i);
        const Bytes s(out[i].begin(), out[i].end());
        const std::size_t len = std::min<std::size_t>(mss, payload - offset);
        ASSERT_EQ(s.size(), hdr + len);
        if (v4) {
            EXPECT_EQ(get16(&s[2]), s.size());
            EXPECT_EQ(get16(&s[4]), static_cast<std::uint16_t>(0xfff0 + i));
            EXPECT_EQ(ref_fold(ref_sum(s.data(), 20)), 0xffff) << "IPv4 header checksum";
        } else {
            EXPECT_EQ(get16(&s[4]), s.size() - 40);
        }
        EXPECT_TRUE(std::equal(s.begin() + (v4 ? 12 : 8), s.begin() + ip, orig.begin() + (v4 ? 12 : 8))) << "addresses";
        const std::uint8_t* t = &s[ip];
        EXPECT_EQ(get32(t + 4), static_cast<std::uint32_t>(0xfffff000u + offset));
        EXPECT_EQ(get32(t + 8), 12345u);
        const bool last = i + 1 == out.size();
        std::uint8_t want = flags;
        if (!last) want &= static_cast<std::uint8_t>(~(kFin | kPsh));
        if (i > 0) want &= static_cast<std::uint8_t>(~kCwr);
        EXPECT_EQ(t[13], want);
        EXPECT_TRUE(std::equal(s.begin() + ip + 20, s.begin() + hdr, orig.begin() + ip + 20)) << "options";
        EXPECT_TRUE(std::equal(s.begin() + hdr, s.end(), orig.begin() + hdr + offset)) << "payload";
        EXPECT_TRUE(l4_ok(s, ip, 6)) << "TCP checksum";
        offset += len;
    }
    EXPECT_EQ(offset, payload);
    EXPECT_EQ(splitter.malformed(), 0u);
}

TEST(Tso, SegmentsV4) {
    check_segments(true, 0, 64000, 1380, kAck | kPsh);
    check_segments(true, 12, 65000, 1368, kAck | kPsh | kFin | kCwr);
    check_segments(true, 12, 1368 * 5, 1368, kAck | kFin);  // exact multiple
    check_segments(true, 0, 1001, 1380, kAck | kPsh);       // fits in one segment
    check_segments(true, 40, 3333, 7, kAck);                // odd sizes
    check_segments(true, 0, 0, 1380, kAck | kFin);          // no payload at all
}

TEST(Tso, SegmentsV6) {
    check_segments(false, 0, 64000, 1360, kAck | kPsh);
    check_segments(false, 12, 65000, 1348, kAck | kPsh | kFin | kCwr);
    check_segments(false, 20, 4097, 1000, kAck);
}

TEST(Tso, EcnFlagAccepted) {
    const Bytes orig = tcp_packet(true, 0, 3000, kAck | kCwr);
    Bytes f = frame(orig, kVnetNeedsCsum, kGsoTcpV4 | kGsoEcn, 1000, 20, 16);
    TsoSplitter splitter;
    std::vector<std::span<const std::uint8_t>> out;
    ASSERT_TRUE(splitter.split(f, out));
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0][20 + 13], kAck | kCwr);
    EXPECT_EQ(out[1][20 + 13], kAck);
}

TEST(Tso, ArenaReuseKeepsEarlierSegments) {
    TsoSplitter splitter;
    std::vector<std::span<const std::uint8_t>> out;
    for (int round = 0; round < 3; ++round) {
        out.clear();
        splitter.reset();
        std::vector<Bytes> frames;
        for (int i = 0; i < 8; ++i) {
            frames.push_back(
                frame(tcp_packet(true, 0, 60000, kAck), kVnetNeedsCsum, kGsoTcpV4, 1400, 20, 16));
            ASSERT_TRUE(splitter.split(frames.back(), out));
        }
        ASSERT_EQ(out.size(), 8u * 43);
        for (const auto& s : out) EXPECT_TRUE(l4_ok(Bytes(s.begin(), s.end()), 20, 6));
    }
}

TEST(Tso, PlainPacketPassesThroughUnchanged) {
    const Bytes orig = tcp_packet(true, 0, 100, kAck);
    Bytes f = frame(orig, 0, kGsoNone, 0, 0, 0);
    TsoSplitter splitter;
    std::vector<std::span<const std::uint8_t>> out;
    ASSERT_TRUE(splitter.split(f, out));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data(), f.data() + kVnetHdrSize);  // no copy
    EXPECT_TRUE(std::equal(out[0].begin(), out[0].end(), orig.begin(), orig.end()));
}

TEST(Tso, CompletesTcpChecksum) {
    for (const bool v4 : {true, false}) {
        for (const std::size_t payload : {0, 1, 2, 3, 999, 1380}) {
            const std::size_t ip = v4 ? 20 : 40;
            Bytes f = frame(tcp_packet(v4, 12, payload, kAck | kPsh), kVnetNeedsCsum,
                            kGsoNone, 0, static_cast<std::uint16_t>(ip), 16);
            TsoSplitter splitter;
            std::vector<std::span<const std::uint8_t>> out;
            ASSERT_TRUE(splitter.split(f, out));
            ASSERT_EQ(out.size(), 1u);
            EXPECT_TRUE(l4_ok(Bytes(out[0].begin(), out[0].end()), ip, 6)) << v4 << " " << payload;
        }
    }
}

Bytes udp_packet(bool v4, std::size_t payload, std::uint8_t fill) {
    const std::size_t ip = v4 ? 20 : 40;
    Bytes p(ip + 8 + payload, fill);
    std::memset(p.data(), 0, ip + 8);
    if (v4) {
        p[0] = 0x45;
        put16(&p[2], static_cast<std::uint32_t>(p.size()));
        p[8] = 64;
        p[9] = 17;
        p[12] = 192, p[15] = 1, p[16] = 192, p[19] = 2;
    } else {
        p[0] = 0x60;
        put16(&p[4], static_cast<std::uint32_t>(p.size() - 40));
        p[6] = 17;
        p[8] = 0x20, p[23] = 1, p[24] = 0x20, p[39] = 2;
    }
    put16(&p[ip], 5353);
    put16(&p[ip + 2], 53);
    put16(&p[ip + 4], static_cast<std::uint32_t>(8 + payload));
    put16(&p[ip + 6], ref_fold(ref_pseudo(p, ip, 17)));
    return p;
}

TEST(Tso, CompletesUdpChecksum) {
    for (const bool v4 : {true, false}) {
        for (const std::size_t payload : {0, 5, 64, 1371}) {
            const std::size_t ip = v4 ? 20 : 40;
            Bytes f = frame(udp_packet(v4, payload, 0x5a), kVnetNeedsCsum, kGsoNone, 0,
                            static_cast<std::uint16_t>(ip), 6);
            TsoSplitter splitter;
            std::vector<std::span<const std::uint8_t>> out;
            ASSERT_TRUE(splitter.split(f, out));
            ASSERT_EQ(out.size(), 1u);
            const Bytes s(out[0].begin(), out[0].end());
            EXPECT_TRUE(l4_ok(s, ip, 17)) << v4 << " " << payload;
            EXPECT_NE(get16(&s[ip + 6]), 0) << "0 would mean no checksum";
        }
    }
}

TEST(Tso, RejectsMalformedFrames) {
    TsoSplitter splitter;
    std::vector<std::span<const std::uint8_t>> out;
    const Bytes tcp4 = tcp_packet(true, 0, 3000, kAck);
    const Bytes tcp6 = tcp_packet(false, 0, 3000, kAck);
    std::vector<Bytes> bad = {
        Bytes(5, 0),                                                                                    // shorter than the header
        frame(tcp4, kVnetNeedsCsum, kGsoNone, 0, 4000, 16),                  // csum_start beyond
        frame(tcp4, kVnetNeedsCsum, kGsoNone, 0, 20, 5000),                  // csum field beyond
        frame(tcp4, kVnetNeedsCsum, kGsoTcpV4, 1000, 20, 16, 4000),          // hdr_len beyond
        frame(tcp4, kVnetNeedsCsum, kGsoTcpV4, 0, 20, 16),                   // gso_size 0
        frame(tcp4, kVnetNeedsCsum, kGsoUdp, 1000, 20, 6),                   // UFO: not enabled
        frame(tcp4, kVnetNeedsCsum, 0x42, 1000, 20, 16),                                    // unknown type
        frame(tcp6, kVnetNeedsCsum, kGsoTcpV4, 1000, 40, 16),                // family mismatch
        frame(Bytes(3000, 0x55), kVnetNeedsCsum, kGsoTcpV4, 1000, 20, 16),   // not IP
        frame(Bytes(3000, 0x55), kVnetNeedsCsum, kGsoNone, 0, 20, 16),       // not IP
        frame(Bytes(tcp4.begin(), tcp4.begin() + 30), kVnetNeedsCsum, kGsoTcpV4, 1000, 20,
              16),  // TCP header cut short
    };
    {
        Bytes udp = tcp4;
        udp[9] = 17;  // TSO of a non-TCP packet
        bad.push_back(frame(udp, 0, kGsoTcpV4, 1000, 0, 0));
        Bytes doff = tcp4;
        doff[20 + 12] = 0x10;  // TCP data offset below 20 bytes
        bad.push_back(frame(doff, 0, kGsoTcpV4, 1000, 0, 0));
        Bytes ihl = tcp4;
        ihl[0] = 0x44;  // IHL below 20 bytes
        bad.push_back(frame(ihl, 0, kGsoTcpV4, 1000, 0, 0));
    }
    for (std::size_t i = 0; i < bad.size(); ++i) EXPECT_FALSE(splitter.split(bad[i], out)) << i;
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(splitter.malformed(), bad.size());
}

TEST(Tso, ChecksumHelpersMatchReference) {
    Bytes data(1031);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + 17);
    for (std::size_t n = 0; n <= data.size(); n += 37) {
        const std::uint16_t native = checksum_fold(checksum_add(0, data.data(), n));
        std::uint8_t bytes[2];
        std::memcpy(bytes, &native, 2);
        EXPECT_EQ(get16(bytes), ref_fold(ref_sum(data.data(), n))) << n;
    }
}

// A segment of a flow as the sender's stack sent it: full checksum, the
// given sequence offset and IPv4 id.
Bytes data_segment(bool v4, std::size_t options, std::size_t payload, std::uint32_t seq_offset, std::uint16_t id,
                   std::uint8_t flags = kAck) {
    Bytes p = tcp_packet(v4, options, payload, flags);
    const std::size_t ip = v4 ? 20 : 40;
    put32(&p[ip + 4], 0xfffff000u + seq_offset);
    for (std::size_t i = 0; i < payload; ++i) p[ip + 20 + options + i] = static_cast<std::uint8_t>((seq_offset + i) * 13);
    if (v4) {
        put16(&p[4], id);
        put16(&p[10], 0);
        put16(&p[10], static_cast<std::uint16_t>(~ref_fold(ref_sum(p.data(), 20))));
    }
    put16(&p[ip + 16], 0);
    put16(&p[ip + 16], static_cast<std::uint16_t>(~ref_fold(ref_sum(p.data() + ip, p.size() - ip, ref_pseudo(p, ip, 6)))));
    return p;
}

std::vector<std::span<const std::uint8_t>> spans_of(const std::vector<Bytes>& packets) {
    std::vector<std::span<const std::uint8_t>> out;
    for (const auto& p : packets) out.emplace_back(p);
    return out;
}

// Writes a merged item as the kernel would read it (virtio header + packet),
// segments it again: the original packets must come back byte for byte.
void expect_splits_back(const TunCoalescer::Item& item, const std::vector<Bytes>& packets) {
    Bytes f(kVnetHdrSize + item.bytes.size());
    std::memcpy(f.data(), &item.hdr, kVnetHdrSize);
    std::copy(item.bytes.begin(), item.bytes.end(), f.begin() + kVnetHdrSize);
    TsoSplitter splitter;
    std::vector<std::span<const std::uint8_t>> back;
    ASSERT_TRUE(splitter.split(f, back));
    ASSERT_EQ(back.size(), packets.size());
    for (std::size_t i = 0; i < back.size(); ++i)
        EXPECT_TRUE(std::equal(back[i].begin(), back[i].end(), packets[i].begin(), packets[i].end())) << i;
}

// Coalesces, then segments the result again the way the kernel would: the
// segments must come back byte for byte.
void check_round_trip(bool v4, std::size_t options) {
    SCOPED_TRACE(::testing::Message() << (v4 ? "v4" : "v6") << " options " << options);
    const std::size_t mss = 1000;
    std::vector<Bytes> packets;
    for (std::uint16_t i = 0; i < 5; ++i)
        packets.push_back(data_segment(v4, options, i == 4 ? 333 : mss, i * 1000u, static_cast<std::uint16_t>(100 + i),
                                       i == 4 ? kAck | kPsh : kAck));
    TunCoalescer coalescer;
    std::vector<TunCoalescer::Item> out;
    const auto spans = spans_of(packets);
    coalescer.coalesce(spans, out);
    ASSERT_EQ(out.size(), 1u);
    const auto& item = out[0];
    const std::size_t ip = v4 ? 20 : 40;
    EXPECT_EQ(item.hdr.flags, kVnetNeedsCsum);
    EXPECT_EQ(item.hdr.gso_type, v4 ? kGsoTcpV4 : kGsoTcpV6);
    EXPECT_EQ(item.hdr.gso_size, mss);
    EXPECT_EQ(item.hdr.csum_start, ip);
    EXPECT_EQ(item.hdr.csum_offset, 16);
    EXPECT_EQ(item.hdr.hdr_len, ip + 20 + options);
    const Bytes merged(item.bytes.begin(), item.bytes.end());
    EXPECT_EQ(merged.size(), ip + 20 + options + 4 * mss + 333);
    if (v4) {
        EXPECT_EQ(get16(&merged[2]), merged.size());
        EXPECT_EQ(ref_fold(ref_sum(merged.data(), 20)), 0xffff);
    } else {
        EXPECT_EQ(get16(&merged[4]), merged.size() - 40);
    }
    EXPECT_EQ(get16(&merged[ip + 16]), ref_fold(ref_pseudo(merged, ip, 6))) << "partial checksum";
    EXPECT_EQ(merged[ip + 13], kAck | kPsh);

    expect_splits_back(item, packets);
    EXPECT_EQ(coalescer.merged_tcp(), 5u);
    EXPECT_EQ(coalescer.merged_udp(), 0u);
}

TEST(TunCoalescer, RoundTripsThroughTheSplitter) {
    check_round_trip(true, 0);
    check_round_trip(true, 12);
    check_round_trip(false, 0);
    check_round_trip(false, 12);
}

TEST(TunCoalescer, KeepsUnmergeablePacketsInOrder) {
    std::vector<Bytes> packets;
    packets.push_back(data_segment(true, 0, 1000, 0, 1));
    packets.push_back(data_segment(true, 0, 1000, 1000, 2));
    packets.push_back(data_segment(true, 0, 1000, 3000, 3));  // a gap
    Bytes other_port = data_segment(true, 0, 1000, 4000, 4);
    other_port[20] ^= 1;
    packets.push_back(other_port);
    Bytes other_ack = data_segment(true, 0, 1000, 4000, 5);
    other_ack[20 + 11] ^= 1;
    packets.push_back(other_ack);
    packets.push_back(data_segment(true, 0, 1000, 5000, 6, kAck | kFin));  // FIN: as is
    packets.push_back(data_segment(true, 0, 500, 6000, 7));
    packets.push_back(data_segment(true, 0, 1000, 6500, 8));  // larger after a short one
    packets.push_back(data_segment(false, 0, 1000, 7500, 0));  // other family
    packets.push_back(udp_packet(true, 100, 1));
    packets.push_back(Bytes{0x45, 0});  // junk
    TunCoalescer coalescer;
    std::vector<TunCoalescer::Item> out;
    const auto spans = spans_of(packets);
    coalescer.coalesce(spans, out);
    ASSERT_EQ(out.size(), packets.size() - 1);  // only the first two merge
    EXPECT_EQ(out[0].hdr.gso_type, kGsoTcpV4);
    EXPECT_EQ(out[0].bytes.size(), 40u + 2000);
    for (std::size_t i = 1; i < out.size(); ++i) {
        EXPECT_EQ(out[i].hdr.gso_type, kGsoNone) << i;
        EXPECT_EQ(out[i].hdr.flags, 0) << i;
        EXPECT_EQ(out[i].bytes.data(), packets[i + 1].data()) << i;  // unchanged, not copied
    }
}

TEST(TunCoalescer, StaysWithin64KiB) {
    std::vector<Bytes> packets;
    for (std::uint32_t i = 0; i < 100; ++i) packets.push_back(data_segment(true, 0, 1400, i * 1400, 0));
    TunCoalescer coalescer;
    std::vector<TunCoalescer::Item> out;
    const auto spans = spans_of(packets);
    coalescer.coalesce(spans, out);
    std::size_t segments = 0;
    for (const auto& item : out) {
        EXPECT_LE(item.bytes.size(), 65535u);
        segments += item.hdr.gso_type == kGsoNone ? 1 : (item.bytes.size() - 40) / 1400;
    }
    EXPECT_EQ(segments, 100u);
    EXPECT_EQ(out.size(), 3u);  // 46 + 46 + 8
}

// A datagram of one UDP flow as the sender's stack sent it: full checksum.
Bytes udp_datagram(bool v4, std::size_t payload, std::uint16_t id, std::uint8_t seed, bool df = true) {
    Bytes p = udp_packet(v4, payload, 0);
    const std::size_t ip = v4 ? 20 : 40;
    for (std::size_t i = 0; i < payload; ++i) p[ip + 8 + i] = static_cast<std::uint8_t>(seed + i * 11);
    if (v4) {
        put16(&p[4], id);
        p[6] = df ? 0x40 : 0;
        put16(&p[10], 0);
        put16(&p[10], static_cast<std::uint16_t>(~ref_fold(ref_sum(p.data(), 20))));
    }
    put16(&p[ip + 6], 0);
    std::uint16_t c = static_cast<std::uint16_t>(~ref_fold(ref_sum(p.data() + ip, p.size() - ip, ref_pseudo(p, ip, 17))));
    put16(&p[ip + 6], c == 0 ? 0xffff : c);
    return p;
}

TEST(Tso, SegmentsUdpSuperPackets) {
    for (const bool v4 : {true, false}) {
        const std::size_t ip = v4 ? 20 : 40;
        // As the kernel hands it over: lengths of the whole, the checksum
        // field holding the pseudo-header sum.
        Bytes whole = udp_packet(v4, 2500, 0x33);
        if (v4) put16(&whole[4], 0xfffe);  // the IPv4 ID wraps
        Bytes f = frame(whole, kVnetNeedsCsum, kGsoUdpL4, 1000, static_cast<std::uint16_t>(ip), 6,
                        static_cast<std::uint16_t>(ip + 8));
        TsoSplitter splitter;
        std::vector<std::span<const std::uint8_t>> out;
        ASSERT_TRUE(splitter.split(f, out));
        ASSERT_EQ(out.size(), 3u);
        EXPECT_EQ(splitter.super_packets(), 1u);
        const std::size_t sizes[] = {1000, 1000, 500};
        for (std::size_t i = 0; i < out.size(); ++i) {
            const Bytes s(out[i].begin(), out[i].end());
            ASSERT_EQ(s.size(), ip + 8 + sizes[i]) << i;
            EXPECT_EQ(get16(&s[ip + 4]), 8 + sizes[i]) << "UDP length " << i;
            EXPECT_TRUE(l4_ok(s, ip, 17)) << v4 << " " << i;
            if (v4) {
                EXPECT_EQ(get16(&s[2]), s.size());
                EXPECT_EQ(get16(&s[4]), static_cast<std::uint16_t>(0xfffe + i));
                EXPECT_EQ(ref_fold(ref_sum(s.data(), 20)), 0xffff);
            } else {
                EXPECT_EQ(get16(&s[4]), s.size() - 40);
            }
            EXPECT_TRUE(std::all_of(s.begin() + static_cast<std::ptrdiff_t>(ip + 8), s.end(),
                                    [](std::uint8_t b) { return b == 0x33; }));
        }
    }
}

TEST(Tso, RejectsMalformedUdpSuperPackets) {
    TsoSplitter splitter;
    std::vector<std::span<const std::uint8_t>> out;
    const Bytes udp4 = udp_packet(true, 3000, 1);
    Bytes tcp_inside = udp4;
    tcp_inside[9] = 6;
    std::vector<Bytes> bad = {
        frame(udp4, kVnetNeedsCsum, kGsoUdpL4, 0, 20, 6),                                  // gso_size 0
        frame(tcp_inside, kVnetNeedsCsum, kGsoUdpL4, 1000, 20, 6),                         // not UDP
        frame(Bytes(udp4.begin(), udp4.begin() + 24), kVnetNeedsCsum, kGsoUdpL4, 1000, 20, 6),  // UDP header cut
        frame(Bytes(3000, 0x55), kVnetNeedsCsum, kGsoUdpL4, 1000, 20, 6),                  // not IP
    };
    for (std::size_t i = 0; i < bad.size(); ++i) EXPECT_FALSE(splitter.split(bad[i], out)) << i;
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(splitter.malformed(), bad.size());
    EXPECT_EQ(splitter.super_packets(), 0u);
}

// Coalesced UDP, split again as the kernel would: byte for byte the datagrams.
TEST(TunCoalescer, UdpRoundTripsThroughTheSplitter) {
    for (const bool v4 : {true, false}) {
        SCOPED_TRACE(v4 ? "v4" : "v6");
        const std::size_t ip = v4 ? 20 : 40;
        std::vector<Bytes> packets;
        for (std::uint16_t i = 0; i < 5; ++i)
            packets.push_back(udp_datagram(v4, i == 4 ? 333 : 1000, static_cast<std::uint16_t>(0xfffe + i),
                                           static_cast<std::uint8_t>(i)));
        TunCoalescer coalescer(true);
        std::vector<TunCoalescer::Item> out;
        coalescer.coalesce(spans_of(packets), out);
        ASSERT_EQ(out.size(), 1u);
        const auto& item = out[0];
        EXPECT_EQ(item.hdr.flags, kVnetNeedsCsum);
        EXPECT_EQ(item.hdr.gso_type, kGsoUdpL4);
        EXPECT_EQ(item.hdr.gso_size, 1000);
        EXPECT_EQ(item.hdr.csum_start, ip);
        EXPECT_EQ(item.hdr.csum_offset, 6);
        EXPECT_EQ(item.hdr.hdr_len, ip + 8);
        const Bytes merged(item.bytes.begin(), item.bytes.end());
        ASSERT_EQ(merged.size(), ip + 8 + 4 * 1000 + 333);
        EXPECT_EQ(get16(&merged[ip + 4]), merged.size() - ip);
        EXPECT_EQ(get16(&merged[ip + 6]), ref_fold(ref_pseudo(merged, ip, 17))) << "partial checksum";
        EXPECT_EQ(coalescer.merged_udp(), 5u);
        EXPECT_EQ(coalescer.merged_tcp(), 0u);

        expect_splits_back(item, packets);
    }
}

TEST(TunCoalescer, UdpOnlyWhenTheTunTakesIt) {
    std::vector<Bytes> packets;
    for (std::uint16_t i = 0; i < 4; ++i) packets.push_back(udp_datagram(true, 1000, i, 0));
    TunCoalescer coalescer;  // USO off
    std::vector<TunCoalescer::Item> out;
    coalescer.coalesce(spans_of(packets), out);
    ASSERT_EQ(out.size(), 4u);
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].hdr.gso_type, kGsoNone);
        EXPECT_EQ(out[i].bytes.data(), packets[i].data());
    }
    out.clear();
    coalescer.set_udp(true);
    coalescer.coalesce(spans_of(packets), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].hdr.gso_type, kGsoUdpL4);
}

TEST(TunCoalescer, UdpKeepsUnmergeableDatagramsInOrder) {
    std::vector<Bytes> packets;
    packets.push_back(udp_datagram(true, 1000, 1, 0));
    packets.push_back(udp_datagram(true, 1000, 2, 0));            // merges with the first
    Bytes other_port = udp_datagram(true, 1000, 3, 0);
    other_port[20 + 2] ^= 1;
    packets.push_back(other_port);                                 // another flow
    packets.push_back(udp_datagram(true, 500, 4, 0));             // shorter: starts a group...
    packets.push_back(udp_datagram(true, 1000, 5, 0));            // ...that a longer one cannot join
    packets.push_back(udp_datagram(true, 1000, 7, 0, false));     // no DF and IDs 7, 9: not consecutive
    packets.push_back(udp_datagram(true, 1000, 9, 0, false));
    packets.push_back(data_segment(true, 0, 1000, 0, 1));          // TCP in between
    packets.push_back(udp_datagram(false, 1000, 0, 0));           // other family
    packets.push_back(udp_datagram(true, 1000, 10, 0));
    TunCoalescer coalescer(true);
    std::vector<TunCoalescer::Item> out;
    coalescer.coalesce(spans_of(packets), out);
    ASSERT_EQ(out.size(), packets.size() - 1);  // only the first two merge
    EXPECT_EQ(out[0].hdr.gso_type, kGsoUdpL4);
    EXPECT_EQ(out[0].bytes.size(), 28u + 2000);
    for (std::size_t i = 1; i < out.size(); ++i) {
        EXPECT_EQ(out[i].hdr.gso_type, kGsoNone) << i;
        EXPECT_EQ(out[i].bytes.data(), packets[i + 1].data()) << i;  // unchanged, not copied
    }
}

TEST(TunCoalescer, UdpWithoutDfMergesWithConsecutiveIds) {
    std::vector<Bytes> packets;
    for (std::uint16_t i = 0; i < 3; ++i) packets.push_back(udp_datagram(true, 1000, static_cast<std::uint16_t>(0xffff + i), 0, false));
    TunCoalescer coalescer(true);
    std::vector<TunCoalescer::Item> out;
    coalescer.coalesce(spans_of(packets), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].hdr.gso_type, kGsoUdpL4);
}

TEST(TunCoalescer, UdpAtMost64SegmentsAnd64KiB) {
    for (const std::size_t payload : {100u, 1400u}) {
        std::vector<Bytes> packets;
        for (std::uint16_t i = 0; i < 150; ++i) packets.push_back(udp_datagram(true, payload, i, 0));
        TunCoalescer coalescer(true);
        std::vector<TunCoalescer::Item> out;
        coalescer.coalesce(spans_of(packets), out);
        std::size_t datagrams = 0;
        for (const auto& item : out) {
            EXPECT_LE(item.bytes.size(), 65535u);
            const std::size_t n = item.hdr.gso_type == kGsoNone ? 1 : (item.bytes.size() - 28) / payload;
            EXPECT_LE(n, 64u);
            datagrams += n;
        }
        EXPECT_EQ(datagrams, 150u) << payload;
        EXPECT_EQ(out.size(), payload == 100 ? 3u : 4u) << payload;  // 64+64+22; 46+46+46+12
    }
}

}  // namespace
}  // namespace wgate::io
