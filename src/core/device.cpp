#include "wgate/core/device.hpp"

#include <algorithm>
#include <cstring>

#include "wgate/core/inner_packet.hpp"
#include "wgate/crypto/tai64n.hpp"
#include "wgate/noise/messages.hpp"
#include "wgate/noise/transport.hpp"

namespace wgate::core {

using noise::kTransportOverhead;
using noise::MessageType;

namespace {

constexpr Duration kUnderLoadLinger = std::chrono::seconds(1);

bool is_handshake_type(std::uint32_t type) {
    return type == static_cast<std::uint32_t>(MessageType::initiation) ||
           type == static_cast<std::uint32_t>(MessageType::response);
}

}  // namespace

std::uint64_t DeviceCounters::total_dropped() const {
    std::uint64_t total = 0;
    for (auto n : dropped) total += n;
    return total;
}

std::size_t Device::KeyHash::operator()(const crypto::PublicKey& k) const noexcept {
    // Public keys are uniformly random, and only the operator inserts them.
    std::size_t h;
    std::memcpy(&h, k.data(), sizeof h);
    return h;
}

Device::Device(crypto::Random& random, DeviceConfig config) : random_(random), config_(config) {}

Device::~Device() { remove_all_peers(); }

// ---------------------------------------------------------------- configuration

void Device::set_private_key(const crypto::PrivateKey& key) {
    noise::LocalIdentity next;
    next.set(key);
    // Setting the same key again (wg syncconf does) must not disturb sessions.
    if (identity_.has_key && identity_.private_key == next.private_key) return;
    if (!next.has_key) {
        clear_private_key();
        return;
    }
    remove_peer(next.public_key);
    identity_ = next;
    cookie_checker_.set_local_public_key(&identity_.public_key);
    for (Peer* peer = first_in_order_; peer; peer = peer->next_in_order_) {
        peer->handshake_.configure(identity_, peer->public_key_);
        // Sessions made with the old key must not be extended; the next
        // packet starts a handshake under the new one.
        release_handshake_index(*peer);
        peer->handshake_.clear();
        peer->last_sent_handshake_.reset();
        peer->keypairs_.expire_current_for_sending();
    }
}

void Device::clear_private_key() {
    identity_.clear();
    cookie_checker_.set_local_public_key(nullptr);
    for (Peer* peer = first_in_order_; peer; peer = peer->next_in_order_) {
        peer->handshake_.configure(identity_, peer->public_key_);
        release_handshake_index(*peer);
        peer->handshake_.clear();
        peer->last_sent_handshake_.reset();
        peer->keypairs_.expire_current_for_sending();
    }
}

Peer* Device::add_peer(const crypto::PublicKey& public_key) {
    if (identity_.has_key && identity_.public_key == public_key) return nullptr;
    if (Peer* existing = find_peer(public_key)) return existing;
    auto peer = std::make_unique<Peer>(public_key, next_serial_++);
    peer->handshake_.configure(identity_, public_key);
    Peer* raw = peer.get();
    peers_.insert(std::move(peer));
    raw->prev_in_order_ = last_in_order_;
    (last_in_order_ ? last_in_order_->next_in_order_ : first_in_order_) = raw;
    last_in_order_ = raw;
    return raw;
}

Peer* Device::find_peer(const crypto::PublicKey& public_key) {
    const auto it = peers_.find(public_key);
    return it == peers_.end() ? nullptr : it->get();
}

const Peer* Device::find_peer(const crypto::PublicKey& public_key) const {
    const auto it = peers_.find(public_key);
    return it == peers_.end() ? nullptr : it->get();
}

void Device::remove_peer(const crypto::PublicKey& public_key) {
    const auto it = peers_.find(public_key);
    if (it == peers_.end()) return;
    Peer& peer = **it;
    clear_sessions(peer);
    allowed_ips_.remove_by_peer(&peer);
    peer.timers_.cancel_all();
    reschedule(peer);
    std::erase(dirty_, &peer);
    (peer.prev_in_order_ ? peer.prev_in_order_->next_in_order_ : first_in_order_) = peer.next_in_order_;
    (peer.next_in_order_ ? peer.next_in_order_->prev_in_order_ : last_in_order_) = peer.prev_in_order_;
    peers_.erase(it);
}

void Device::remove_all_peers() {
    while (first_in_order_) remove_peer(first_in_order_->public_key_);
}

std::vector<Peer*> Device::peers() {
    std::vector<Peer*> list;
    list.reserve(peers_.size());
    for (Peer* peer = first_in_order_; peer; peer = peer->next_in_order_) list.push_back(peer);
    return list;
}

std::vector<const Peer*> Device::peers() const {
    std::vector<const Peer*> list;
    list.reserve(peers_.size());
    for (const Peer* peer = first_in_order_; peer; peer = peer->next_in_order_) list.push_back(peer);
    return list;
}

void Device::set_preshared_key(Peer& peer, const crypto::PresharedKey& psk) { peer.handshake_.set_preshared_key(psk); }

void Device::set_endpoint(Peer& peer, const Endpoint& endpoint) { peer.endpoint_ = endpoint; }

void Device::forget_local_address(const IpAddress& address) {
    for (Peer* peer = first_in_order_; peer; peer = peer->next_in_order_)
        if (peer->endpoint_ && peer->endpoint_->local == address) peer->endpoint_->clear_local();
}

void Device::set_persistent_keepalive(Peer& peer, std::uint16_t seconds, Now now, Outputs& out) {
    const bool turned_on = peer.persistent_keepalive_ == 0 && seconds != 0;
    peer.persistent_keepalive_ = seconds;
    if (seconds == 0) {
        peer.timers_.cancel(Timer::persistent_keepalive);
        reschedule(peer);
    }
    if (turned_on && up_) send_keepalive(peer, now, out);
}

void Device::add_allowed_ip(Peer& peer, const IpPrefix& prefix) { allowed_ips_.insert(prefix, &peer); }

bool Device::remove_allowed_ip(Peer& peer, const IpPrefix& prefix) { return allowed_ips_.remove(prefix, &peer); }

void Device::clear_allowed_ips(Peer& peer) { allowed_ips_.remove_by_peer(&peer); }

std::vector<IpPrefix> Device::allowed_ips_of(const Peer& peer) const { return allowed_ips_.prefixes_of(&peer); }

void Device::set_up(bool up, Now now, Outputs& out) {
    if (up == up_) return;
    up_ = up;
    for (Peer* peer = first_in_order_; peer; peer = peer->next_in_order_) {
        if (!up) {
            peer->staged_.clear();
            peer->timers_.cancel_all();
            peer->timers_.handshake_attempts = 0;
            reschedule(*peer);
            clear_sessions(*peer);
            peer->last_sent_handshake_.reset();
        } else {
            send_staged(*peer, now, out);
            if (peer->persistent_keepalive_) send_keepalive(*peer, now, out);
        }
    }
}

bool Device::under_load(Duration now) const {
    return last_under_load_ && now - *last_under_load_ < kUnderLoadLinger;
}

// ---------------------------------------------------------------- events

void Device::reject(Reason reason, Peer* peer, const Endpoint& from, Outputs& out) {
    ++counters_.dropped[static_cast<std::size_t>(reason)];
    Event e;
    e.kind = EventKind::rejected;
    e.reason = reason;
    e.endpoint = from;
    if (peer) {
        peer->last_rejection_ = reason;
        e.peer = peer->public_key_;
    }
    out.events.push_back(e);
}

void Device::record(Outputs& out, EventKind kind, const Peer& peer, const Endpoint& endpoint, int attempt) {
    Event e;
    e.kind = kind;
    e.peer = peer.public_key_;
    e.endpoint = endpoint;
    e.attempt = attempt;
    out.events.push_back(e);
}

// ---------------------------------------------------------------- receive path

void Device::on_datagram(const ReceivedDatagram& datagram, Now now, Outputs& out) {
    on_datagrams({&datagram, 1}, now, out);
}

void Device::on_datagrams(std::span<const ReceivedDatagram> datagrams, Now now, Outputs& out) {
    std::size_t handshakes = handshake_backlog_;
    for (const auto& d : datagrams)
        if (is_handshake_type(noise::message_type_of(d.bytes))) ++handshakes;
    if (handshakes >= config_.under_load_threshold) last_under_load_ = now.mono;
    const bool loaded = under_load(now.mono);

    for (const auto& d : datagrams) handle_datagram(d, now, out, loaded);
    for (Peer* peer : dirty_) send_staged(*peer, now, out);
    dirty_.clear();
}

void Device::handle_datagram(const ReceivedDatagram& d, Now now, Outputs& out, bool loaded) {
    const std::uint32_t type = noise::message_type_of(d.bytes);
    const std::size_t size = d.bytes.size();
    switch (type) {
        case static_cast<std::uint32_t>(MessageType::initiation):
            if (size != noise::kInitiationSize) return reject(Reason::bad_length, nullptr, d.from, out);
            if (!admit_handshake(d, noise::load_le32(d.bytes.data() + 4), now, out, loaded)) return;
            return handle_initiation(d, now, out);
        case static_cast<std::uint32_t>(MessageType::response):
            if (size != noise::kResponseSize) return reject(Reason::bad_length, nullptr, d.from, out);
            if (!admit_handshake(d, noise::load_le32(d.bytes.data() + 4), now, out, loaded)) return;
            return handle_response(d, now, out);
        case static_cast<std::uint32_t>(MessageType::cookie_reply):
            if (size != noise::kCookieReplySize) return reject(Reason::bad_length, nullptr, d.from, out);
            return handle_cookie_reply(d, now, out);
        case static_cast<std::uint32_t>(MessageType::transport):
            if (size < kTransportOverhead) return reject(Reason::bad_length, nullptr, d.from, out);
            return handle_data(d, now, out);
        default:
            return reject(size < 4 ? Reason::bad_length : Reason::bad_type, nullptr, d.from, out);
    }
}

// mac1 always; under load also mac2 (else a cookie reply) and the per-source rate limit.
bool Device::admit_handshake(const ReceivedDatagram& d, std::uint32_t sender, Now now, Outputs& out, bool loaded) {
    if (!identity_.has_key) {
        reject(Reason::no_private_key, nullptr, d.from, out);
        return false;
    }
    std::uint8_t source[18];
    const std::size_t source_size = d.from.source_bytes(source);
    const auto mac = cookie_checker_.check(d.bytes, {source, source_size}, now.mono, random_);
    if (mac == noise::MacCheck::invalid_mac1) {
        reject(Reason::bad_mac1, nullptr, d.from, out);
        return false;
    }
    if (!loaded) return true;
    if (mac != noise::MacCheck::valid_mac1_and_mac2) {
        noise::CookieReply reply;
        cookie_checker_.make_reply(d.bytes, sender, {source, source_size}, now.mono, random_, reply);
        Datagram& dg = out.to_network.push();
        dg.endpoint = d.from;
        dg.bytes.resize(noise::kCookieReplySize);
        reply.write(dg.bytes.data());
        ++counters_.cookie_replies_sent;
        Event e;
        e.kind = EventKind::cookie_sent;
        e.endpoint = d.from;
        out.events.push_back(e);
        return false;
    }
    if (!rate_limiter_.allow(d.from.address, now.mono)) {
        reject(Reason::rate_limited, nullptr, d.from, out);
        return false;
    }
    return true;
}

void Device::handle_initiation(const ReceivedDatagram& d, Now now, Outputs& out) {
    noise::Initiation msg;
    noise::Initiation::read(d.bytes, msg);
    noise::OpenedInitiation opened;
    const auto opened_result = noise::open_initiation(identity_, msg, opened);
    if (opened_result != noise::HandshakeError::none) return reject(Reason::bad_handshake, nullptr, d.from, out);
    Peer* peer = find_peer(opened.initiator_static);
    if (!peer) {
        Event e;
        e.kind = EventKind::rejected;
        e.reason = Reason::unknown_peer;
        e.peer = opened.initiator_static;
        e.endpoint = d.from;
        ++counters_.dropped[static_cast<std::size_t>(Reason::unknown_peer)];
        out.events.push_back(e);
        return;
    }
    switch (peer->handshake_.consume_initiation(identity_, opened, msg, now.mono)) {
        case noise::HandshakeError::none: break;
        case noise::HandshakeError::replayed_timestamp: return reject(Reason::replayed_timestamp, peer, d.from, out);
        case noise::HandshakeError::flood: return reject(Reason::handshake_flood, peer, d.from, out);
        default: return reject(Reason::bad_handshake, peer, d.from, out);
    }
    // The handshake's old index (of an initiation of ours) is no longer valid.
    release_handshake_index(*peer);
    record(out, EventKind::initiation_received, *peer, d.from);
    update_endpoint(*peer, d.from, out);
    peer->rx_bytes_ += d.bytes.size();
    timers_any_authenticated_packet_received(*peer);
    timers_any_authenticated_packet_traversal(*peer, now);
    send_response(*peer, now, out);
    reschedule(*peer);
}

void Device::handle_response(const ReceivedDatagram& d, Now now, Outputs& out) {
    noise::Response msg;
    noise::Response::read(d.bytes, msg);
    const IndexEntry* entry = index_.find(msg.receiver);
    if (!entry || entry->keypair) return reject(Reason::unknown_index, nullptr, d.from, out);
    Peer& peer = *entry->peer;
    switch (peer.handshake_.consume_response(identity_, msg)) {
        case noise::HandshakeError::none: break;
        case noise::HandshakeError::wrong_state: return reject(Reason::wrong_state, &peer, d.from, out);
        default: return reject(Reason::bad_handshake, &peer, d.from, out);
    }
    record(out, EventKind::response_received, peer, d.from);
    update_endpoint(peer, d.from, out);
    peer.rx_bytes_ += d.bytes.size();
    if (begin_session(peer, now)) {
        timers_session_derived(peer, now);
        timers_handshake_complete(peer, now);
        record(out, EventKind::handshake_completed, peer, d.from);
        // Confirms the session to the responder, which may not send before.
        send_keepalive(peer, now, out);
    }
    timers_any_authenticated_packet_received(peer);
    timers_any_authenticated_packet_traversal(peer, now);
    reschedule(peer);
}

void Device::handle_cookie_reply(const ReceivedDatagram& d, Now now, Outputs& out) {
    noise::CookieReply reply;
    noise::CookieReply::read(d.bytes, reply);
    const IndexEntry* entry = index_.find(reply.receiver);
    if (!entry) return reject(Reason::unknown_index, nullptr, d.from, out);
    Peer& peer = *entry->peer;
    if (!peer.cookies_.consume_reply(peer.public_key_, reply, now.mono)) return reject(Reason::bad_cookie, &peer, d.from, out);
    record(out, EventKind::cookie_received, peer, d.from);
}

void Device::handle_data(const ReceivedDatagram& d, Now now, Outputs& out) {
    const IndexEntry* entry = index_.find(noise::transport_receiver(d.bytes));
    if (!entry || !entry->keypair) return reject(Reason::unknown_index, nullptr, d.from, out);
    Peer& peer = *entry->peer;
    noise::Keypair& kp = *entry->keypair;
    if (kp.expired(now.mono)) return reject(Reason::expired_keypair, &peer, d.from, out);

    TunPacket& packet = out.to_tun.push();
    packet.bytes.resize(d.bytes.size() - kTransportOverhead);
    if (!noise::open_transport(kp, d.bytes, packet.bytes.data())) {
        out.to_tun.pop();
        return reject(Reason::decrypt_failed, &peer, d.from, out);
    }
    if (!kp.replay.accept(noise::transport_counter(d.bytes))) {
        out.to_tun.pop();
        return reject(Reason::replay, &peer, d.from, out);
    }

    update_endpoint(peer, d.from, out);
    peer.rx_bytes_ += d.bytes.size();
    std::unique_ptr<noise::Keypair> dropped;
    if (peer.keypairs_.received_with(&kp, dropped)) {
        release(dropped);
        timers_handshake_complete(peer, now);
        record(out, EventKind::handshake_completed, peer, d.from);
        dirty_.push_back(&peer);  // flush what waited for this session, after this batch
    }
    keep_key_fresh_receiving(peer, now, out);
    timers_any_authenticated_packet_received(peer);
    timers_any_authenticated_packet_traversal(peer, now);

    if (packet.bytes.empty()) {
        out.to_tun.pop();
        ++counters_.keepalives_received;
        reschedule(peer);
        return;
    }
    timers_data_received(peer, now);
    reschedule(peer);

    const auto header = parse_inner_header(packet.bytes);
    if (!header) {
        out.to_tun.pop();
        return reject(Reason::bad_inner_packet, &peer, d.from, out);
    }
    if (allowed_ips_.lookup(header->source) != &peer) {
        out.to_tun.pop();
        return reject(Reason::disallowed_source, &peer, d.from, out);
    }
    packet.bytes.resize(header->length);
}

void Device::update_endpoint(Peer& peer, const Endpoint& from, Outputs& out) {
    const bool roamed = !peer.endpoint_ || !peer.endpoint_->same_remote(from);
    peer.endpoint_ = from;
    if (roamed) record(out, EventKind::endpoint_changed, peer, from);
}

// ---------------------------------------------------------------- send path

void Device::on_tun_packet(std::span<const std::uint8_t> packet, Now now, Outputs& out) {
    on_tun_packets({&packet, 1}, now, out);
}

void Device::on_tun_packets(std::span<const std::span<const std::uint8_t>> packets, Now now, Outputs& out) {
    for (const auto& packet : packets) {
        const auto header = parse_inner_header(packet);
        if (!header) {
            reject(Reason::bad_tun_packet, nullptr, {}, out);
            continue;
        }
        Peer* peer = allowed_ips_.lookup(header->destination);
        if (!peer) {
            reject(Reason::no_route, nullptr, {}, out);
            continue;
        }
        if (!peer->endpoint_) {
            reject(Reason::no_endpoint, peer, {}, out);
            continue;
        }
        const auto plain = packet.first(header->length);
        // The common case: a live session and nothing queued ahead of this
        // packet. Encrypt straight into the outgoing datagram, no copy.
        if (peer->staged_.empty() && send_now(*peer, plain, now, out))
            mark_dirty(*peer);
        else
            stage(*peer, plain, out);
    }
    for (Peer* peer : dirty_) send_staged(*peer, now, out);
    dirty_.clear();
}

void Device::stage(Peer& peer, std::span<const std::uint8_t> packet, Outputs& out) {
    if (peer.staged_.size() >= config_.max_staged_packets) {
        peer.staged_.pop_front();
        reject(Reason::staged_overflow, &peer, {}, out);
    }
    peer.staged_.push_back(packet);
    mark_dirty(peer);
}

void Device::mark_dirty(Peer& peer) {
    if (std::find(dirty_.begin(), dirty_.end(), &peer) == dirty_.end()) dirty_.push_back(&peer);
}

bool Device::send_now(Peer& peer, std::span<const std::uint8_t> plain, Now now, Outputs& out) {
    noise::Keypair* kp = peer.keypairs_.current();
    if (!up_ || !kp || !kp->can_send(now.mono) || !peer.endpoint_) return false;
    Datagram& dg = out.to_network.push();
    dg.endpoint = *peer.endpoint_;
    dg.bytes.resize(kTransportOverhead + noise::padded_size(plain.size(), config_.mtu));
    dg.bytes.resize(noise::seal_transport(*kp, plain, config_.mtu, dg.bytes.data()));
    peer.tx_bytes_ += dg.bytes.size();
    timers_any_authenticated_packet_traversal(peer, now);
    timers_any_authenticated_packet_sent(peer);
    if (!plain.empty()) timers_data_sent(peer, now);
    return true;
}

void Device::send_staged(Peer& peer, Now now, Outputs& out) {
    if (!up_) return;
    if (!peer.staged_.empty()) {
        noise::Keypair* kp = peer.keypairs_.current();
        if (!kp || !kp->can_send(now.mono)) {
            send_initiation(peer, false, now, out);
            reschedule(peer);
            return;
        }
        if (!peer.endpoint_) {
            reject(Reason::no_endpoint, &peer, {}, out);
            peer.staged_.clear();
            return;
        }
        while (!peer.staged_.empty() && send_now(peer, peer.staged_.front(), now, out)) peer.staged_.pop_front();
        // Ran out of messages on this session mid-queue: the rest waits for a new one.
        if (!peer.staged_.empty()) send_initiation(peer, false, now, out);
    }
    keep_key_fresh_sending(peer, now, out);
    reschedule(peer);
}

void Device::send_keepalive(Peer& peer, Now now, Outputs& out) {
    if (peer.staged_.empty()) peer.staged_.push_back({});
    send_staged(peer, now, out);
}

void Device::emit(Peer& peer, std::span<const std::uint8_t> bytes, Outputs& out) {
    if (!peer.endpoint_) return;
    Datagram& dg = out.to_network.push();
    dg.endpoint = *peer.endpoint_;
    dg.bytes.assign(bytes.begin(), bytes.end());
    peer.tx_bytes_ += bytes.size();
}

void Device::send_initiation(Peer& peer, bool is_retry, Now now, Outputs& out) {
    if (!is_retry) peer.timers_.handshake_attempts = 0;
    // One initiation per REKEY_TIMEOUT, however much traffic asks for one.
    if (peer.last_sent_handshake_ && now.mono - *peer.last_sent_handshake_ < noise::kRekeyTimeout) return;
    if (!up_) return;
    peer.last_sent_handshake_ = now.mono;

    release_handshake_index(peer);
    const std::uint32_t index = index_.allocate({&peer, nullptr}, random_);
    noise::Initiation msg;
    if (peer.handshake_.create_initiation(identity_, index, crypto::tai64n(now.wall), random_, msg) !=
        noise::HandshakeError::none) {
        index_.release(index);
        return;
    }
    peer.handshake_index_ = index;
    std::uint8_t bytes[noise::kInitiationSize];
    msg.write(bytes);
    peer.cookies_.add_macs(peer.public_key_, bytes, sizeof bytes, now.mono);
    emit(peer, bytes, out);
    record(out, EventKind::initiation_sent, peer, peer.endpoint_.value_or(Endpoint{}),
           peer.timers_.handshake_attempts + 1);
    timers_any_authenticated_packet_traversal(peer, now);
    timers_any_authenticated_packet_sent(peer);
    timers_handshake_initiated(peer, now);
}

void Device::send_response(Peer& peer, Now now, Outputs& out) {
    peer.last_sent_handshake_ = now.mono;
    const std::uint32_t index = index_.allocate({&peer, nullptr}, random_);
    noise::Response msg;
    if (peer.handshake_.create_response(index, random_, msg) != noise::HandshakeError::none) {
        index_.release(index);
        return;
    }
    peer.handshake_index_ = index;
    std::uint8_t bytes[noise::kResponseSize];
    msg.write(bytes);
    peer.cookies_.add_macs(peer.public_key_, bytes, sizeof bytes, now.mono);
    if (!begin_session(peer, now)) return;
    timers_session_derived(peer, now);
    timers_any_authenticated_packet_traversal(peer, now);
    timers_any_authenticated_packet_sent(peer);
    emit(peer, bytes, out);
    record(out, EventKind::response_sent, peer, peer.endpoint_.value_or(Endpoint{}));
}

void Device::keep_key_fresh_sending(Peer& peer, Now now, Outputs& out) {
    const noise::Keypair* kp = peer.keypairs_.current();
    if (kp && kp->initiator &&
        (kp->send_counter > noise::kRekeyAfterMessages || now.mono - kp->created >= noise::kRekeyAfterTime))
        send_initiation(peer, false, now, out);
}

void Device::keep_key_fresh_receiving(Peer& peer, Now now, Outputs& out) {
    const noise::Keypair* kp = peer.keypairs_.current();
    if (kp && kp->initiator && !peer.timers_.sent_lastminute_handshake &&
        now.mono - kp->created >= noise::kRejectAfterTime - noise::kKeepaliveTimeout - noise::kRekeyTimeout) {
        peer.timers_.sent_lastminute_handshake = true;
        send_initiation(peer, false, now, out);
    }
}

// ---------------------------------------------------------------- sessions

bool Device::begin_session(Peer& peer, Now now) {
    auto keys = peer.handshake_.begin_session();
    if (!keys) return false;
    auto kp = std::make_unique<noise::Keypair>(std::move(*keys), now.mono);
    // The handshake's index now names the session.
    index_.rebind(kp->local_index, {&peer, kp.get()});
    peer.handshake_index_.reset();
    std::unique_ptr<noise::Keypair> dropped[2];
    peer.keypairs_.install(std::move(kp), dropped);
    for (auto& d : dropped) release(d);
    ++counters_.handshakes_completed;
    return true;
}

void Device::release_handshake_index(Peer& peer) {
    if (peer.handshake_index_) index_.release(*peer.handshake_index_);
    peer.handshake_index_.reset();
}

void Device::release(std::unique_ptr<noise::Keypair>& kp) {
    if (!kp) return;
    index_.release(kp->local_index);
    kp.reset();
}

void Device::clear_sessions(Peer& peer) {
    std::unique_ptr<noise::Keypair> dropped[3];
    peer.keypairs_.clear(dropped);
    for (auto& d : dropped) release(d);
    release_handshake_index(peer);
    peer.handshake_.clear();
}

}  // namespace wgate::core
