// Keypair construction and the previous / current / next slot rotation of a
// peer's sessions, including which keypairs fall out (their indices are then
// released by the caller).
#include "wgate/noise/keypair.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace wgate::noise {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Keypair> make(bool initiator, std::uint32_t index) {
    SessionKeys keys;
    keys.send = crypto::SymmetricKey(crypto::Bytes<32>{static_cast<std::uint8_t>(index), 1});
    keys.receive = crypto::SymmetricKey(crypto::Bytes<32>{static_cast<std::uint8_t>(index), 2});
    keys.initiator = initiator;
    keys.local_index = index;
    keys.remote_index = index + 1000;
    return std::make_unique<Keypair>(std::move(keys), 1s);
}

// install() with raw pointers kept for identity checks.
struct Installed {
    Keypair* kp;
    std::unique_ptr<Keypair> dropped[2];
};

Installed install(Keypairs& slots, std::unique_ptr<Keypair> kp) {
    Installed r{kp.get(), {}};
    slots.install(std::move(kp), r.dropped);
    return r;
}

TEST(Keypair, TakesKeysFromSession) {
    SessionKeys keys;
    keys.send = crypto::SymmetricKey(crypto::Bytes<32>{7});
    keys.receive = crypto::SymmetricKey(crypto::Bytes<32>{8});
    keys.initiator = true;
    keys.local_index = 5;
    keys.remote_index = 6;
    const Keypair kp(std::move(keys), 3s);
    EXPECT_EQ(kp.send_key.bytes()[0], 7);
    EXPECT_EQ(kp.receive_key.bytes()[0], 8);
    EXPECT_TRUE(kp.initiator);
    EXPECT_EQ(kp.local_index, 5u);
    EXPECT_EQ(kp.remote_index, 6u);
    EXPECT_EQ(kp.created, 3s);
    EXPECT_EQ(kp.send_counter, 0u);
    // The source copy of the keys is wiped.
    EXPECT_TRUE(keys.send.is_zero());
    EXPECT_TRUE(keys.receive.is_zero());
}

TEST(Keypairs, InitiatorInstallShiftsCurrentToPrevious) {
    Keypairs slots;
    auto k1 = install(slots, make(true, 1));
    EXPECT_EQ(slots.current(), k1.kp);
    EXPECT_EQ(slots.previous(), nullptr);
    EXPECT_EQ(slots.next(), nullptr);
    EXPECT_EQ(k1.dropped[0], nullptr);
    EXPECT_EQ(k1.dropped[1], nullptr);

    auto k2 = install(slots, make(true, 2));
    EXPECT_EQ(slots.current(), k2.kp);
    EXPECT_EQ(slots.previous(), k1.kp);
    EXPECT_EQ(slots.next(), nullptr);
    EXPECT_EQ(k2.dropped[0], nullptr);
    EXPECT_EQ(k2.dropped[1], nullptr);

    auto k3 = install(slots, make(true, 3));
    EXPECT_EQ(slots.current(), k3.kp);
    EXPECT_EQ(slots.previous(), k2.kp);
    EXPECT_EQ(k3.dropped[0].get(), k1.kp);  // the old previous falls out
    EXPECT_EQ(k3.dropped[1], nullptr);
}

TEST(Keypairs, ResponderInstallGoesToNextAndKeepsCurrent) {
    Keypairs slots;
    auto k1 = install(slots, make(true, 1));
    auto k2 = install(slots, make(true, 2));  // previous k1, current k2

    auto r1 = install(slots, make(false, 11));
    EXPECT_EQ(slots.next(), r1.kp);
    EXPECT_EQ(slots.current(), k2.kp);
    EXPECT_EQ(slots.previous(), nullptr);  // at most three: previous goes
    EXPECT_EQ(r1.dropped[0], nullptr);     // no old next
    EXPECT_EQ(r1.dropped[1].get(), k1.kp);

    // A second responder session replaces the unconfirmed one.
    auto r2 = install(slots, make(false, 12));
    EXPECT_EQ(slots.next(), r2.kp);
    EXPECT_EQ(slots.current(), k2.kp);
    EXPECT_EQ(slots.previous(), nullptr);
    EXPECT_EQ(r2.dropped[0].get(), r1.kp);
    EXPECT_EQ(r2.dropped[1], nullptr);
}

TEST(Keypairs, ResponderInstallOnEmptySlots) {
    Keypairs slots;
    auto r1 = install(slots, make(false, 11));
    EXPECT_EQ(slots.next(), r1.kp);
    EXPECT_EQ(slots.current(), nullptr);
    EXPECT_EQ(slots.previous(), nullptr);
    EXPECT_EQ(r1.dropped[0], nullptr);
    EXPECT_EQ(r1.dropped[1], nullptr);
}

TEST(Keypairs, ReceivedWithNextPromotesIt) {
    Keypairs slots;
    auto k1 = install(slots, make(true, 1));
    auto r1 = install(slots, make(false, 11));
    ASSERT_EQ(slots.current(), k1.kp);
    ASSERT_EQ(slots.next(), r1.kp);

    // Data on current or previous, or on nothing, changes nothing.
    auto sentinel = make(true, 99);
    Keypair* const sentinel_ptr = sentinel.get();
    std::unique_ptr<Keypair> dropped = std::move(sentinel);
    EXPECT_FALSE(slots.received_with(k1.kp, dropped));
    EXPECT_FALSE(slots.received_with(nullptr, dropped));
    EXPECT_EQ(dropped.get(), sentinel_ptr);  // untouched when nothing happened
    EXPECT_EQ(slots.current(), k1.kp);
    EXPECT_EQ(slots.next(), r1.kp);

    EXPECT_TRUE(slots.received_with(r1.kp, dropped));
    EXPECT_EQ(slots.current(), r1.kp);
    EXPECT_EQ(slots.previous(), k1.kp);
    EXPECT_EQ(slots.next(), nullptr);
    EXPECT_EQ(dropped, nullptr);  // the old previous, empty here

    // Once promoted, further data on it is just data on current.
    EXPECT_FALSE(slots.received_with(r1.kp, dropped));
    EXPECT_EQ(slots.current(), r1.kp);
}

TEST(Keypairs, InitiatorInstallWithPendingNext) {
    // Crossing handshakes: we responded (next) and then our own initiation
    // completed. Our new session becomes current; the unconfirmed next becomes
    // previous so packets the peer sends on it still decrypt; the old current
    // and previous fall out.
    Keypairs slots;
    auto k1 = install(slots, make(true, 1));
    auto r1 = install(slots, make(false, 11));
    ASSERT_EQ(slots.previous(), nullptr);

    auto k2 = install(slots, make(true, 2));
    EXPECT_EQ(slots.current(), k2.kp);
    EXPECT_EQ(slots.previous(), r1.kp);
    EXPECT_EQ(slots.next(), nullptr);
    EXPECT_EQ(k2.dropped[0], nullptr);  // old previous (none)
    EXPECT_EQ(k2.dropped[1].get(), k1.kp);

    // The demoted responder session is no longer promotable.
    std::unique_ptr<Keypair> dropped;
    EXPECT_FALSE(slots.received_with(r1.kp, dropped));
    EXPECT_EQ(slots.current(), k2.kp);
}

TEST(Keypairs, ExpireCurrentForSendingAndClear) {
    Keypairs slots;
    slots.expire_current_for_sending();  // no current: harmless
    auto k1 = install(slots, make(true, 1));
    auto k2 = install(slots, make(true, 2));
    auto r1 = install(slots, make(false, 11));
    ASSERT_TRUE(slots.current()->can_send(2s));
    slots.expire_current_for_sending();
    EXPECT_FALSE(slots.current()->can_send(2s));
    EXPECT_EQ(slots.current(), k2.kp);  // still there for receiving

    std::unique_ptr<Keypair> dropped[3];
    slots.clear(dropped);
    EXPECT_EQ(dropped[0], nullptr);  // previous went when r1 was installed
    EXPECT_EQ(dropped[1].get(), k2.kp);
    EXPECT_EQ(dropped[2].get(), r1.kp);
    EXPECT_EQ(slots.previous(), nullptr);
    EXPECT_EQ(slots.current(), nullptr);
    EXPECT_EQ(slots.next(), nullptr);
    (void)k1;
}

}  // namespace
}  // namespace wgate::noise
