// Turns core events into log lines that answer "why is there no handshake?",
// rate-limited so that a flood of bad packets cannot fill the disk.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "wgate/core/clock.hpp"
#include "wgate/core/events.hpp"

namespace spdlog {
class logger;
}

namespace wgate::io {

// "peer(AbCd…wXyZ)": characters 0-3 and 39-42 of the base64 key, as wireguard-go prints it.
std::string short_key(const crypto::PublicKey& key);

class EventLog {
public:
    static constexpr int kRejectionsPerSecond = 10;  // per reason

    explicit EventLog(spdlog::logger& logger) : logger_(logger) {}
    void log(const core::Event& event, core::Duration now);

private:
    struct Window {
        core::Duration start{};
        int logged = 0;
        std::uint64_t suppressed = 0;
    };
    spdlog::logger& logger_;
    std::array<Window, core::kReasonCount> rejections_{};
    Window others_;
};

}  // namespace wgate::io
