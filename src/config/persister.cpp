#include "wgate/config/persister.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "wgate/config/atomic_file.hpp"

namespace wgate::config {

void WriteCoalescer::mark_dirty(core::Duration now) {
    if (!dirty_) first_change_ = now;
    dirty_ = true;
    last_change_ = now;
}

std::optional<core::Duration> WriteCoalescer::deadline() const {
    if (!dirty_) return std::nullopt;
    const core::Duration usual = std::min(last_change_ + delays_.quiet, first_change_ + delays_.max);
    return retry_at_ ? std::max(usual, *retry_at_) : usual;
}

bool WriteCoalescer::due(core::Duration now) const {
    const auto when = deadline();
    return when && now >= *when;
}

void WriteCoalescer::mark_written() {
    dirty_ = false;
    retry_at_.reset();
}

void WriteCoalescer::mark_failed(core::Duration now) {
    // Stays dirty with its first change: the max delay has passed, so the
    // retry time alone decides.
    dirty_ = true;
    retry_at_ = now + delays_.retry;
}

std::string save_gateway_config(const std::string& path, const GatewayConfig& config, std::string_view current_text) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        std::ifstream in(path, std::ios::binary);
        const std::string on_disk{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof())
            throw ConfigError(path, 0, "", "cannot be read back before writing; check its permissions and the disk");
        if (on_disk != current_text)
            throw ConfigError(path, 0, "",
                              "was changed on disk since wgated read it, so runtime changes were not written to it "
                              "(they would overwrite the edit); restart wgated to use the edited file, or undo the "
                              "edit to let wgated save again");
    } else if (errno != ENOENT) {
        throw ConfigError(path, 0, "", std::string("cannot be checked before writing: ") + std::strerror(errno));
    }
    std::string text = render_gateway_config(config, current_text);
    try {
        write_file_atomically(path, text);
    } catch (const std::system_error& e) {
        throw ConfigError(path, 0, "", std::string(e.what()) + "; the file keeps its previous contents");
    }
    return text;
}

}  // namespace wgate::config
