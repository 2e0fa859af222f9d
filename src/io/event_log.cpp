#include "wgate/io/event_log.hpp"

#include <spdlog/spdlog.h>

#include "wgate/crypto/base64.hpp"

namespace wgate::io {
namespace {

constexpr core::Duration kWindow = std::chrono::seconds(1);
constexpr int kOthersPerSecond = 200;

// True if this line may be logged; counts the suppressed ones.
bool admit(core::Duration now, int limit, auto& w, spdlog::logger& logger, const char* what) {
    if (now - w.start >= kWindow) {
        if (w.suppressed)
            logger.debug("{} more '{}' messages suppressed in the last second", w.suppressed, what);
        w.start = now;
        w.logged = 0;
        w.suppressed = 0;
    }
    if (w.logged >= limit) {
        ++w.suppressed;
        return false;
    }
    ++w.logged;
    return true;
}

}  // namespace

std::string short_key(const crypto::PublicKey& key) {
    const std::string b64 = crypto::key_to_base64(key);
    return "peer(" + b64.substr(0, 4) + "\u2026" + b64.substr(39, 4) + ")";
}

void EventLog::log(const core::Event& e, core::Duration now) {
    if (!logger_.should_log(spdlog::level::debug)) return;
    const std::string who = e.peer ? short_key(*e.peer) : std::string("interface");
    const std::string where = e.endpoint.empty() ? std::string() : e.endpoint.to_string();
    using core::EventKind;
    if (e.kind == EventKind::rejected) {
        auto& w = rejections_[static_cast<std::size_t>(e.reason)];
        if (!admit(now, kRejectionsPerSecond, w, logger_, core::to_string(e.reason))) return;
        if (where.empty())
            logger_.debug("{} - Dropped packet: {}", who, core::to_string(e.reason));
        else
            logger_.debug("{} - Dropped packet from {}: {}", who, where, core::to_string(e.reason));
        return;
    }
    if (!admit(now, kOthersPerSecond, others_, logger_, "event")) return;
    switch (e.kind) {
        case EventKind::initiation_sent:
            if (e.attempt <= 1)
                logger_.debug("{} - Sending handshake initiation to {}", who, where.empty() ? "(no endpoint)" : where);
            else
                logger_.debug("{} - Handshake did not complete after 5 seconds, retrying (try {})", who, e.attempt);
            break;
        case EventKind::initiation_received: logger_.debug("{} - Received handshake initiation from {}", who, where); break;
        case EventKind::response_sent: logger_.debug("{} - Sending handshake response to {}", who, where); break;
        case EventKind::response_received: logger_.debug("{} - Received handshake response from {}", who, where); break;
        case EventKind::handshake_completed: logger_.debug("{} - Handshake completed, session established", who); break;
        case EventKind::handshake_gave_up:
            logger_.debug("{} - Handshake did not complete after {} attempts, giving up", who, e.attempt - 1);
            break;
        case EventKind::cookie_sent: logger_.debug("Under load: sent cookie reply to {}", where); break;
        case EventKind::cookie_received: logger_.debug("{} - Received cookie reply", who); break;
        case EventKind::keys_zeroed:
            logger_.debug("{} - Removing all keys, since we haven't received a new one in 540 seconds", who);
            break;
        case EventKind::endpoint_changed: logger_.debug("{} - Endpoint is now {}", who, where); break;
        case EventKind::rejected: break;
    }
}

}  // namespace wgate::io
