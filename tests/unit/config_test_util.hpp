// Helpers for the config tests: a scratch directory, files with a given mode,
// keys as text, and running a check as an unprivileged user (these tests run
// as root, and root reads and writes whatever the mode says).
#pragma once

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "wgate/crypto/base64.hpp"

namespace wgate::config::test {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "wgate-config-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
        // World-traversable, so that a child running as nobody can reach files in it.
        ::chmod(path_.c_str(), 0755);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }
    std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

private:
    std::string path_;
};

inline void write_text(const std::string& path, std::string_view text, mode_t mode = 0600) {
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
    }
    ::chmod(path.c_str(), mode);
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

inline mode_t mode_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

// A valid base64 key whose 32 bytes are all `fill` (distinct fills, distinct keys).
inline std::string key_text(std::uint8_t fill) {
    crypto::Bytes<crypto::kKeySize> key;
    key.fill(fill);
    return crypto::key_to_base64(key);
}

inline crypto::Bytes<crypto::kKeySize> key_bytes(std::uint8_t fill) {
    crypto::Bytes<crypto::kKeySize> key;
    key.fill(fill);
    return key;
}

// What run_unprivileged returns when the child could not drop root
// (a container without CAP_SETUID): the caller skips its test.
inline constexpr int kCannotDropPrivileges = 100;

// Runs `body` in a child process as uid/gid 65534 (nobody) when we are root,
// and returns its exit status (0..255), or -1 when it died of a signal.
inline int run_unprivileged(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        int status = 0;
        if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            status = kCannotDropPrivileges;
        } else {
            status = body();
        }
        ::_exit(status);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace wgate::config::test
