#include "wgate/io/link_monitor.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace wgate::io {
namespace {

struct ParseContext {
    int ifindex;
    std::optional<LinkState> state;
};

int on_attribute(const nlattr* attr, void* data) {
    auto* state = static_cast<LinkState*>(data);
    if (mnl_attr_get_type(attr) == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
        state->mtu = mnl_attr_get_u32(attr);
    return MNL_CB_OK;
}

int on_message(const nlmsghdr* nlh, void* data) {
    auto* ctx = static_cast<ParseContext*>(data);
    if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) return MNL_CB_OK;
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    if (ifi->ifi_index != ctx->ifindex) return MNL_CB_OK;
    LinkState state;
    state.up = (ifi->ifi_flags & IFF_UP) != 0;
    state.removed = nlh->nlmsg_type == RTM_DELLINK;
    mnl_attr_parse(nlh, sizeof *ifi, on_attribute, &state);
    ctx->state = state;
    return MNL_CB_OK;
}

}  // namespace

LinkMonitor::LinkMonitor(int ifindex) : ifindex_(ifindex) {
    socket_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (!socket_) throw std::system_error(errno, std::generic_category(), "opening rtnetlink socket");
    if (mnl_socket_bind(socket_, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
        const int err = errno;
        mnl_socket_close(socket_);
        throw std::system_error(err, std::generic_category(), "binding rtnetlink socket");
    }
}

LinkMonitor::~LinkMonitor() {
    if (socket_) mnl_socket_close(socket_);
}

int LinkMonitor::fd() const { return mnl_socket_get_fd(socket_); }

std::optional<LinkState> LinkMonitor::read() {
    ParseContext ctx{ifindex_, std::nullopt};
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_, buf.data(), buf.size());
        if (n <= 0) break;  // EAGAIN, or ENOBUFS after an overflow: the next event brings the state
        mnl_cb_run(buf.data(), static_cast<std::size_t>(n), 0, 0, on_message, &ctx);
    }
    return ctx.state;
}

}  // namespace wgate::io
