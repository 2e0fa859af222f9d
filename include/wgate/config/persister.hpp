// Writing runtime changes back to the config file, once per burst: a `wg
// setconf` with thousands of lines changes the config thousands of times in a
// few milliseconds and must produce one write.
//
// WriteCoalescer is pure (time is passed in, as in the core): the daemon calls
// mark_dirty after every successful change through the control socket, arms
// its timer for deadline(), and when due() writes with save_gateway_config and
// reports the outcome. Writes happen in the daemon's loop, so no change can
// arrive between the write and mark_written.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "wgate/config/gateway_config.hpp"
#include "wgate/core/clock.hpp"

namespace wgate::config {

class WriteCoalescer {
public:
    struct Delays {
        // Write this long after the last change...
        core::Duration quiet = std::chrono::milliseconds(200);
        // ...but no later than this after the first unwritten change, so a
        // steady trickle of changes still reaches the disk.
        core::Duration max = std::chrono::seconds(2);
        // After a failed write (disk full, read-only), try again this much later.
        core::Duration retry = std::chrono::seconds(5);
    };

    WriteCoalescer() : WriteCoalescer(Delays{}) {}
    explicit WriteCoalescer(Delays delays) : delays_(delays) {}

    // `now` is monotonic (core::Now::mono).
    void mark_dirty(core::Duration now);
    bool dirty() const { return dirty_; }
    // When due() turns true; absent when there is nothing to write.
    std::optional<core::Duration> deadline() const;
    bool due(core::Duration now) const;
    void mark_written();
    // Stays dirty; due again after Delays::retry (and not before the usual deadline).
    void mark_failed(core::Duration now);

private:
    Delays delays_;
    bool dirty_ = false;
    core::Duration first_change_{};
    core::Duration last_change_{};
    std::optional<core::Duration> retry_at_;
};

// Renders `config` over `current_text` (the file's text as last read or
// written; render_gateway_config keeps its comments) and writes it with
// write_file_atomically. Returns the new text, the next current_text.
//
// If the file on disk no longer holds current_text, someone edited it while
// wgated ran: it is not overwritten (their edit would be lost without a
// word) and ConfigError says so. Restarting wgated loads the edited file.
std::string save_gateway_config(const std::string& path, const GatewayConfig& config, std::string_view current_text);

}  // namespace wgate::config
