// Wire formats: sizes, field offsets, round trips and what read() refuses.
#include "wgate/noise/messages.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace wgate::noise {
namespace {

// Distinct, recognisable contents per field so that a swapped or shifted
// field cannot go unnoticed.
template <std::size_t N>
Bytes<N> pattern(std::uint8_t start) {
    Bytes<N> b{};
    for (std::size_t i = 0; i < N; ++i) b[i] = static_cast<std::uint8_t>(start + i);
    return b;
}

Initiation sample_initiation() {
    Initiation m;
    m.sender = 0x11223344;
    m.ephemeral = pattern<32>(0x20);
    m.encrypted_static = pattern<48>(0x50);
    m.encrypted_timestamp = pattern<28>(0x90);
    m.mac1 = pattern<16>(0xb0);
    m.mac2 = pattern<16>(0xd0);
    return m;
}

Response sample_response() {
    Response m;
    m.sender = 0xa1b2c3d4;
    m.receiver = 0x01020304;
    m.ephemeral = pattern<32>(0x40);
    m.encrypted_nothing = pattern<16>(0x70);
    m.mac1 = pattern<16>(0x80);
    m.mac2 = pattern<16>(0xc0);
    return m;
}

CookieReply sample_cookie_reply() {
    CookieReply m;
    m.receiver = 0xdeadbeef;
    m.nonce = pattern<24>(0x30);
    m.encrypted_cookie = pattern<32>(0x60);
    return m;
}

template <std::size_t N>
bool field_at(const std::uint8_t* msg, std::size_t offset, const Bytes<N>& field) {
    return std::equal(field.begin(), field.end(), msg + offset);
}

TEST(Messages, Sizes) {
    EXPECT_EQ(kInitiationSize, 148u);
    EXPECT_EQ(kResponseSize, 92u);
    EXPECT_EQ(kCookieReplySize, 64u);
    EXPECT_EQ(kTransportHeaderSize, 16u);
    EXPECT_EQ(kTransportOverhead, 32u);
}

TEST(Messages, InitiationLayout) {
    const Initiation m = sample_initiation();
    std::array<std::uint8_t, kInitiationSize> buf;
    buf.fill(0xee);  // write() must cover every byte
    m.write(buf.data());
    EXPECT_EQ(buf[0], 1);
    EXPECT_EQ(buf[1], 0);
    EXPECT_EQ(buf[2], 0);
    EXPECT_EQ(buf[3], 0);
    // sender, little-endian, at 4..7
    EXPECT_EQ(buf[4], 0x44);
    EXPECT_EQ(buf[5], 0x33);
    EXPECT_EQ(buf[6], 0x22);
    EXPECT_EQ(buf[7], 0x11);
    EXPECT_TRUE(field_at(buf.data(), 8, m.ephemeral));
    EXPECT_TRUE(field_at(buf.data(), 40, m.encrypted_static));
    EXPECT_TRUE(field_at(buf.data(), 88, m.encrypted_timestamp));
    EXPECT_TRUE(field_at(buf.data(), 116, m.mac1));
    EXPECT_TRUE(field_at(buf.data(), 132, m.mac2));
    EXPECT_EQ(kInitiationSize - kMacsSize, 116u);
}

TEST(Messages, ResponseLayout) {
    const Response m = sample_response();
    std::array<std::uint8_t, kResponseSize> buf;
    buf.fill(0xee);
    m.write(buf.data());
    EXPECT_EQ(load_le32(buf.data()), 2u);
    EXPECT_EQ(buf[4], 0xd4);
    EXPECT_EQ(buf[7], 0xa1);
    EXPECT_EQ(load_le32(buf.data() + 4), 0xa1b2c3d4u);
    EXPECT_EQ(buf[8], 0x04);
    EXPECT_EQ(buf[11], 0x01);
    EXPECT_EQ(load_le32(buf.data() + 8), 0x01020304u);
    EXPECT_TRUE(field_at(buf.data(), 12, m.ephemeral));
    EXPECT_TRUE(field_at(buf.data(), 44, m.encrypted_nothing));
    EXPECT_TRUE(field_at(buf.data(), 60, m.mac1));
    EXPECT_TRUE(field_at(buf.data(), 76, m.mac2));
}

TEST(Messages, CookieReplyLayout) {
    const CookieReply m = sample_cookie_reply();
    std::array<std::uint8_t, kCookieReplySize> buf;
    buf.fill(0xee);
    m.write(buf.data());
    EXPECT_EQ(load_le32(buf.data()), 3u);
    EXPECT_EQ(buf[4], 0xef);
    EXPECT_EQ(buf[7], 0xde);
    EXPECT_TRUE(field_at(buf.data(), 8, m.nonce));
    EXPECT_TRUE(field_at(buf.data(), 32, m.encrypted_cookie));
}

TEST(Messages, InitiationRoundTrip) {
    const Initiation m = sample_initiation();
    std::array<std::uint8_t, kInitiationSize> buf{};
    m.write(buf.data());
    Initiation r;
    ASSERT_TRUE(Initiation::read(buf, r));
    EXPECT_EQ(r.sender, m.sender);
    EXPECT_EQ(r.ephemeral, m.ephemeral);
    EXPECT_EQ(r.encrypted_static, m.encrypted_static);
    EXPECT_EQ(r.encrypted_timestamp, m.encrypted_timestamp);
    EXPECT_EQ(r.mac1, m.mac1);
    EXPECT_EQ(r.mac2, m.mac2);
}

TEST(Messages, ResponseRoundTrip) {
    const Response m = sample_response();
    std::array<std::uint8_t, kResponseSize> buf{};
    m.write(buf.data());
    Response r;
    ASSERT_TRUE(Response::read(buf, r));
    EXPECT_EQ(r.sender, m.sender);
    EXPECT_EQ(r.receiver, m.receiver);
    EXPECT_EQ(r.ephemeral, m.ephemeral);
    EXPECT_EQ(r.encrypted_nothing, m.encrypted_nothing);
    EXPECT_EQ(r.mac1, m.mac1);
    EXPECT_EQ(r.mac2, m.mac2);
}

TEST(Messages, CookieReplyRoundTrip) {
    const CookieReply m = sample_cookie_reply();
    std::array<std::uint8_t, kCookieReplySize> buf{};
    m.write(buf.data());
    CookieReply r;
    ASSERT_TRUE(CookieReply::read(buf, r));
    EXPECT_EQ(r.receiver, m.receiver);
    EXPECT_EQ(r.nonce, m.nonce);
    EXPECT_EQ(r.encrypted_cookie, m.encrypted_cookie);
}

// Every read() refuses a buffer one byte short or long, a wrong type byte and
// any non-zero reserved byte; `write` produces a valid message to start from.
template <typename Message, std::size_t Size>
void expect_read_rejects_malformed(const Message& m, std::uint8_t type) {
    std::vector<std::uint8_t> good(Size + 1);
    m.write(good.data());
    Message out;
    ASSERT_TRUE(Message::read(std::span(good).first(Size), out));

    EXPECT_FALSE(Message::read(std::span(good).first(Size - 1), out)) << "one short";
    EXPECT_FALSE(Message::read(std::span(good), out)) << "one long";
    EXPECT_FALSE(Message::read(std::span<const std::uint8_t>(), out)) << "empty";

    for (std::uint8_t t : {0, 1, 2, 3, 4, 5, 0xff}) {
        if (t == type) continue;
        auto bad = good;
        bad[0] = t;
        EXPECT_FALSE(Message::read(std::span(bad).first(Size), out)) << "type " << int(t);
    }
    for (std::size_t i = 1; i < 4; ++i) {
        auto bad = good;
        bad[i] = 0x01;
        EXPECT_FALSE(Message::read(std::span(bad).first(Size), out)) << "reserved byte " << i;
    }
}

TEST(Messages, InitiationReadRejectsMalformed) {
    expect_read_rejects_malformed<Initiation, kInitiationSize>(sample_initiation(), 1);
}

TEST(Messages, ResponseReadRejectsMalformed) {
    expect_read_rejects_malformed<Response, kResponseSize>(sample_response(), 2);
}

TEST(Messages, CookieReplyReadRejectsMalformed) {
    expect_read_rejects_malformed<CookieReply, kCookieReplySize>(sample_cookie_reply(), 3);
}

// Other messages' sizes are not accepted even with the right type byte.
TEST(Messages, ReadRejectsOtherMessageSizes) {
    std::vector<std::uint8_t> buf(kInitiationSize, 0);
    for (std::size_t size : {kResponseSize, kCookieReplySize, kTransportOverhead}) {
        buf[0] = 1;
        Initiation i;
        EXPECT_FALSE(Initiation::read(std::span(buf).first(size), i)) << size;
    }
    buf[0] = 2;
    Response r;
    EXPECT_FALSE(Response::read(std::span(buf).first(kInitiationSize), r));
    EXPECT_FALSE(Response::read(std::span(buf).first(kCookieReplySize), r));
    buf[0] = 3;
    CookieReply c;
    EXPECT_FALSE(CookieReply::read(std::span(buf).first(kResponseSize), c));
}

TEST(Messages, LittleEndianHelpers) {
    std::uint8_t b[8] = {};
    store_le32(b, 0x12345678);
    EXPECT_EQ(b[0], 0x78);
    EXPECT_EQ(b[1], 0x56);
    EXPECT_EQ(b[2], 0x34);
    EXPECT_EQ(b[3], 0x12);
    EXPECT_EQ(load_le32(b), 0x12345678u);

    store_le64(b, 0x0102030405060708ULL);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(b[i], 8 - i) << i;
    EXPECT_EQ(load_le64(b), 0x0102030405060708ULL);

    // High bits must not be sign-extended anywhere.
    store_le64(b, 0xfffefdfcfbfaf9f8ULL);
    EXPECT_EQ(load_le64(b), 0xfffefdfcfbfaf9f8ULL);
    EXPECT_EQ(load_le32(b + 4), 0xfffefdfcu);
    store_le32(b, 0x80000000u);
    EXPECT_EQ(load_le32(b), 0x80000000u);
}

TEST(Messages, MessageTypeOf) {
    const std::uint8_t four[] = {4, 0, 0, 0};
    EXPECT_EQ(message_type_of(four), 4u);
    const std::uint8_t reserved[] = {1, 0, 0, 1, 9};
    EXPECT_EQ(message_type_of(reserved), 0x01000001u);  // not any message type
    const std::uint8_t shorter[] = {1, 0, 0};
    EXPECT_EQ(message_type_of(shorter), 0u);
    EXPECT_EQ(message_type_of(std::span<const std::uint8_t>()), 0u);
}

}  // namespace
}  // namespace wgate::noise
