#include "wgate/io/tun.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace wgate::io {
namespace {

std::system_error error(int err, const std::string& what) { return {err, std::generic_category(), what}; }

void set_mtu(const std::string& name, unsigned mtu) {
    Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_mtu = static_cast<int>(mtu);
    if (::ioctl(sock.get(), SIOCSIFMTU, &ifr) < 0) throw error(errno, "setting MTU " + std::to_string(mtu) + " on " + name);
}

}  // namespace

Tun Tun::open(const std::string& name, unsigned mtu, bool offload) {
    if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos || name == "." || name == "..")
        throw error(EINVAL, "interface name '" + name + "' is not valid: use 1-15 characters without '/'");
    Tun tun;
    tun.fd_ = Fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!tun.fd_.valid()) {
        const int err = errno;
        if (err == ENOENT || err == ENODEV)
            throw error(err, "/dev/net/tun is missing: load the tun module (modprobe tun) or give the container the device");
        if (err == EACCES || err == EPERM) throw error(err, "cannot open /dev/net/tun: run as root or with CAP_NET_ADMIN");
        throw error(err, "opening /dev/net/tun");
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
    if (::ioctl(tun.fd_.get(), TUNSETIFF, &ifr) < 0) {
        const int err = errno;
        if (err == EPERM || err == EACCES)
            throw error(err, "cannot create TUN device " + name + ": run as root or with CAP_NET_ADMIN");
        if (err == EBUSY || err == EINVAL || err == EEXIST)
            throw error(err, "interface name " + name + " is taken (another device or daemon uses it): pick another name");
        throw error(err, "creating TUN device " + name);
    }
    if (offload) {
        const int hdr_size = static_cast<int>(kVnetHdrSize);
        if (::ioctl(tun.fd_.get(), TUNSETVNETHDRSZ, &hdr_size) < 0) throw error(errno, "setting the TUN vnet header size");
        tun.vnet_hdr_ = true;
        // Without these the kernel segments and checksums itself: still correct.
        // USO is newer than Debian 12's headers; older kernels refuse it.
        constexpr unsigned kTunUso4 = 0x20, kTunUso6 = 0x40;  // TUN_F_USO4, TUN_F_USO6
        constexpr unsigned kTcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        tun.uso_ = ::ioctl(tun.fd_.get(), TUNSETOFFLOAD, kTcp | kTunUso4 | kTunUso6) == 0;
        if (!tun.uso_) (void)::ioctl(tun.fd_.get(), TUNSETOFFLOAD, kTcp);
    }
    tun.name_ = ifr.ifr_name;
    tun.ifindex_ = static_cast<int>(if_nametoindex(tun.name_.c_str()));
    set_mtu(tun.name_, mtu);
    return tun;
}

std::size_t Tun::read_batch(std::vector<std::vector<std::uint8_t>>& buffers, std::vector<std::size_t>& sizes) {
    std::size_t n = 0;
    sizes.resize(buffers.size());
    while (n < buffers.size()) {
        const ssize_t r = ::read(fd_.get(), buffers[n].data(), buffers[n].size());
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            if (n > 0) break;  // report what we have; the error repeats next time
            throw error(errno, "reading from TUN " + name_);
        }
        sizes[n++] = static_cast<std::size_t>(r);
    }
    return n;
}

void Tun::write(std::span<const std::uint8_t> packet) {
    if (vnet_hdr_) return write(VnetHdr{}, packet);
    // EAGAIN: the kernel queue is full; dropping is what a NIC would do.
    (void)!::write(fd_.get(), packet.data(), packet.size());
}

void Tun::write(const VnetHdr& hdr, std::span<const std::uint8_t> packet) {
    iovec iov[2] = {{const_cast<VnetHdr*>(&hdr), kVnetHdrSize},
                    {const_cast<std::uint8_t*>(packet.data()), packet.size()}};
    (void)!::writev(fd_.get(), iov, 2);
}

bool offload_requested() {
    const char* v = std::getenv("WGATE_OFFLOAD");
    return !(v && std::string(v) == "0");
}

bool Tun::exists() const {
    // An empty write is rejected as an invalid packet (EINVAL) while the
    // device exists, and with EBADFD once it is gone.
    return !(::write(fd_.get(), nullptr, 0) < 0 && errno == EBADFD);
}

unsigned interface_mtu(const std::string& name) {
    Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return 0;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFMTU, &ifr) < 0) return 0;
    return static_cast<unsigned>(ifr.ifr_mtu);
}

}  // namespace wgate::io

namespace wgate::io {

bool interface_up(const std::string& name) {
    Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) return false;
    return (ifr.ifr_flags & IFF_UP) != 0;
}

}  // namespace wgate::io
