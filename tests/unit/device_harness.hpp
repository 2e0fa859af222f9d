// Two Devices joined by an in-memory network on a virtual clock. Tests drive
// time with advance(); datagrams are delivered instantly unless a link is cut
// or a test intercepts them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wgate/core/device.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::test {

using namespace std::chrono_literals;
using core::Duration;
using core::Endpoint;
using core::IpAddress;
using core::IpPrefix;

inline IpAddress ip(const std::string& text) { return *IpAddress::parse(text); }
inline IpPrefix prefix(const std::string& text) { return *IpPrefix::parse(text); }
inline Endpoint endpoint(const std::string& text) { return *Endpoint::parse(text); }

// A minimal IPv4 packet (header + payload of `payload` bytes filled with `fill`).
inline std::vector<std::uint8_t> ipv4_packet(const std::string& src, const std::string& dst, std::size_t payload = 64,
                                             std::uint8_t fill = 0xab) {
    std::vector<std::uint8_t> p(20 + payload, fill);
    const std::size_t total = p.size();
    p[0] = 0x45;
    p[1] = 0;
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    p[8] = 64;
    p[9] = 17;
    std::memcpy(&p[12], ip(src).bytes.data(), 4);
    std::memcpy(&p[16], ip(dst).bytes.data(), 4);
    return p;
}

inline std::vector<std::uint8_t> ipv6_packet(const std::string& src, const std::string& dst, std::size_t payload = 64) {
    std::vector<std::uint8_t> p(40 + payload, 0xcd);
    p[0] = 0x60;
    p[1] = p[2] = p[3] = 0;
    p[4] = static_cast<std::uint8_t>(payload >> 8);
    p[5] = static_cast<std::uint8_t>(payload);
    p[6] = 17;
    p[7] = 64;
    std::memcpy(&p[8], ip(src).bytes.data(), 16);
    std::memcpy(&p[24], ip(dst).bytes.data(), 16);
    return p;
}

struct Node {
    Node(std::uint64_t seed, const std::string& ep, core::DeviceConfig config = {})
        : random(seed), device(random, config), address(endpoint(ep)) {
        key = crypto::generate_private_key(random);
        public_key = crypto::public_key_of(key);
        device.set_private_key(key);
    }
    crypto::DeterministicRandom random;
    core::Device device;
    crypto::PrivateKey key;
    crypto::PublicKey public_key{};
    Endpoint address;
    std::vector<std::vector<std::uint8_t>> tun;  // packets the device wrote to its TUN
    std::vector<core::Event> events;
    std::vector<std::vector<std::uint8_t>> sent;  // every datagram it sent, in order
};

struct InFlight {
    Node* from;
    Node* to;
    std::vector<std::uint8_t> bytes;
};

class Harness {
public:
    explicit Harness(core::DeviceConfig config_a = {}, core::DeviceConfig config_b = {}, std::uint64_t seed_a = 1,
                     std::uint64_t seed_b = 2)
        : a(seed_a, "192.0.2.1:51820", config_a), b(seed_b, "198.51.100.7:51821", config_b) {
        now.mono = 1000s;
        now.wall = std::chrono::seconds(1'700'000'000);
    }

    // Configures a and b as peers of each other: a is 10.0.0.1, b is 10.0.0.2.
    void connect(bool with_psk = false, bool a_knows_b_endpoint = true, bool b_knows_a_endpoint = true) {
        pa = a.device.add_peer(b.public_key);  // a's view of b
        pb = b.device.add_peer(a.public_key);  // b's view of a
        a.device.add_allowed_ip(*pa, prefix("10.0.0.2/32"));
        a.device.add_allowed_ip(*pa, prefix("fd00::2/128"));
        b.device.add_allowed_ip(*pb, prefix("10.0.0.1/32"));
        b.device.add_allowed_ip(*pb, prefix("fd00::1/128"));
        if (a_knows_b_endpoint) a.device.set_endpoint(*pa, b.address);
        if (b_knows_a_endpoint) b.device.set_endpoint(*pb, a.address);
        if (with_psk) {
            crypto::PresharedKey psk;
            a.random.fill(psk.data(), psk.size());
            a.device.set_preshared_key(*pa, psk);
            b.device.set_preshared_key(*pb, psk);
        }
    }

    // a sends an IP packet from 10.0.0.1 to 10.0.0.2 into its TUN.
    void a_sends(std::size_t payload = 64, std::uint8_t fill = 0xab) {
        auto p = ipv4_packet("10.0.0.1", "10.0.0.2", payload, fill);
        tun_in(a, p);
    }
    void b_sends(std::size_t payload = 64, std::uint8_t fill = 0xba) {
        auto p = ipv4_packet("10.0.0.2", "10.0.0.1", payload, fill);
        tun_in(b, p);
    }

    void tun_in(Node& n, std::span<const std::uint8_t> packet) {
        out.clear();
        n.device.on_tun_packet(packet, now, out);
        collect(n);
        deliver();
    }

    // Hands a raw datagram to n as if it came from `from`, then delivers replies.
    void inject(Node& n, std::span<const std::uint8_t> bytes, const Endpoint& from) {
        out.clear();
        n.device.on_datagram({from, bytes}, now, out);
        collect(n);
        deliver();
    }

    // Moves the clock forward, firing timers at their exact deadlines.
    void advance(Duration d) {
        const Duration target = now.mono + d;
        for (;;) {
            std::optional<Duration> next;
            for (Node* n : {&a, &b}) {
                auto dl = n->device.next_deadline();
                if (dl && (!next || *dl < *next)) next = dl;
            }
            if (!next || *next > target) break;
            set_time(std::max(*next, now.mono));
            for (Node* n : {&a, &b}) {
                out.clear();
                n->device.tick(now, out);
                collect(*n);
            }
            deliver();
        }
        set_time(target);
    }

    // Delivers queued datagrams until the network is quiet.
    void deliver() {
        for (int rounds = 0; !queue.empty() && rounds < 10000; ++rounds) {
            InFlight f = std::move(queue.front());
            queue.pop_front();
            if (intercept && !intercept(f)) continue;
            out.clear();
            f.to->device.on_datagram({f.from->address, f.bytes}, now, out);
            collect(*f.to);
        }
    }

    std::size_t count_events(const Node& n, core::EventKind kind) const {
        return static_cast<std::size_t>(
            std::count_if(n.events.begin(), n.events.end(), [&](const core::Event& e) { return e.kind == kind; }));
    }
    std::size_t count_sent(const Node& n, std::uint8_t type) const {
        return static_cast<std::size_t>(std::count_if(n.sent.begin(), n.sent.end(), [&](const auto& s) {
            return !s.empty() && s[0] == type;
        }));
    }

    Node a;
    Node b;
    core::Peer* pa = nullptr;
    core::Peer* pb = nullptr;
    core::Now now;
    core::Outputs out;
    bool link_up = true;  // false: everything sent is lost
    // Return false to drop a datagram in flight; may modify it.
    std::function<bool(InFlight&)> intercept;
    std::deque<InFlight> queue;

private:
    void set_time(Duration mono) {
        now.wall += mono - now.mono;
        now.mono = mono;
    }

    void collect(Node& n) {
        for (auto& p : out.to_tun) n.tun.push_back(p.bytes);
        for (auto& e : out.events) n.events.push_back(e);
        for (auto& d : out.to_network) {
            n.sent.push_back(d.bytes);
            if (!link_up) continue;
            Node* to = d.endpoint.same_remote(a.address) ? &a : d.endpoint.same_remote(b.address) ? &b : nullptr;
            if (to) queue.push_back({&n, to, d.bytes});
        }
    }
};

}  // namespace wgate::test
