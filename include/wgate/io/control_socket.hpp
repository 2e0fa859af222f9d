// The UAPI control socket /var/run/wireguard/IFNAME.sock, where `wg` looks.
#pragma once

#include <string>

#include "wgate/io/fd.hpp"

namespace wgate::io {

inline constexpr const char* kControlDirectory = "/var/run/wireguard";

std::string control_socket_path(const std::string& ifname);

// Creates the directory if needed (0755) and a listening socket with mode
// 0600, owned by the calling user. A stale socket file is replaced; a live
// one (a daemon answers) is an error. Throws std::system_error.
Fd listen_control_socket(const std::string& path);

}  // namespace wgate::io
