#include "wgate/cli/address_pool.hpp"

#include <charconv>

#include "wgate/cli/error.hpp"
#include "wgate/control/uapi.hpp"

namespace wgate::cli {
namespace {

using core::IpAddress;
using core::IpPrefix;
using U128 = unsigned __int128;

// Addresses as numbers, so that the pool can be walked and jumped through.
U128 to_number(const IpAddress& a) {
    U128 n = 0;
    const std::size_t length = a.is_v4() ? 4 : 16;
    for (std::size_t i = 0; i < length; ++i) n = n << 8 | a.bytes[i];
    return n;
}

IpAddress from_number(U128 n, bool v4) {
    std::uint8_t b[16] = {};
    const std::size_t length = v4 ? 4 : 16;
    for (std::size_t i = length; i-- > 0;) {
        b[i] = static_cast<std::uint8_t>(n & 0xff);
        n >>= 8;
    }
    return v4 ? IpAddress::v4(b) : IpAddress::v6(b);
}

U128 host_mask(unsigned bits, unsigned cidr) {
    const unsigned host_bits = bits - cidr;
    if (host_bits == 0) return 0;
    if (host_bits >= 128) return ~U128{0};
    return (U128{1} << host_bits) - 1;
}

U128 last_of(const IpPrefix& p) { return to_number(p.address) | host_mask(p.address.bit_length(), p.cidr); }

struct Range {
    U128 first;
    U128 last;
};

// The addresses of a pool a client may get: not the network address, and for
// IPv4 networks larger than /31 not the broadcast address.
std::optional<Range> usable(const InterfaceAddress& pool) {
    const IpPrefix net = pool.network();
    const unsigned bits = pool.address.bit_length();
    U128 first = to_number(net.address);
    U128 last = last_of(net);
    if (bits - pool.cidr >= 2) {
        ++first;
        if (pool.address.is_v4()) --last;
    }
    if (first > last) return std::nullopt;
    return Range{first, last};
}

bool taken(const IpAddress& a, const std::vector<IpPrefix>& used, U128* skip_to) {
    for (const IpPrefix& u : used) {
        if (u.address.family != a.family || !u.contains(a)) continue;
        if (skip_to) *skip_to = last_of(u);
        return true;
    }
    return false;
}

// The lowest free address of `pool`, jumping over each used prefix at once.
std::optional<IpAddress> first_free(const InterfaceAddress& pool, const std::vector<IpPrefix>& used) {
    const auto range = usable(pool);
    if (!range) return std::nullopt;
    const bool v4 = pool.address.is_v4();
    U128 n = range->first;
    while (n <= range->last) {
        const IpAddress candidate = from_number(n, v4);
        U128 end = n;
        if (!taken(candidate, used, &end)) return candidate;
        if (end >= range->last) break;
        n = end + 1;
    }
    return std::nullopt;
}

std::vector<IpPrefix> with_own_addresses(const std::vector<InterfaceAddress>& pools, std::vector<IpPrefix> used) {
    for (const InterfaceAddress& p : pools) used.push_back(IpPrefix::make(p.address, p.address.bit_length()));
    return used;
}

}  // namespace

std::string InterfaceAddress::to_string() const { return to_text(address) + "/" + std::to_string(cidr); }

std::optional<InterfaceAddress> InterfaceAddress::parse(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    const std::string_view bits = text.substr(slash + 1);
    unsigned cidr = 0;
    const auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), cidr);
    if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty() || cidr > address->bit_length())
        return std::nullopt;
    return InterfaceAddress{*address, cidr};
}

std::vector<IpPrefix> allocate_addresses(const std::vector<InterfaceAddress>& pools, const std::vector<IpPrefix>& used) {
    if (pools.empty())
        throw runtime_error("this interface has no address pool: start wgated with --config, or pass --ip ADDRESS");
    const std::vector<IpPrefix> all_used = with_own_addresses(pools, used);
    std::vector<IpPrefix> result;
    std::optional<U128> v4_host;  // host number of the IPv4 address, offered to IPv6
    for (const auto family : {IpAddress::Family::v4, IpAddress::Family::v6}) {
        std::string exhausted;
        bool have_family = false;
        std::optional<IpAddress> chosen;
        for (const InterfaceAddress& pool : pools) {
            if (pool.address.family != family) continue;
            have_family = true;
            if (family == IpAddress::Family::v6 && v4_host) {
                const U128 base = to_number(pool.network().address);
                const auto range = usable(pool);
                const U128 n = base + *v4_host;
                if (range && n >= range->first && n <= range->last && !taken(from_number(n, false), all_used, nullptr)) {
                    chosen = from_number(n, false);
                    break;
                }
            }
            chosen = first_free(pool, all_used);
            if (chosen) break;
            exhausted += (exhausted.empty() ? "" : ", ") + to_text(pool.network());
        }
        if (!have_family) continue;
        if (!chosen) {
            throw runtime_error("the address pool " + exhausted +
                                " is exhausted: remove a peer (wgate peer remove NAME) or widen interface.addresses"
                                " in the gateway config");
        }
        if (family == IpAddress::Family::v4) {
            for (const InterfaceAddress& pool : pools) {
                if (pool.network().contains(*chosen)) {
                    v4_host = to_number(*chosen) - to_number(pool.network().address);
                    break;
                }
            }
        }
        result.push_back(IpPrefix::make(*chosen, chosen->bit_length()));
    }
    return result;
}

bool inside_pool(const std::vector<InterfaceAddress>& pools, const IpPrefix& prefix) {
    for (const InterfaceAddress& pool : pools) {
        const IpPrefix net = pool.network();
        if (net.address.family == prefix.address.family && net.cidr <= prefix.cidr && net.contains(prefix.address))
            return true;
    }
    return false;
}

bool overlaps(const IpPrefix& a, const IpPrefix& b) {
    if (a.address.family != b.address.family) return false;
    return a.cidr <= b.cidr ? a.contains(b.address) : b.contains(a.address);
}

std::string to_text(const IpAddress& address) { return control::format_address(address); }
std::string to_text(const IpPrefix& prefix) { return control::format_prefix(prefix); }

}  // namespace wgate::cli
