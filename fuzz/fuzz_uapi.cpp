// The UAPI control socket: arbitrary bytes into a control::Session driving a
// Device. Checks that the answer does not depend on how the bytes are split,
// that every answer is complete, and that whatever the device ends up with is
// printed by get in a form that set reads back to the same configuration.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "wgate/control/uapi.hpp"
#include "wgate/core/device.hpp"
#include "wgate/crypto/random.hpp"

namespace {

using namespace wgate;

class DummyHost : public control::Host {
public:
    std::uint16_t listen_port() const override { return port_; }
    std::optional<control::UapiError> set_listen_port(std::uint16_t port) override {
        if (port == 1) return control::UapiError{98, "in use"};  // the failure path (EADDRINUSE)
        port_ = port;
        return std::nullopt;
    }
    std::uint32_t fwmark() const override { return mark_; }
    std::optional<control::UapiError> set_fwmark(std::uint32_t mark) override {
        if (mark == 1) return control::UapiError{1, "not permitted"};
        mark_ = mark;
        return std::nullopt;
    }
    std::optional<std::string> peer_name(const crypto::PublicKey& key) const override {
        const auto it = names_.find(key);
        if (it == names_.end()) return std::nullopt;
        return it->second;
    }
    void set_peer_name(const crypto::PublicKey& key, const std::optional<std::string>& name) override {
        if (name) {
            names_[key] = *name;
        } else {
            names_.erase(key);
        }
    }

private:
    std::uint16_t port_ = 0;
    std::uint32_t mark_ = 0;
    std::map<crypto::PublicKey, std::string> names_;
};

struct World {
    World() : random(1), device(random) {
        // Down: no keepalives, so byte counters stay zero and get reads back exactly.
        device.set_up(false, now, out);
    }
    crypto::DeterministicRandom random;
    core::Device device;
    DummyHost host;
    core::Outputs out;
    core::Now now{std::chrono::seconds(100), std::chrono::seconds(1'700'000'000)};
};

// Feeds `input` in pieces of `chunk` bytes (0: all at once), then ends the connection.
std::string run(World& w, std::string_view input, std::size_t chunk) {
    control::SessionLimits limits;
    limits.max_request_bytes = 1 << 16;
    limits.max_line_bytes = 512;
    control::Session session(w.device, w.host, [&w] { return w.now; }, w.out, limits);
    std::string reply;
    bool open = true;
    for (std::size_t i = 0; open && i < input.size(); i += chunk ? chunk : input.size()) {
        open = session.feed(input.substr(i, chunk ? chunk : input.size()), reply) ==
               control::Session::Status::keep_open;
    }
    if (open) session.finish(reply);
    if (!reply.empty() && !reply.ends_with("\n\n")) std::abort();
    return reply;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* in, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(in), size);

    World whole;
    const std::string reply = run(whole, input, 0);
    World bytewise;
    if (run(bytewise, input, 1) != reply) std::abort();
    const std::string state = control::format_get(whole.device, whole.host, true);
    if (control::format_get(bytewise.device, bytewise.host, true) != state) std::abort();

    // get's answer minus the read-only keys is a set request for the same state.
    std::string lines;
    for (std::size_t pos = 0; pos < state.size();) {
        const auto nl = state.find('\n', pos);
        const std::string_view line = std::string_view(state).substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty() || line.starts_with("errno=") || line.starts_with("last_handshake_time_") ||
            line.starts_with("tx_bytes=") || line.starts_with("rx_bytes=")) {
            continue;
        }
        lines.append(line);
        lines += '\n';
    }
    auto parsed = control::parse_set(lines);
    if (!std::holds_alternative<control::SetRequest>(parsed)) std::abort();
    World copy;
    if (control::apply_set(copy.device, copy.host, std::get<control::SetRequest>(parsed), copy.now, copy.out))
        std::abort();
    if (control::format_get(copy.device, copy.host, true) != state) std::abort();
    return 0;
}
