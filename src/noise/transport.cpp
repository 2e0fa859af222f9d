#include "wgate/noise/transport.hpp"

#include <cstring>

#include "wgate/crypto/aead.hpp"

namespace wgate::noise {

std::size_t padded_size(std::size_t size, std::size_t mtu) noexcept {
    const std::size_t padded = (size + kMessagePaddingMultiple - 1) / kMessagePaddingMultiple * kMessagePaddingMultiple;
    if (size <= mtu && padded > mtu) return mtu;
    return padded;
}

std::size_t seal_transport(Keypair& kp, std::span<const std::uint8_t> plain, std::size_t mtu,
                           std::uint8_t* out) noexcept {
    const std::size_t padded = padded_size(plain.size(), mtu);
    const std::uint64_t counter = kp.send_counter++;
    out[0] = static_cast<std::uint8_t>(MessageType::transport);
    out[1] = out[2] = out[3] = 0;
    store_le32(out + 4, kp.remote_index);
    store_le64(out + 8, counter);
    std::uint8_t* body = out + kTransportHeaderSize;
    // An empty span (a keepalive) may have a null data(): memmove must not see it.
    if (!plain.empty() && plain.data() != body) std::memmove(body, plain.data(), plain.size());
    std::memset(body + plain.size(), 0, padded - plain.size());
    crypto::aead_seal(body, {body, padded}, {}, kp.send_key, counter);
    return kTransportHeaderSize + padded + crypto::kAeadTagSize;
}

bool open_transport(const Keypair& kp, std::span<const std::uint8_t> msg, std::uint8_t* out) noexcept {
    if (msg.size() < kTransportOverhead) return false;
    return crypto::aead_open(out, msg.subspan(kTransportHeaderSize), {}, kp.receive_key, transport_counter(msg));
}

}  // namespace wgate::noise
