// Datagrams from the network into a Device that has a peer and a live
// session. The first byte picks what the rest does:
//   0: raw datagrams (2-byte length prefixes) straight to the device;
//   1/2/3: a genuine initiation / response / transport message with the
//          input XORed over it, so mutations get past the MAC and size checks.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "wgate/core/device.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

using namespace wgate;
using namespace std::chrono_literals;

namespace {

struct Lab {
    crypto::DeterministicRandom ra{1}, rb{2};
    core::Device a{ra}, b{rb};
    core::Endpoint ea = *core::Endpoint::parse("192.0.2.1:1"), eb = *core::Endpoint::parse("192.0.2.2:2");
    core::Now now{1000s, 1'700'000'000s};
    core::Outputs out;
    std::vector<std::uint8_t> initiation, response, data;

    Lab() {
        auto ka = crypto::generate_private_key(ra), kb = crypto::generate_private_key(rb);
        a.set_private_key(ka);
        b.set_private_key(kb);
        auto* pa = a.add_peer(crypto::public_key_of(kb));
        auto* pb = b.add_peer(crypto::public_key_of(ka));
        a.add_allowed_ip(*pa, *core::IpPrefix::parse("10.0.0.2/32"));
        b.add_allowed_ip(*pb, *core::IpPrefix::parse("10.0.0.1/32"));
        b.add_allowed_ip(*pb, *core::IpPrefix::parse("fd00::/64"));
        a.set_endpoint(*pa, eb);
        b.set_endpoint(*pb, ea);
        std::vector<std::uint8_t> packet(40, 0);
        packet[0] = 0x45;
        packet[3] = 40;
        packet[12] = 10, packet[15] = 1, packet[16] = 10, packet[19] = 2;
        a.on_tun_packet(packet, now, out);
        initiation = out.to_network[0].bytes;
        core::Outputs r;
        b.on_datagram({ea, initiation}, now, r);
        response = r.to_network[0].bytes;
        out.clear();
        a.on_datagram({eb, response}, now, out);
        data = out.to_network[0].bytes;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* in, std::size_t size) {
    if (size < 1) return 0;
    Lab lab;  // fresh state per input, so every crash reproduces
    const std::uint8_t mode = in[0] % 4;
    ++in;
    --size;
    auto feed = [&](core::Device& d, const std::vector<std::uint8_t>& bytes, const core::Endpoint& from) {
        lab.out.clear();
        d.on_datagram({from, bytes}, lab.now, lab.out);
        lab.now.mono += 7ms;
        lab.now.wall += 7ms;
        lab.out.clear();
        d.tick(lab.now, lab.out);
    };
    if (mode == 0) {
        while (size >= 2) {
            std::size_t n = std::size_t(in[0]) << 8 | in[1];
            in += 2;
            size -= 2;
            if (n > size) n = size;
            feed(lab.b, std::vector<std::uint8_t>(in, in + n), lab.ea);
            in += n;
            size -= n;
        }
        return 0;
    }
    const std::vector<std::uint8_t>& base = mode == 1 ? lab.initiation : mode == 2 ? lab.response : lab.data;
    std::vector<std::uint8_t> msg = base;
    for (std::size_t i = 0; i < size && i < msg.size(); ++i) msg[i] ^= in[i];
    if (size > msg.size()) msg.insert(msg.end(), in + msg.size(), in + size);
    // Responses go to the initiator a; the others to b.
    if (mode == 2)
        feed(lab.a, msg, lab.eb);
    else
        feed(lab.b, msg, lab.ea);
    return 0;
}
