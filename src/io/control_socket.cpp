#include "wgate/io/control_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace wgate::io {
namespace {

std::system_error error(int err, const std::string& what) { return {err, std::generic_category(), what}; }

sockaddr_un address_of(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) throw error(ENAMETOOLONG, "control socket path too long: " + path);
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    return sa;
}

bool someone_listens(const sockaddr_un& sa) {
    Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return probe.valid() && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
}

}  // namespace

std::string control_socket_path(const std::string& ifname) {
    return std::string(kControlDirectory) + "/" + ifname + ".sock";
}

Fd listen_control_socket(const std::string& path) {
    if (::mkdir(kControlDirectory, 0755) < 0 && errno != EEXIST) {
        const int err = errno;
        throw error(err, std::string("cannot create ") + kControlDirectory +
                             (err == EACCES ? ": run as root" : ""));
    }
    const sockaddr_un sa = address_of(path);
    if (someone_listens(sa)) throw error(EADDRINUSE, "another daemon already serves " + path);
    ::unlink(path.c_str());

    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) throw error(errno, "creating control socket");
    // Created 0600 from the start: no window in which others may connect.
    const mode_t old_mask = ::umask(0077);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    const int bind_errno = errno;
    ::umask(old_mask);
    if (bound < 0) throw error(bind_errno, "binding control socket " + path);
    if (::listen(fd.get(), 64) < 0) throw error(errno, "listening on control socket " + path);
    return fd;
}

}  // namespace wgate::io
