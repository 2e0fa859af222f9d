#include "wgate/noise/messages.hpp"

namespace wgate::noise {
namespace {

void write_header(std::uint8_t* out, MessageType type) noexcept {
    out[0] = static_cast<std::uint8_t>(type);
    out[1] = out[2] = out[3] = 0;
}

template <std::size_t N>
const std::uint8_t* take(const std::uint8_t* in, Bytes<N>& field) noexcept {
    std::memcpy(field.data(), in, N);
    return in + N;
}

template <std::size_t N>
std::uint8_t* put(std::uint8_t* out, const Bytes<N>& field) noexcept {
    std::memcpy(out, field.data(), N);
    return out + N;
}

bool has_shape(std::span<const std::uint8_t> in, MessageType type, std::size_t size) noexcept {
    return in.size() == size && message_type_of(in) == static_cast<std::uint32_t>(type);
}

}  // namespace

void Initiation::write(std::uint8_t out[kInitiationSize]) const noexcept {
    write_header(out, MessageType::initiation);
    store_le32(out + 4, sender);
    std::uint8_t* p = out + 8;
    p = put(p, ephemeral);
    p = put(p, encrypted_static);
    p = put(p, encrypted_timestamp);
    p = put(p, mac1);
    put(p, mac2);
}

bool Initiation::read(std::span<const std::uint8_t> in, Initiation& out) noexcept {
    if (!has_shape(in, MessageType::initiation, kInitiationSize)) return false;
    out.sender = load_le32(in.data() + 4);
    const std::uint8_t* p = in.data() + 8;
    p = take(p, out.ephemeral);
    p = take(p, out.encrypted_static);
    p = take(p, out.encrypted_timestamp);
    p = take(p, out.mac1);
    take(p, out.mac2);
    return true;
}

void Response::write(std::uint8_t out[kResponseSize]) const noexcept {
    write_header(out, MessageType::response);
    store_le32(out + 4, sender);
    store_le32(out + 8, receiver);
    std::uint8_t* p = out + 12;
    p = put(p, ephemeral);
    p = put(p, encrypted_nothing);
    p = put(p, mac1);
    put(p, mac2);
}

bool Response::read(std::span<const std::uint8_t> in, Response& out) noexcept {
    if (!has_shape(in, MessageType::response, kResponseSize)) return false;
    out.sender = load_le32(in.data() + 4);
    out.receiver = load_le32(in.data() + 8);
    const std::uint8_t* p = in.data() + 12;
    p = take(p, out.ephemeral);
    p = take(p, out.encrypted_nothing);
    p = take(p, out.mac1);
    take(p, out.mac2);
    return true;
}

void CookieReply::write(std::uint8_t out[kCookieReplySize]) const noexcept {
    write_header(out, MessageType::cookie_reply);
    store_le32(out + 4, receiver);
    std::uint8_t* p = out + 8;
    p = put(p, nonce);
    put(p, encrypted_cookie);
}

bool CookieReply::read(std::span<const std::uint8_t> in, CookieReply& out) noexcept {
    if (!has_shape(in, MessageType::cookie_reply, kCookieReplySize)) return false;
    out.receiver = load_le32(in.data() + 4);
    const std::uint8_t* p = in.data() + 8;
    p = take(p, out.nonce);
    take(p, out.encrypted_cookie);
    return true;
}

}  // namespace wgate::noise
