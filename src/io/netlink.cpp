#include "wgate/io/netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>
#include <utility>

namespace wgate::io {
namespace {

// Large enough for any single dump batch: the kernel sizes dump skbs after the
// reader's buffer but never beyond 32 KiB.
constexpr std::size_t kReceiveBufferSize = 64 * 1024;
constexpr int kDumpAttempts = 5;

std::system_error error(int err, const std::string& what) { return {err, std::generic_category(), what}; }

std::string prefix_text(const core::IpAddress& a, unsigned cidr) { return a.to_string() + "/" + std::to_string(cidr); }

// Attributes of one message indexed by type; unknown (too new) types are ignored.
struct Attributes {
    std::array<const nlattr*, 128> at{};
    const nlattr* operator[](unsigned type) const { return type < at.size() ? at[type] : nullptr; }
};

int collect_attribute(const nlattr* attr, void* data) {
    auto* attrs = static_cast<Attributes*>(data);
    const auto type = mnl_attr_get_type(attr);
    if (type < attrs->at.size()) attrs->at[type] = attr;
    return MNL_CB_OK;
}

Attributes parse_attributes(const nlmsghdr* nlh, std::size_t header_size) {
    Attributes attrs;
    mnl_attr_parse(nlh, static_cast<unsigned>(header_size), collect_attribute, &attrs);
    return attrs;
}

std::optional<std::uint32_t> attr_u32(const nlattr* attr) {
    if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return std::nullopt;
    return mnl_attr_get_u32(attr);
}

core::IpAddress attr_address(const nlattr* attr, int family) {
    if (!attr) return {};
    const auto len = mnl_attr_get_payload_len(attr);
    const auto* bytes = static_cast<const std::uint8_t*>(mnl_attr_get_payload(attr));
    if (family == AF_INET && len == 4) return core::IpAddress::v4(bytes);
    if (family == AF_INET6 && len == 16) return core::IpAddress::v6(bytes);
    return {};
}

int family_of(const core::IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }

void put_address(nlmsghdr* nlh, std::uint16_t type, const core::IpAddress& a) {
    mnl_attr_put(nlh, type, a.is_v4() ? 4 : 16, a.bytes.data());
}

void check_address(const core::IpAddress& a, unsigned cidr, const std::string& what) {
    if (a.empty()) throw error(EINVAL, "netlink: " + what + ": no address given");
    if (cidr > a.bit_length()) throw error(EINVAL, "netlink: " + what + ": prefix length " + std::to_string(cidr) + " is too long");
}

int attr_string_cb(const nlattr* attr, void* data) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
        *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
    return MNL_CB_OK;
}

// The kernel's extended-ACK text ("Invalid prefix for given prefix length"),
// found after the error code (and, unless capped, after the echoed request).
std::string extended_ack(const nlmsghdr* nlh, std::size_t offset) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    offset = MNL_ALIGN(offset);
    if (mnl_nlmsg_size(offset) > nlh->nlmsg_len) return {};
    std::string message;
    mnl_attr_parse(nlh, static_cast<unsigned>(offset), attr_string_cb, &message);
    return message;
}

// --- dump / reply parsers -------------------------------------------------

int on_link(const nlmsghdr* nlh, void* data) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return MNL_CB_OK;
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    const Attributes attrs = parse_attributes(nlh, sizeof *ifi);
    LinkInfo info;
    info.ifindex = ifi->ifi_index;
    info.flags = ifi->ifi_flags;
    info.up = (ifi->ifi_flags & IFF_UP) != 0;
    info.running = (ifi->ifi_flags & IFF_RUNNING) != 0;
    if (const nlattr* name = attrs[IFLA_IFNAME]; name && mnl_attr_validate(name, MNL_TYPE_NUL_STRING) >= 0)
        info.name = mnl_attr_get_str(name);
    info.mtu = attr_u32(attrs[IFLA_MTU]).value_or(0);
    static_cast<std::vector<LinkInfo>*>(data)->push_back(std::move(info));
    return MNL_CB_OK;
}

struct AddressQuery {
    int ifindex;
    std::vector<InterfaceAddress> out;
};

int on_address(const nlmsghdr* nlh, void* data) {
    if (nlh->nlmsg_type != RTM_NEWADDR) return MNL_CB_OK;
    auto* query = static_cast<AddressQuery*>(data);
    const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
    if (query->ifindex != 0 && static_cast<int>(ifa->ifa_index) != query->ifindex) return MNL_CB_OK;
    if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return MNL_CB_OK;
    const Attributes attrs = parse_attributes(nlh, sizeof *ifa);
    InterfaceAddress a;
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on
    // point-to-point links (and the only one IPv6 sends).
    a.address = attr_address(attrs[IFA_LOCAL] ? attrs[IFA_LOCAL] : attrs[IFA_ADDRESS], ifa->ifa_family);
    if (a.address.empty()) return MNL_CB_OK;
    a.cidr = ifa->ifa_prefixlen;
    a.ifindex = static_cast<int>(ifa->ifa_index);
    a.flags = attr_u32(attrs[IFA_FLAGS]).value_or(ifa->ifa_flags);  // IFA_FLAGS holds the bits beyond 8
    query->out.push_back(a);
    return MNL_CB_OK;
}

RouteInfo parse_route(const nlmsghdr* nlh) {
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    const Attributes attrs = parse_attributes(nlh, sizeof *rtm);
    RouteInfo r;
    core::IpAddress dst = attr_address(attrs[RTA_DST], rtm->rtm_family);
    if (dst.empty()) {
        // No RTA_DST: the default route of that family.
        dst.family = rtm->rtm_family == AF_INET ? core::IpAddress::Family::v4 : core::IpAddress::Family::v6;
    }
    r.destination = core::IpPrefix::make(dst, rtm->rtm_dst_len);
    r.ifindex = static_cast<int>(attr_u32(attrs[RTA_OIF]).value_or(0));
    r.gateway = attr_address(attrs[RTA_GATEWAY], rtm->rtm_family);
    r.source = attr_address(attrs[RTA_PREFSRC], rtm->rtm_family);
    r.table = attr_u32(attrs[RTA_TABLE]).value_or(rtm->rtm_table);
    r.protocol = rtm->rtm_protocol;
    r.type = rtm->rtm_type;
    r.scope = rtm->rtm_scope;
    r.metric = attr_u32(attrs[RTA_PRIORITY]).value_or(0);
    return r;
}

struct RouteQuery {
    int ifindex;
    std::vector<RouteInfo> out;
};

int on_route(const nlmsghdr* nlh, void* data) {
    if (nlh->nlmsg_type != RTM_NEWROUTE) return MNL_CB_OK;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return MNL_CB_OK;
    auto* query = static_cast<RouteQuery*>(data);
    RouteInfo r = parse_route(nlh);
    if (query->ifindex != 0 && r.ifindex != query->ifindex) return MNL_CB_OK;
    query->out.push_back(std::move(r));
    return MNL_CB_OK;
}

int on_route_get(const nlmsghdr* nlh, void* data) {
    if (nlh->nlmsg_type != RTM_NEWROUTE) return MNL_CB_OK;
    *static_cast<std::optional<RouteInfo>*>(data) = parse_route(nlh);
    return MNL_CB_OK;
}

}  // namespace

Netlink::Netlink() : send_buf_(MNL_SOCKET_BUFFER_SIZE), recv_buf_(kReceiveBufferSize) {
    socket_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!socket_) throw error(errno, "netlink: opening rtnetlink socket");
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int err = errno;
        mnl_socket_close(socket_);
        throw error(err, "netlink: binding rtnetlink socket");
    }
    // Best effort: the kernel's own words in errors, and ACKs without the echoed request.
    int one = 1;
    mnl_socket_setsockopt(socket_, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(socket_, NETLINK_CAP_ACK, &one, sizeof one);
    portid_ = mnl_socket_get_portid(socket_);
    seq_ = static_cast<std::uint32_t>(std::time(nullptr));
}

Netlink::~Netlink() {
    if (socket_) mnl_socket_close(socket_);
}

Netlink::Netlink(Netlink&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)),
      portid_(other.portid_),
      seq_(other.seq_),
      send_buf_(std::move(other.send_buf_)),
      recv_buf_(std::move(other.recv_buf_)) {}

Netlink& Netlink::operator=(Netlink&& other) noexcept {
    if (this != &other) {
        if (socket_) mnl_socket_close(socket_);
        socket_ = std::exchange(other.socket_, nullptr);
        portid_ = other.portid_;
        seq_ = other.seq_;
        send_buf_ = std::move(other.send_buf_);
        recv_buf_ = std::move(other.recv_buf_);
    }
    return *this;
}

nlmsghdr* Netlink::new_message(std::uint16_t type, std::uint16_t flags) {
    if (!socket_) throw error(EBADF, "netlink: socket was moved away");
    std::fill(send_buf_.begin(), send_buf_.end(), 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(send_buf_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    return nlh;
}

int Netlink::transact(nlmsghdr* req, Callback cb, void* data, std::string& kernel_message) {
    const std::uint32_t seq = ++seq_;
    req->nlmsg_seq = seq;
    if (mnl_socket_sendto(socket_, req, req->nlmsg_len) < 0) throw error(errno, "netlink: sending request");

    bool interrupted = false;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_, recv_buf_.data(), recv_buf_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw error(errno, "netlink: receiving answer");
        }
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(recv_buf_.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            // Stale answers to an earlier request that threw half-way are skipped.
            if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid_) continue;
            // The table changed during the dump: the caller retries.
            if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
            switch (nlh->nlmsg_type) {
            case NLMSG_NOOP:
            case NLMSG_OVERRUN:
                break;
            case NLMSG_ERROR: {
                if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) return EBADMSG;
                const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                std::size_t offset = sizeof(nlmsgerr);
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
                kernel_message = extended_ack(nlh, offset);
                if (err->error != 0) return err->error < 0 ? -err->error : err->error;
                return interrupted ? EINTR : 0;
            }
            case NLMSG_DONE: {
                // Since Linux 4.x a failing dump reports its error here.
                if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
                    int code = 0;
                    std::memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof code);
                    kernel_message = extended_ack(nlh, sizeof(int));
                    if (code < 0) return -code;
                }
                return interrupted ? EINTR : 0;
            }
            default:
                if (cb) cb(nlh, data);
            }
        }
    }
}

int Netlink::request(nlmsghdr* req, const std::string& what, std::initializer_list<int> tolerated, Callback cb,
                     void* data) {
    std::string kernel_message;
    const int err = transact(req, cb, data, kernel_message);
    if (err == 0 || std::find(tolerated.begin(), tolerated.end(), err) != tolerated.end()) return err;
    std::string message = "netlink: " + what;
    if (!kernel_message.empty()) message += ": " + kernel_message;
    throw error(err, message);
}

// --- links ----------------------------------------------------------------

std::optional<LinkInfo> Netlink::link(int ifindex) {
    if (ifindex <= 0) return std::nullopt;
    nlmsghdr* nlh = new_message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);  // keep the answer small
    std::vector<LinkInfo> out;
    if (request(nlh, "looking up interface " + std::to_string(ifindex), {ENODEV}, on_link, &out) != 0 || out.empty())
        return std::nullopt;
    return out.front();
}

int Netlink::ifindex_of(const std::string& name) {
    // No interface can have a longer name (and the kernel would say EINVAL).
    if (name.empty() || name.size() >= IFNAMSIZ) return 0;
    nlmsghdr* nlh = new_message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::vector<LinkInfo> out;
    if (request(nlh, "looking up interface " + name, {ENODEV}, on_link, &out) != 0 || out.empty()) return 0;
    return out.front().ifindex;
}

std::string Netlink::name_of(int ifindex) {
    const auto info = link(ifindex);
    return info ? info->name : std::string{};
}

std::vector<LinkInfo> Netlink::list_links() {
    std::vector<LinkInfo> out;
    for (int attempt = 0;; ++attempt) {
        nlmsghdr* nlh = new_message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
        auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        out.clear();
        const bool retry = attempt + 1 < kDumpAttempts;
        if (request(nlh, "listing interfaces", {retry ? EINTR : 0}, on_link, &out) != EINTR) return out;
    }
}

void Netlink::set_mtu(int ifindex, unsigned mtu) {
    nlmsghdr* nlh = new_message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    request(nlh, "setting MTU " + std::to_string(mtu) + " on interface " + std::to_string(ifindex));
}

void Netlink::set_up(int ifindex, bool up) {
    nlmsghdr* nlh = new_message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_change = IFF_UP;  // touch only this flag
    ifi->ifi_flags = up ? IFF_UP : 0;
    request(nlh, std::string(up ? "bringing up" : "bringing down") + " interface " + std::to_string(ifindex));
}

bool Netlink::delete_link(int ifindex) {
    nlmsghdr* nlh = new_message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    return request(nlh, "deleting interface " + std::to_string(ifindex), {ENODEV}) == 0;
}

// --- addresses ------------------------------------------------------------

namespace {

void put_address_request(nlmsghdr* nlh, int ifindex, const core::IpAddress& address, unsigned cidr) {
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = static_cast<std::uint8_t>(family_of(address));
    ifa->ifa_prefixlen = static_cast<std::uint8_t>(cidr);
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = static_cast<std::uint32_t>(ifindex);
    // LOCAL and ADDRESS equal: an ordinary address with a prefix route, also
    // on a point-to-point TUN (as `ip addr add` does).
    put_address(nlh, IFA_LOCAL, address);
    put_address(nlh, IFA_ADDRESS, address);
}

}  // namespace

bool Netlink::add_address(int ifindex, const core::IpAddress& address, unsigned cidr) {
    const std::string what = "adding address " + prefix_text(address, cidr) + " to interface " + std::to_string(ifindex);
    check_address(address, cidr, what);
    nlmsghdr* nlh = new_message(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    put_address_request(nlh, ifindex, address, cidr);
    if (address.is_v6()) {
        // Without NODAD the address stays "tentative" for a second or more and
        // binding to it or routing from it fails meanwhile.
        auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
        ifa->ifa_flags = IFA_F_NODAD;
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
    }
    return request(nlh, what, {EEXIST}) == 0;
}

bool Netlink::delete_address(int ifindex, const core::IpAddress& address, unsigned cidr) {
    const std::string what =
        "deleting address " + prefix_text(address, cidr) + " from interface " + std::to_string(ifindex);
    check_address(address, cidr, what);
    nlmsghdr* nlh = new_message(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK);
    put_address_request(nlh, ifindex, address, cidr);
    return request(nlh, what, {EADDRNOTAVAIL}) == 0;
}

std::vector<InterfaceAddress> Netlink::list_addresses(int ifindex) {
    AddressQuery query{ifindex, {}};
    for (int attempt = 0;; ++attempt) {
        nlmsghdr* nlh = new_message(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
        auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
        ifa->ifa_family = AF_UNSPEC;
        query.out.clear();
        const bool retry = attempt + 1 < kDumpAttempts;
        if (request(nlh, "listing addresses", {retry ? EINTR : 0}, on_address, &query) != EINTR) return query.out;
    }
}

// --- routes ---------------------------------------------------------------

namespace {

void put_route_request(nlmsghdr* nlh, const core::IpPrefix& prefix, int ifindex, std::uint32_t table,
                       std::uint8_t protocol, std::uint8_t scope) {
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = static_cast<std::uint8_t>(family_of(prefix.address));
    rtm->rtm_dst_len = prefix.cidr;
    // Tables above 255 only fit in RTA_TABLE; the header then says "unspec".
    rtm->rtm_table = table < 256 ? static_cast<std::uint8_t>(table) : std::uint8_t{RT_TABLE_UNSPEC};
    rtm->rtm_protocol = protocol;
    rtm->rtm_scope = scope;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_TABLE, table);
    put_address(nlh, RTA_DST, prefix.address);
    if (ifindex > 0) mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(ifindex));
}

std::string route_text(const core::IpPrefix& prefix, int ifindex, std::uint32_t table) {
    std::string text = "route " + prefix.to_string() + " dev " + std::to_string(ifindex);
    if (table != kMainTable) text += " table " + std::to_string(table);
    return text;
}

}  // namespace

bool Netlink::add_route(const core::IpPrefix& prefix, int ifindex, std::uint32_t table, std::uint8_t protocol) {
    const std::string what = "adding " + route_text(prefix, ifindex, table);
    check_address(prefix.address, prefix.cidr, what);
    // Re-canonicalise: the kernel refuses a destination with host bits set.
    const core::IpPrefix canonical = core::IpPrefix::make(prefix.address, prefix.cidr);
    nlmsghdr* nlh = new_message(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    put_route_request(nlh, canonical, ifindex, table, protocol, RT_SCOPE_LINK);
    return request(nlh, what, {EEXIST}) == 0;
}

bool Netlink::delete_route(const core::IpPrefix& prefix, int ifindex, std::uint32_t table, std::uint8_t protocol) {
    const std::string what = "deleting " + route_text(prefix, ifindex, table);
    check_address(prefix.address, prefix.cidr, what);
    const core::IpPrefix canonical = core::IpPrefix::make(prefix.address, prefix.cidr);
    nlmsghdr* nlh = new_message(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK);
    // Scope "nowhere" matches any scope; the protocol must match (IPv4 and IPv6 both check it).
    put_route_request(nlh, canonical, ifindex, table, protocol, RT_SCOPE_NOWHERE);
    return request(nlh, what, {ESRCH, ENOENT}) == 0;
}

std::vector<RouteInfo> Netlink::list_routes(int ifindex) {
    RouteQuery query{ifindex, {}};
    for (int attempt = 0;; ++attempt) {
        nlmsghdr* nlh = new_message(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
        auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        rtm->rtm_family = AF_UNSPEC;
        query.out.clear();
        const bool retry = attempt + 1 < kDumpAttempts;
        if (request(nlh, "listing routes", {retry ? EINTR : 0}, on_route, &query) != EINTR) return query.out;
    }
}

RouteLookup Netlink::route_get(const core::IpAddress& destination) {
    const std::string what = "looking up the route to " + destination.to_string();
    if (destination.empty()) throw error(EINVAL, "netlink: looking up a route: no address given");
    nlmsghdr* nlh = new_message(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = static_cast<std::uint8_t>(family_of(destination));
    rtm->rtm_dst_len = static_cast<std::uint8_t>(destination.bit_length());
    put_address(nlh, RTA_DST, destination);
    std::optional<RouteInfo> answer;
    request(nlh, what, {}, on_route_get, &answer);
    if (!answer) throw error(EBADMSG, "netlink: " + what + ": the kernel sent no route");
    switch (answer->type) {
    case RTN_UNREACHABLE: throw error(EHOSTUNREACH, "netlink: " + what);
    case RTN_BLACKHOLE: throw error(EINVAL, "netlink: " + what + ": blackhole route");
    case RTN_PROHIBIT: throw error(EACCES, "netlink: " + what + ": prohibited by a route");
    default: break;
    }
    return {answer->ifindex, answer->gateway, answer->source};
}

// --- planning ---------------------------------------------------------------

std::vector<core::IpPrefix> uncovered_prefixes(const std::vector<InterfaceAddress>& addresses,
                                               const std::vector<core::IpPrefix>& allowed_ips) {
    std::vector<core::IpPrefix> out;
    for (const core::IpPrefix& raw : allowed_ips) {
        if (raw.address.empty() || raw.cidr == 0) continue;
        const core::IpPrefix p = core::IpPrefix::make(raw.address, raw.cidr);
        const bool covered = std::any_of(addresses.begin(), addresses.end(), [&](const InterfaceAddress& a) {
            return a.address.family == p.address.family && a.cidr <= p.cidr && a.subnet().contains(p.address);
        });
        if (!covered && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
    return out;
}

}  // namespace wgate::io
