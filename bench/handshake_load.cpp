// Handshake load generator for `make bench` (bench/run.sh).
//
//   handshake_load inproc [--keys N] [--pool M]
//       Responder handshakes per second of the core alone: one core::Device
//       with N peers is fed M valid initiations (pre-generated, MACed) on a
//       virtual clock, one datagram per call, on this thread. Prints JSON.
//
//   handshake_load conf --keys K [--seed S]
//       Prints the [Peer] sections (public key, one /32 each) of the K
//       initiator identities that `udp` uses with the same seed: append them
//       to an [Interface] section for `wg setconf`.
//
//   handshake_load udp --keys K [--seed S] --responder-pub B64 --target IP:PORT
//                      [--src-net A.B.C.D --src-count N] [--seconds S] [--window W]
//                      [--pool M] [--spacing-ms MS]
//       Sends valid initiations from the K identities to a running daemon and
//       counts its responses per second. At most W initiations are
//       outstanding; each identity waits SPACING (default 25 ms; WireGuard
//       drops a peer's initiations that come faster than 50/s) between two.
//       A cookie reply (the responder is under load) is consumed and the
//       same initiation is sent again with mac2. Source addresses rotate
//       over N addresses from A.B.C.D upwards (they must be local, e.g.
//       `ip route add local A.B.C.0/16 dev lo`); N = 0: the kernel's choice.
//       Prints JSON.
//
//   handshake_load flood --responder-pub B64 --target IP:PORT
//                        [--src-net A.B.C.D --src-count N] [--ports P] [--pps R] [--seconds S]
//       Blasts initiations that carry a valid mac1 (the attacker knows the
//       responder's public key) but are otherwise garbage, from N source
//       addresses x P source ports, at R packets per second (0: as fast as
//       possible). Cookie replies are drained and counted. Prints JSON.
//
// Everything is IPv4 and goes only where --target says; run it inside the
// benchmark's network namespace.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "wgate/core/device.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/tai64n.hpp"
#include "wgate/crypto/x25519.hpp"
#include "wgate/noise/cookie.hpp"
#include "wgate/noise/handshake.hpp"
#include "wgate/noise/messages.hpp"

namespace {

using namespace wgate;
using Clock = std::chrono::steady_clock;
using Msg = std::array<std::uint8_t, noise::kInitiationSize>;

// SIGINT/SIGTERM end the udp and flood loops early; results are still printed.
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "handshake_load: %s\n", what.c_str());
    std::exit(2);
}

struct Options {
    std::string mode;
    std::size_t keys = 1000;
    std::uint64_t seed = 1;
    std::string responder_pub;
    std::string target;
    std::string src_net;
    std::size_t src_count = 0;
    double seconds = 5;
    std::size_t window = 256;
    std::size_t pool = 0;  // 0: per mode default
    double spacing_ms = 25;
    std::size_t ports = 16;
    double pps = 0;
};

Options parse(int argc, char** argv) {
    if (argc < 2) die("usage: handshake_load inproc|conf|udp|flood [options] (see the source's header)");
    Options o;
    o.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string_view k = argv[i];
        if (i + 1 >= argc) die("missing value for " + std::string(k));
        const char* v = argv[++i];
        auto num = [&] { return std::strtod(v, nullptr); };
        if (k == "--keys") o.keys = static_cast<std::size_t>(num());
        else if (k == "--seed") o.seed = static_cast<std::uint64_t>(num());
        else if (k == "--responder-pub") o.responder_pub = v;
        else if (k == "--target") o.target = v;
        else if (k == "--src-net") o.src_net = v;
        else if (k == "--src-count") o.src_count = static_cast<std::size_t>(num());
        else if (k == "--seconds") o.seconds = num();
        else if (k == "--window") o.window = static_cast<std::size_t>(num());
        else if (k == "--pool") o.pool = static_cast<std::size_t>(num());
        else if (k == "--spacing-ms") o.spacing_ms = num();
        else if (k == "--ports") o.ports = static_cast<std::size_t>(num());
        else if (k == "--pps") o.pps = num();
        else die("unknown option " + std::string(k));
    }
    if (o.keys == 0 || o.keys >= (1u << 20)) die("--keys must be in 1..1048575");
    return o;
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

core::Duration mono_now() { return std::chrono::duration_cast<core::Duration>(Clock::now().time_since_epoch()); }

core::Duration wall_now() {
    return std::chrono::duration_cast<core::Duration>(std::chrono::system_clock::now().time_since_epoch());
}

// The K initiator identities of a seed, the same in every mode.
std::vector<noise::LocalIdentity> identities(std::size_t k, std::uint64_t seed) {
    crypto::DeterministicRandom random(seed * 7919 + 17);
    std::vector<noise::LocalIdentity> ids(k);
    for (auto& id : ids) id.set(crypto::generate_private_key(random));
    return ids;
}

crypto::PublicKey parse_key(const std::string& b64) {
    auto k = crypto::key_from_base64(b64);
    if (!k) die("not a base64 public key: " + b64);
    return *k;
}

// Sender index: identity in the low 20 bits, initiation number above.
constexpr std::uint32_t kKeyBits = 20;
constexpr std::uint32_t kKeyMask = (1u << kKeyBits) - 1;

// Per identity: its handshake state, its cookie state and its pre-made
// initiations (without MACs: mac2 depends on a cookie we may get later).
struct Initiator {
    noise::LocalIdentity id;
    noise::Handshake handshake;
    noise::CookieGenerator cookies;
    std::vector<Msg> initiations;
    std::size_t next = 0;         // index of the initiation in flight or to send next
    bool outstanding = false;
    std::uint32_t sender = 0;     // of the initiation in flight
    Clock::time_point sent_at{};  // of the initiation in flight
    Clock::time_point last_send{};
    std::uint32_t source = 0;     // IPv4 source address, network order (0: kernel's choice)
};

// Pre-generates `per_key` initiations for each initiator; timestamps 20 ms
// apart (TAI64N is rounded to 2^24 ns, so they stay strictly increasing).
void pregenerate(std::vector<std::unique_ptr<Initiator>>& ins, const crypto::PublicKey& responder,
                 std::size_t per_key) {
    if (per_key >= (1u << (32 - kKeyBits))) die("too many initiations per key (raise --keys)");
    crypto::DeterministicRandom random(4242);
    const auto start = wall_now();
    for (std::size_t k = 0; k < ins.size(); ++k) {
        auto& in = *ins[k];
        in.handshake.configure(in.id, responder);
        if (!in.handshake.usable(in.id)) die("responder public key has low order");
        in.initiations.resize(per_key);
        for (std::size_t j = 0; j < per_key; ++j) {
            noise::Initiation init;
            const auto sender = static_cast<std::uint32_t>(k | (j << kKeyBits));
            const auto ts = crypto::tai64n(start + std::chrono::milliseconds(20) * j);
            if (in.handshake.create_initiation(in.id, sender, ts, random, init) != noise::HandshakeError::none)
                die("create_initiation failed");
            init.write(in.initiations[j].data());
        }
    }
}

std::vector<std::unique_ptr<Initiator>> make_initiators(const Options& o) {
    auto ids = identities(o.keys, o.seed);
    std::vector<std::unique_ptr<Initiator>> ins;
    ins.reserve(ids.size());
    for (auto& id : ids) {
        ins.push_back(std::make_unique<Initiator>());
        ins.back()->id = id;
    }
    return ins;
}

// ------------------------------------------------------------------ conf

int run_conf(const Options& o) {
    const auto ids = identities(o.keys, o.seed);
    for (std::size_t k = 0; k < ids.size(); ++k) {
        std::printf("\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.%zu.%zu.%zu/32\n",
                    crypto::key_to_base64(ids[k].public_key).c_str(), 200 + (k >> 16), (k >> 8) & 255, k & 255);
    }
    return 0;
}

// ------------------------------------------------------------------ inproc

int run_inproc(const Options& o) {
    crypto::DeterministicRandom device_random(99);
    core::DeviceConfig config;
    core::Device device(device_random, config);
    const auto responder_key = crypto::generate_private_key(device_random);
    device.set_private_key(responder_key);
    const auto responder_pub = device.identity().public_key;

    auto ins = make_initiators(o);
    const std::size_t pool = o.pool ? o.pool : 20000;
    const std::size_t per_key = std::max<std::size_t>(1, pool / ins.size());
    const double gen0 = thread_cpu_seconds();
    pregenerate(ins, responder_pub, per_key);
    const double gen_cpu = thread_cpu_seconds() - gen0;

    std::vector<core::Endpoint> sources;
    for (std::size_t k = 0; k < ins.size(); ++k) {
        device.add_peer(ins[k]->id.public_key);
        char text[40];
        std::snprintf(text, sizeof text, "10.%zu.%zu.%zu:%zu", 100 + (k >> 16), (k >> 8) & 255, k & 255,
                      1024 + k % 60000);
        sources.push_back(*core::Endpoint::parse(text));
    }
    // MAC everything up front: the measured loop is the responder alone.
    for (auto& in : ins)
        for (auto& m : in->initiations) in->cookies.add_macs(responder_pub, m.data(), m.size(), core::Duration{});

    core::Outputs out;
    core::Now now;
    now.mono = std::chrono::seconds(1000);
    now.wall = wall_now();
    std::size_t responses = 0, fed = 0;
    const auto w0 = Clock::now();
    const double c0 = thread_cpu_seconds();
    for (std::size_t j = 0; j < per_key; ++j) {
        // One pass over all peers per 25 virtual ms: no peer exceeds 50 initiations/s.
        now.mono += std::chrono::milliseconds(25);
        now.wall += std::chrono::milliseconds(25);
        for (std::size_t k = 0; k < ins.size(); ++k) {
            const auto& m = ins[k]->initiations[j];
            device.on_datagram({sources[k], {m.data(), m.size()}}, now, out);
            for (const auto& d : out.to_network)
                if (noise::message_type_of(d.bytes) == static_cast<std::uint32_t>(noise::MessageType::response))
                    ++responses;
            out.clear();
            ++fed;
        }
    }
    const double cpu = thread_cpu_seconds() - c0;
    const double wall = std::chrono::duration<double>(Clock::now() - w0).count();
    std::fprintf(stderr,
                 "inproc: %zu initiations from %zu peers -> %zu responses in %.3f s CPU (%.3f s wall): "
                 "%.0f handshakes/s per CPU-second (pre-generation took %.2f s CPU)\n",
                 fed, ins.size(), responses, cpu, wall, responses / cpu, gen_cpu);
    std::printf("{\"mode\":\"inproc\",\"keys\":%zu,\"initiations\":%zu,\"responses\":%zu,\"cpu_s\":%.6f,"
                "\"wall_s\":%.6f,\"handshakes_per_cpu_s\":%.1f,\"handshakes_per_wall_s\":%.1f}\n",
                ins.size(), fed, responses, cpu, wall, responses / cpu, responses / wall);
    return responses == fed ? 0 : 1;
}

// ------------------------------------------------------------------ sockets

sockaddr_in parse_target(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) die("--target must be IPv4:PORT");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(text.c_str() + colon + 1)));
    if (inet_pton(AF_INET, text.substr(0, colon).c_str(), &sa.sin_addr) != 1) die("bad --target address");
    return sa;
}

std::vector<std::uint32_t> source_addresses(const Options& o) {
    std::vector<std::uint32_t> v;
    if (o.src_count == 0) return v;
    in_addr base{};
    if (inet_pton(AF_INET, o.src_net.c_str(), &base) != 1) die("--src-net must be an IPv4 address");
    for (std::size_t i = 0; i < o.src_count; ++i) v.push_back(htonl(ntohl(base.s_addr) + static_cast<std::uint32_t>(i)));
    return v;
}

int udp_socket() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    int size = 8 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) die(std::string("bind: ") + std::strerror(errno));
    return fd;
}

// A batch of datagrams to one target, each with its own source address.
class SendBatch {
public:
    static constexpr std::size_t kMax = 64;
    explicit SendBatch(const sockaddr_in& target) : target_(target) {}

    void add(const std::uint8_t* data, std::size_t size, std::uint32_t source) {
        const std::size_t i = n_++;
        std::memcpy(buffers_[i].data(), data, size);
        iov_[i] = {buffers_[i].data(), size};
        msgs_[i] = {};
        msgs_[i].msg_hdr.msg_name = &target_;
        msgs_[i].msg_hdr.msg_namelen = sizeof target_;
        msgs_[i].msg_hdr.msg_iov = &iov_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
        if (source) {
            std::memset(cmsg_[i].data(), 0, cmsg_[i].size());
            msgs_[i].msg_hdr.msg_control = cmsg_[i].data();
            msgs_[i].msg_hdr.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
            cmsghdr* c = CMSG_FIRSTHDR(&msgs_[i].msg_hdr);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
            in_pktinfo pi{};
            pi.ipi_spec_dst.s_addr = source;
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    }
    bool full() const { return n_ == kMax; }
    std::size_t size() const { return n_; }
    // Returns how many were sent (the rest is dropped: counted by the caller).
    std::size_t flush(int fd) {
        std::size_t done = 0;
        while (done < n_) {
            const int r = ::sendmmsg(fd, msgs_.data() + done, static_cast<unsigned>(n_ - done), 0);
            if (r < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != ENOBUFS && !warned_) {
                    std::fprintf(stderr, "handshake_load: sendmmsg: %s\n", std::strerror(errno));
                    warned_ = true;
                }
                break;
            }
            done += static_cast<std::size_t>(r);
        }
        n_ = 0;
        return done;
    }

private:
    sockaddr_in target_;
    std::size_t n_ = 0;
    std::array<mmsghdr, kMax> msgs_{};
    std::array<iovec, kMax> iov_{};
    std::array<std::array<std::uint8_t, noise::kInitiationSize>, kMax> buffers_{};
    std::array<std::array<std::uint8_t, CMSG_SPACE(sizeof(in_pktinfo))>, kMax> cmsg_{};
    bool warned_ = false;
};

// Receives what is queued on fd (non-blocking) and hands each datagram to f.
template <typename F>
std::size_t drain(int fd, F&& f) {
    constexpr std::size_t kBatch = 64;
    static std::array<std::array<std::uint8_t, 256>, kBatch> bufs;
    static std::array<iovec, kBatch> iov;
    static std::array<mmsghdr, kBatch> msgs;
    std::size_t total = 0;
    for (;;) {
        for (std::size_t i = 0; i < kBatch; ++i) {
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) break;
        for (int i = 0; i < n; ++i) f(std::span<const std::uint8_t>(bufs[i].data(), msgs[i].msg_len));
        total += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < kBatch) break;
    }
    return total;
}

// ------------------------------------------------------------------ udp

int run_udp(const Options& o) {
    const auto responder = parse_key(o.responder_pub);
    const auto target = parse_target(o.target);
    const auto sources = source_addresses(o);
    auto ins = make_initiators(o);
    const std::size_t pool = o.pool ? o.pool : 60000;
    const std::size_t per_key = std::max<std::size_t>(1, (pool + ins.size() - 1) / ins.size());
    const double gen0 = thread_cpu_seconds();
    pregenerate(ins, responder, per_key);
    std::fprintf(stderr, "udp: %zu initiations from %zu keys pre-generated in %.2f s CPU\n", per_key * ins.size(),
                 ins.size(), thread_cpu_seconds() - gen0);
    for (std::size_t k = 0; k < ins.size(); ++k) ins[k]->source = sources.empty() ? 0 : sources[k % sources.size()];

    const int fd = udp_socket();
    SendBatch batch(target);
    const auto spacing = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(o.spacing_ms));
    const auto timeout = std::chrono::seconds(1);

    // Identities ready to send, by the time they may send again.
    using Ready = std::pair<Clock::time_point, std::uint32_t>;
    std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready;
    std::deque<std::tuple<Clock::time_point, std::uint32_t, std::uint32_t>> in_flight;  // sent_at, key, sender
    const auto t0 = Clock::now();
    for (std::uint32_t k = 0; k < ins.size(); ++k) ready.push({t0, k});

    std::size_t outstanding = 0, sent = 0, send_failed = 0, responses = 0, cookies = 0, bad_cookies = 0,
                timeouts = 0, stale = 0, other = 0;
    std::vector<std::size_t> per_second(static_cast<std::size_t>(o.seconds) + 2, 0);
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    std::vector<std::uint32_t> resend;

    auto queue_send = [&](std::uint32_t k, Clock::time_point now) {
        auto& in = *ins[k];
        Msg m = in.initiations[in.next];
        in.cookies.add_macs(in.handshake.remote_static(), m.data(), m.size(), mono_now());
        batch.add(m.data(), m.size(), in.source);
        in.sender = noise::load_le32(m.data() + 4);
        in.sent_at = now;
        in.last_send = now;
        in_flight.emplace_back(now, k, in.sender);
        if (batch.full()) {
            const auto n = batch.flush(fd);
            sent += n;
            send_failed += SendBatch::kMax - n;
        }
    };
    auto finish = [&](std::uint32_t k) {  // the initiation in flight is done with, one way or another
        auto& in = *ins[k];
        in.outstanding = false;
        --outstanding;
        if (++in.next < in.initiations.size()) ready.push({in.last_send + spacing, k});
    };

    Clock::time_point now = t0;
    bool exhausted = false;
    while (!g_stop && (now = Clock::now()) < deadline) {
        // Send: ready identities while the window has room.
        while (outstanding < o.window && !ready.empty() && ready.top().first <= now) {
            const auto k = ready.top().second;
            ready.pop();
            ins[k]->outstanding = true;
            ++outstanding;
            queue_send(k, now);
        }
        for (auto k : resend) queue_send(k, now);
        resend.clear();
        if (batch.size()) {
            const auto want = batch.size();
            const auto n = batch.flush(fd);
            sent += n;
            send_failed += want - n;
        }
        if (outstanding == 0 && ready.empty()) {
            exhausted = true;
            break;
        }
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 1);
        now = Clock::now();
        drain(fd, [&](std::span<const std::uint8_t> b) {
            const auto type = noise::message_type_of(b);
            if (type == static_cast<std::uint32_t>(noise::MessageType::response) && b.size() == noise::kResponseSize) {
                const auto receiver = noise::load_le32(b.data() + 8);
                const std::uint32_t k = (receiver & kKeyMask) % static_cast<std::uint32_t>(ins.size());
                auto& ik = *ins[k];
                if (ik.outstanding && ik.sender == receiver) {
                    ++responses;
                    const auto sec = static_cast<std::size_t>(std::chrono::duration<double>(now - t0).count());
                    if (sec < per_second.size()) ++per_second[sec];
                    finish(k);
                } else {
                    ++stale;
                }
            } else if (type == static_cast<std::uint32_t>(noise::MessageType::cookie_reply) &&
                       b.size() == noise::kCookieReplySize) {
                noise::CookieReply reply;
                noise::CookieReply::read(b, reply);
                const std::uint32_t k = (reply.receiver & kKeyMask) % static_cast<std::uint32_t>(ins.size());
                auto& ik = *ins[k];
                if (ik.outstanding && ik.sender == reply.receiver && ik.cookies.consume_reply(ik.handshake.remote_static(), reply, mono_now())) {
                    ++cookies;
                    resend.push_back(k);  // same initiation again, now with mac2
                } else {
                    ++bad_cookies;
                }
            } else {
                ++other;
            }
        });
        // Time out initiations that got nothing back in a second.
        while (!in_flight.empty() && std::get<0>(in_flight.front()) + timeout <= now) {
            const auto [at, k, sender] = in_flight.front();
            in_flight.pop_front();
            auto& in = *ins[k];
            if (in.outstanding && in.sender == sender && in.sent_at == at) {
                ++timeouts;
                finish(k);
            }
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::size_t best = 0;
    for (std::size_t s = 0; s + 1 < per_second.size() && s + 1 <= static_cast<std::size_t>(elapsed); ++s)
        best = std::max(best, per_second[s]);
    std::fprintf(stderr,
                 "udp: %.2f s, %zu initiations sent (%zu failed), %zu responses (%.0f/s, best second %zu), "
                 "%zu cookie replies (%zu unusable), %zu timeouts, %zu stale, %zu other%s\n",
                 elapsed, sent, send_failed, responses, responses / elapsed, best, cookies, bad_cookies, timeouts,
                 stale, other, exhausted ? " (pool exhausted before the deadline)" : "");
    std::printf("{\"mode\":\"udp\",\"keys\":%zu,\"seconds\":%.3f,\"sent\":%zu,\"send_failed\":%zu,\"responses\":%zu,"
                "\"responses_per_s\":%.1f,\"best_second\":%zu,\"cookie_replies\":%zu,\"timeouts\":%zu,"
                "\"pool_exhausted\":%s}\n",
                ins.size(), elapsed, sent, send_failed, responses, responses / elapsed, best, cookies, timeouts,
                exhausted ? "true" : "false");
    ::close(fd);
    return 0;
}

// ------------------------------------------------------------------ flood

int run_flood(const Options& o) {
    const auto responder = parse_key(o.responder_pub);
    const auto target = parse_target(o.target);
    const auto sources = source_addresses(o);
    // Garbage with a valid mac1: costs the responder one DH when it is not under load.
    crypto::DeterministicRandom random(o.seed + 1000);
    noise::CookieGenerator mac;
    std::vector<Msg> pool(4096);
    for (auto& m : pool) {
        random.fill(m.data(), m.size());
        m[0] = 1;
        m[1] = m[2] = m[3] = 0;
        mac.add_macs(responder, m.data(), m.size(), core::Duration{});
    }
    std::vector<int> fds;
    for (std::size_t i = 0; i < std::max<std::size_t>(1, o.ports); ++i) fds.push_back(udp_socket());
    SendBatch batch(target);
    std::size_t sent = 0, failed = 0, replies = 0, cookie_replies = 0, i = 0, s = 0;
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    Clock::time_point now;
    while (!g_stop && (now = Clock::now()) < deadline) {
        if (o.pps > 0) {
            const double due = std::chrono::duration<double>(now - t0).count() * o.pps;
            if (double(sent + failed) >= due) {
                timespec ts{0, 200000};  // 0.2 ms
                ::nanosleep(&ts, nullptr);
                for (int fd : fds) replies += drain(fd, [&](std::span<const std::uint8_t> b) {
                    if (noise::message_type_of(b) == 3) ++cookie_replies;
                });
                continue;
            }
        }
        for (std::size_t b = 0; b < SendBatch::kMax; ++b, ++i)
            batch.add(pool[i % pool.size()].data(), noise::kInitiationSize,
                      sources.empty() ? 0 : sources[(i / 7) % sources.size()]);
        const int fd = fds[s++ % fds.size()];
        const auto n = batch.flush(fd);
        sent += n;
        failed += SendBatch::kMax - n;
        if ((s & 15) == 0)
            for (int f : fds) replies += drain(f, [&](std::span<const std::uint8_t> b) {
                if (noise::message_type_of(b) == 3) ++cookie_replies;
            });
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    for (int f : fds) {
        replies += drain(f, [&](std::span<const std::uint8_t> b) {
            if (noise::message_type_of(b) == 3) ++cookie_replies;
        });
        ::close(f);
    }
    std::fprintf(stderr, "flood: %.2f s, %zu sent (%.0f/s, %zu failed), %zu replies (%zu cookie replies)\n", elapsed,
                 sent, sent / elapsed, failed, replies, cookie_replies);
    std::printf("{\"mode\":\"flood\",\"seconds\":%.3f,\"sent\":%zu,\"sent_per_s\":%.1f,\"send_failed\":%zu,"
                "\"replies\":%zu,\"cookie_replies\":%zu}\n",
                elapsed, sent, sent / elapsed, failed, replies, cookie_replies);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    struct sigaction sa {};
    sa.sa_handler = on_signal;  // no SA_RESTART: poll and nanosleep return at once
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    if (o.mode == "inproc") return run_inproc(o);
    if (o.mode == "conf") return run_conf(o);
    if (o.mode == "udp" || o.mode == "flood") {
        if (o.responder_pub.empty() || o.target.empty()) die("udp and flood need --responder-pub and --target");
        if (o.src_count && o.src_net.empty()) die("--src-count needs --src-net");
        return o.mode == "udp" ? run_udp(o) : run_flood(o);
    }
    die("unknown mode " + o.mode);
}
