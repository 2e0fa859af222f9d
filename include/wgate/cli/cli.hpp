// The `wgate` command line: CLI11 wiring and the subcommands, with every
// outside dependency injected (streams, the daemon connection, randomness, the
// clock, the doctor's view of the host) so that parsing, errors and output are
// unit-tested without a daemon. main() passes the real ones.
//
// Exit codes: 0 done; 1 the command line is wrong (unknown option, bad value,
// missing argument, a malformed key on stdin); 2 it could not be done (daemon
// not running, permission denied, name already used, pool exhausted, the
// daemon refused, a file exists, `doctor` found a failure).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "wgate/cli/doctor.hpp"
#include "wgate/cli/uapi_client.hpp"
#include "wgate/crypto/random.hpp"

namespace wgate::cli {

struct CliEnv {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    crypto::Random& random;
    // A client for the control socket of IFNAME.
    std::function<std::unique_ptr<ControlClient>(const std::string& ifname)> connect;
    // The running interfaces (for a missing -i).
    std::function<std::vector<std::string>()> list_running;
    std::function<std::int64_t()> now;  // unix time, for "12 seconds ago"
    System& system;                     // for `doctor`
    std::function<bool()> stdout_world_accessible = [] { return false; };
};

// args without the program name, e.g. {"peer", "add", "laptop", "--qr"}.
int run_cli(const std::vector<std::string>& args, CliEnv& env);

}  // namespace wgate::cli
