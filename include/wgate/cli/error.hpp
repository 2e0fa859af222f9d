// How the `wgate` CLI fails: one line that says what to do, and an exit code
// (1: the command line is wrong, 2: it could not be done).
#pragma once

#include <stdexcept>
#include <string>

namespace wgate::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitRuntime = 2;

class CliError : public std::runtime_error {
public:
    CliError(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

private:
    int exit_code_;
};

inline CliError usage_error(const std::string& message) { return CliError(kExitUsage, message); }
inline CliError runtime_error(const std::string& message) { return CliError(kExitRuntime, message); }

// Zeroes a string that held key material (a rendered config, a key line) and empties it.
void wipe_string(std::string& s) noexcept;

}  // namespace wgate::cli
