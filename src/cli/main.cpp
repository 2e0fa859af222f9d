// wgate: the CLI of a wgated gateway. Only wiring: the commands live in
// wgate_cli (src/cli/cli.cpp) so that tests can run them with fakes.
#include <ctime>
#include <iostream>
#include <memory>

#include "wgate/cli/cli.hpp"
#include "wgate/cli/keys.hpp"

int main(int argc, char** argv) {
    wgate::crypto::SystemRandom random;
    wgate::cli::RealSystem system;
    wgate::cli::CliEnv env{std::cin, std::cout, std::cerr, random, {}, {}, [] {
                               return static_cast<std::int64_t>(std::time(nullptr));
                           },
                           system, &wgate::cli::stdout_is_world_accessible};
    const std::vector<std::string> args(argv + 1, argv + argc);
    return wgate::cli::run_cli(args, env);
}
