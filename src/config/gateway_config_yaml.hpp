// Internal to src/config: the YAML steps of parse_gateway_config, shared with
// the renderer, which needs the node tree (its marks) of the original text.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "wgate/config/gateway_config.hpp"

namespace wgate::config::detail {

// Exactly one YAML document (an empty text is a null node); syntax errors,
// several documents and oversized texts become ConfigError.
YAML::Node load_yaml(std::string_view text, const std::string& name);

// Values and their lines from the tree, refusing unknown and duplicate keys,
// wrong types and malformed values; no check_gateway_config. `text` is what
// `root` was loaded from (for the lines of empty list items).
GatewayConfig parse_tree(const YAML::Node& root, const std::string& name, std::string_view text);

// The key lists of each mapping, in the order a generated file writes them.
inline constexpr std::string_view kTopKeys[] = {"interface", "gateway", "peers", "persist"};
inline constexpr std::string_view kInterfaceKeys[] = {"name", "private_key_file", "listen_port",
                                                      "mtu",  "fwmark",           "addresses"};
inline constexpr std::string_view kGatewayKeys[] = {"public_endpoint",  "lan_routes", "masquerade",
                                                    "egress_interface", "client_dns", "persistent_keepalive"};
inline constexpr std::string_view kPeerKeys[] = {"name",     "public_key",           "preshared_key_file", "allowed_ips",
                                                 "endpoint", "persistent_keepalive", "disabled"};

}  // namespace wgate::config::detail
