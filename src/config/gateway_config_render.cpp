// render_gateway_config: values back to YAML, keeping the comments of the
// file they came from. yaml-cpp drops comments when it parses, so the
// original text is edited line by line instead, guided by the marks (line and
// column) of its nodes. Every edit is checked at the end by parsing the result:
// when the text does not read back to exactly the config, the file is
// generated from scratch (keeping only its top comment block).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway_config_yaml.hpp"
#include "wgate/config/gateway_config.hpp"
#include "wgate/crypto/base64.hpp"

namespace wgate::config {
namespace {

using Lines = std::vector<std::string>;
constexpr std::size_t kNoLine = static_cast<std::size_t>(-1);
constexpr std::size_t kIndent = 2;

// ---------------------------------------------------------------- value texts

std::string scalar(std::string_view value) {
    YAML::Emitter out;
    out << std::string(value);
    return out.c_str();
}

template <typename Items, typename ToText>
std::string flow_list(const Items& items, ToText to_text) {
    YAML::Emitter out;
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& element : items) out << to_text(element);
    out << YAML::EndSeq;
    return out.c_str();
}

std::string hex(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%x", static_cast<unsigned>(value));
    return text;
}

// Each key of a mapping with its value as one line of YAML; absent values
// (optional settings not set, empty optional lists) have no text.
using FieldTexts = std::vector<std::pair<std::string_view, std::optional<std::string>>>;

std::optional<std::string> optional_text(bool present, std::string text) {
    return present ? std::optional<std::string>(std::move(text)) : std::nullopt;
}

FieldTexts interface_texts(const InterfaceConfig& c) {
    return {
        {"name", scalar(c.name)},
        {"private_key_file", scalar(c.private_key_file)},
        {"listen_port", std::to_string(c.listen_port)},
        {"mtu", std::to_string(c.mtu)},
        {"fwmark", optional_text(c.fwmark.has_value(), hex(c.fwmark.value_or(0)))},
        {"addresses", flow_list(c.addresses, [](const auto& a) { return a.to_string(); })},
    };
}

FieldTexts gateway_texts(const GatewaySettings& g) {
    return {
        {"public_endpoint",
         optional_text(g.public_endpoint.has_value(), g.public_endpoint ? scalar(g.public_endpoint->to_string()) : "")},
        {"lan_routes",
         optional_text(!g.lan_routes.empty(), flow_list(g.lan_routes, [](const auto& p) { return p.to_string(); }))},
        {"masquerade", g.masquerade ? "true" : "false"},
        {"egress_interface", optional_text(g.egress_interface.has_value(), scalar(g.egress_interface.value_or("")))},
        {"client_dns",
         optional_text(!g.client_dns.empty(), flow_list(g.client_dns, [](const auto& a) { return a.to_string(); }))},
        {"persistent_keepalive", std::to_string(g.persistent_keepalive)},
    };
}

FieldTexts peer_texts(const PeerConfig& p) {
    return {
        {"name", optional_text(!p.name.empty(), scalar(p.name))},
        {"public_key", scalar(crypto::key_to_base64(p.public_key))},
        {"preshared_key_file", optional_text(!p.preshared_key_file.empty(), scalar(p.preshared_key_file))},
        {"allowed_ips", flow_list(p.allowed_ips, [](const auto& a) { return a.to_string(); })},
        {"endpoint", optional_text(p.endpoint.has_value(), p.endpoint ? scalar(p.endpoint->to_string()) : "")},
        {"persistent_keepalive",
         optional_text(p.persistent_keepalive.has_value(), std::to_string(p.persistent_keepalive.value_or(0)))},
        {"disabled", optional_text(p.disabled, "true")},
    };
}

const std::optional<std::string>* find_text(const FieldTexts& texts, std::string_view key) {
    for (const auto& [k, v] : texts)
        if (k == key) return &v;
    return nullptr;
}

// ---------------------------------------------------------------- generated text

Lines fresh_fields(const FieldTexts& texts, std::size_t indent) {
    Lines out;
    for (const auto& [key, text] : texts)
        if (text) out.push_back(std::string(indent, ' ') + std::string(key) + ": " + *text);
    return out;
}

Lines fresh_item(const PeerConfig& peer, std::size_t dash_column) {
    Lines out = fresh_fields(peer_texts(peer), dash_column + kIndent);
    // public_key is always there, so the item has a first line for the dash.
    out.front().replace(dash_column, 1, "-");
    return out;
}

Lines fresh_peers(const std::vector<PeerConfig>& peers, std::size_t dash_column) {
    Lines out;
    for (const auto& peer : peers) {
        const Lines item = fresh_item(peer, dash_column);
        out.insert(out.end(), item.begin(), item.end());
    }
    return out;
}

constexpr std::string_view kDefaultHeader =
    "# wgate gateway configuration, read by `wgated --config FILE`.\n"
    "# wgated writes peer changes made at runtime back to this file; config/gateway.yaml\n"
    "# in the wgate sources explains every setting.\n";

// ---------------------------------------------------------------- the original text

Lines split_lines(std::string_view text) {
    Lines lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            lines.emplace_back(text.substr(start));
            break;
        }
        lines.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::string join_lines(const Lines& lines) {
    std::string out;
    for (const auto& line : lines) {
        out += line;
        out += '\n';
    }
    return out;
}

bool is_blank(const std::string& line) { return line.find_first_not_of(' ') == std::string::npos; }

bool is_comment(const std::string& line) {
    const auto first = line.find_first_not_of(' ');
    return first != std::string::npos && line[first] == '#';
}

bool is_content(const std::string& line) { return !is_blank(line) && !is_comment(line); }

// The comment block at the top of a file: kept even when everything else is generated.
Lines header_of(const Lines& lines) {
    Lines header;
    for (const auto& line : lines) {
        if (!is_blank(line) && !(line.front() == '#')) break;
        header.push_back(line);
    }
    while (!header.empty() && is_blank(header.back())) header.pop_back();
    return header;
}

std::string render_fresh(const GatewayConfig& config, std::string_view original) {
    Lines out = header_of(split_lines(original));
    if (out.empty()) out = split_lines(kDefaultHeader);
    out.emplace_back();
    out.emplace_back("interface:");
    for (auto& line : fresh_fields(interface_texts(config.interface), kIndent)) out.push_back(std::move(line));
    out.emplace_back();
    out.emplace_back("gateway:");
    for (auto& line : fresh_fields(gateway_texts(config.gateway), kIndent)) out.push_back(std::move(line));
    out.emplace_back();
    if (config.peers.empty()) {
        out.emplace_back("peers: []");
    } else {
        out.emplace_back("peers:");
        for (auto& line : fresh_peers(config.peers, kIndent)) out.push_back(std::move(line));
    }
    out.emplace_back();
    out.emplace_back(config.persist ? "persist: true" : "persist: false");
    return join_lines(out);
}

// The columns [first, second) of a value written on one line from `column`
// (a scalar, plain or quoted, or a flow list), when nothing but a comment
// follows it on that line. Anything else (values over several lines, flow
// mappings, anchors) is not edited in place.
std::optional<std::pair<std::size_t, std::size_t>> inline_extent(const std::string& line, std::size_t column,
                                                                  const YAML::Node& value) {
    if (column >= line.size()) return std::nullopt;
    std::size_t end = std::string::npos;
    const char first = line[column];
    if (first == '"' || first == '\'') {
        if (!value.IsScalar()) return std::nullopt;
        for (std::size_t i = column + 1; i < line.size(); ++i) {
            if (first == '"' && line[i] == '\\') {
                ++i;
            } else if (line[i] == first) {
                if (first == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
                    ++i;  // '' is a quote inside single quotes
                } else {
                    end = i + 1;
                    break;
                }
            }
        }
    } else if (first == '[') {
        if (!value.IsSequence()) return std::nullopt;
        int depth = 0;
        char quote = 0;
        for (std::size_t i = column; i < line.size(); ++i) {
            const char c = line[i];
            if (quote != 0) {
                if (c == '\\' && quote == '"') ++i;
                else if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '[') {
                ++depth;
            } else if (c == ']' && --depth == 0) {
                end = i + 1;
                break;
            }
        }
    } else {
        if (!value.IsScalar()) return std::nullopt;
        end = line.size();
        for (std::size_t i = column + 1; i < line.size(); ++i) {
            if (line[i] == '#' && line[i - 1] == ' ') {
                end = i;
                break;
            }
        }
        while (end > column && line[end - 1] == ' ') --end;
        // A plain scalar continued on the next line would not match.
        if (line.compare(column, end - column, value.Scalar()) != 0) return std::nullopt;
    }
    if (end == std::string::npos) return std::nullopt;
    const auto rest = line.find_first_not_of(' ', end);
    if (rest != std::string::npos && (line[rest] != '#' || rest == end)) return std::nullopt;
    return std::make_pair(column, end);
}

std::size_t line_of(const YAML::Node& node) {
    const int line = node.Mark().line;
    return line >= 0 ? static_cast<std::size_t>(line) : kNoLine;
}

std::size_t column_of(const YAML::Node& node) {
    const int column = node.Mark().column;
    return column >= 0 ? static_cast<std::size_t>(column) : kNoLine;
}

// One block mapping of the original: a section, or a peer item.
struct Unit {
    std::size_t begin = 0;  // lines [begin, end)
    std::size_t end = 0;
    YAML::Node map;
};

// Edits the unit's lines from the `before` values to the `after` values: a
// changed one-line value is replaced in place, a removed one loses its line,
// an added one gets a new line after the unit's last line of content.
// nullopt when that is not possible; the caller then generates the unit.
std::optional<Lines> patch(const Lines& original, const Unit& unit, const FieldTexts& before, const FieldTexts& after) {
    if (!unit.map.IsMap() || unit.map.size() == 0 || unit.map.Style() != YAML::EmitterStyle::Block) return std::nullopt;
    const std::size_t key_column = column_of(unit.map);
    if (key_column == kNoLine) return std::nullopt;
    Lines lines(original.begin() + static_cast<std::ptrdiff_t>(unit.begin),
                original.begin() + static_cast<std::ptrdiff_t>(unit.end));
    std::vector<bool> removed(lines.size(), false);
    std::vector<bool> edited(lines.size(), false);
    Lines added;

    for (const auto& [key, text] : after) {
        const auto* old_text = find_text(before, key);
        if (old_text == nullptr) return std::nullopt;
        if (*old_text == text) continue;
        // (A default YAML::Node is a defined null node, so presence is a flag.)
        bool present = false;
        YAML::Node key_node;
        YAML::Node value;
        for (auto it = unit.map.begin(); it != unit.map.end(); ++it) {
            if (it->first.IsScalar() && it->first.Scalar() == key) {
                present = true;
                key_node = it->first;
                value = it->second;
            }
        }
        if (!present) {
            if (!text) return std::nullopt;
            added.push_back(std::string(key_column, ' ') + std::string(key) + ": " + *text);
            continue;
        }
        const std::size_t line = line_of(key_node);
        if (line < unit.begin || line >= unit.end || value.IsNull() || line_of(value) != line) return std::nullopt;
        const std::size_t index = line - unit.begin;
        if (edited[index]) return std::nullopt;  // two values on one line: a flow mapping
        edited[index] = true;
        const auto extent = inline_extent(lines[index], column_of(value), value);
        if (!extent) return std::nullopt;
        if (text) {
            lines[index].replace(extent->first, extent->second - extent->first, *text);
        } else {
            // Only a line that holds just this key (not the '-' of a list item) can go.
            const std::size_t column = column_of(key_node);
            if (column == kNoLine || lines[index].find_first_not_of(' ') != column) return std::nullopt;
            removed[index] = true;
        }
    }

    Lines out;
    std::size_t insert_after = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (removed[i]) continue;
        out.push_back(lines[i]);
        if (is_content(lines[i])) insert_after = out.size();
    }
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(insert_after), added.begin(), added.end());
    return out;
}

// A section of the original text: the top-level key and the lines of its value.
struct Section {
    std::string key;
    YAML::Node value;
    std::size_t begin = 0;     // the key's line
    std::size_t end = 0;       // after the last line of content (comments above the next key excluded)
    std::size_t gap_end = 0;   // the next key's line, or the end of the file
};

// A section generated anew, keeping its key line (and the comment on it) when
// the value starts on a later line.
Lines regenerate_section(const Lines& original, const Section& section, const FieldTexts& texts) {
    Lines out;
    out.push_back(line_of(section.value) != section.begin && section.value.IsMap() ? original[section.begin]
                                                                                     : section.key + ":");
    for (auto& line : fresh_fields(texts, kIndent)) out.push_back(std::move(line));
    return out;
}

Lines render_map_section(const Lines& original, const Section& section, const FieldTexts& before,
                         const FieldTexts& after) {
    if (auto patched = patch(original, Unit{section.begin, section.end, section.value}, before, after)) return *patched;
    return regenerate_section(original, section, after);
}

// The line and column of the '-' that starts the list item whose content
// begins at (line, column): on the same line ("  - name: x"), or alone on an
// earlier one.
std::optional<std::pair<std::size_t, std::size_t>> dash_of(const Lines& original, std::size_t line, std::size_t column,
                                                           std::size_t key_line) {
    const std::string_view text = original[line];
    const std::string_view before = text.substr(0, std::min(column, text.size()));
    const auto first = before.find_first_not_of(' ');
    if (first != std::string_view::npos) {
        if (before[first] != '-' || before.find_first_not_of(' ', first + 1) != std::string_view::npos)
            return std::nullopt;
        return std::make_pair(line, first);
    }
    std::size_t dash = line;
    do {
        if (dash <= key_line + 1) return std::nullopt;
        --dash;
    } while (!is_content(original[dash]));
    const std::string& dash_text = original[dash];
    const auto at = dash_text.find_first_not_of(' ');
    if (dash_text[at] != '-') return std::nullopt;
    const auto rest = dash_text.find_first_not_of(' ', at + 1);
    if (rest != std::string::npos && (dash_text[rest] != '#' || rest == at + 1)) return std::nullopt;
    return std::make_pair(dash, at);
}

// The peers section: items matched by public key keep their text and the
// comments right above them.
std::optional<Lines> render_peers(const Lines& original, const Section& section, const std::vector<PeerConfig>& before,
                                  const std::vector<PeerConfig>& after) {
    const YAML::Node& list = section.value;
    Lines out;
    if (list.IsNull() || (list.IsSequence() && list.size() == 0)) {
        // "peers:" (perhaps with commented-out examples below) or "peers: []".
        std::string key_line = original[section.begin];
        if (list.IsSequence() && !after.empty()) {
            if (line_of(list) != section.begin) return std::nullopt;
            const auto extent = inline_extent(key_line, column_of(list), list);
            if (!extent) return std::nullopt;
            // "peers: []  # c" -> "peers:  # c"
            const std::size_t from = extent->first > 0 && key_line[extent->first - 1] == ' ' ? extent->first - 1
                                                                                            : extent->first;
            key_line.erase(from, extent->second - from);
            while (!key_line.empty() && key_line.back() == ' ') key_line.pop_back();
        }
        out.push_back(key_line);
        out.insert(out.end(), original.begin() + static_cast<std::ptrdiff_t>(section.begin + 1),
                   original.begin() + static_cast<std::ptrdiff_t>(section.end));
        const Lines items = fresh_peers(after, kIndent);
        out.insert(out.end(), items.begin(), items.end());
        return out;
    }
    if (!list.IsSequence() || list.Style() != YAML::EmitterStyle::Block || list.size() != before.size())
        return std::nullopt;

    // Where each item starts (its '-'), ends (after its last line of content),
    // and which comment lines right above it belong to it.
    struct Item {
        std::size_t dash = 0;
        std::size_t end = 0;
        std::size_t leading = 0;    // first line of the comment block right above it
        std::size_t separator = 0;  // first line between the previous item and the comment block
        YAML::Node node;
    };
    std::vector<Item> items;
    std::size_t dash_column = kNoLine;
    for (const auto& node : list) {
        const std::size_t line = line_of(node);
        const std::size_t column = column_of(node);
        if (line == kNoLine || column == kNoLine || line >= section.end) return std::nullopt;
        const auto dash = dash_of(original, line, column, section.begin);
        if (!dash) return std::nullopt;
        const auto [dash_line, dash_at] = *dash;
        if (dash_column == kNoLine) dash_column = dash_at;
        if (dash_at != dash_column) return std::nullopt;
        if (!items.empty() && dash_line <= items.back().dash) return std::nullopt;
        items.push_back({dash_line, 0, 0, 0, node});
    }
    for (std::size_t j = 0; j < items.size(); ++j) {
        const std::size_t limit = j + 1 < items.size() ? items[j + 1].dash : section.end;
        std::size_t end = items[j].dash + 1;
        for (std::size_t line = items[j].dash; line < limit; ++line)
            if (is_content(original[line])) end = line + 1;
        items[j].end = end;
        const std::size_t gap_begin = j == 0 ? section.begin + 1 : items[j - 1].end;
        std::size_t leading = items[j].dash;
        while (leading > gap_begin && is_comment(original[leading - 1])) --leading;
        items[j].leading = leading;
        items[j].separator = gap_begin;
    }
    // New items are set apart like the existing ones: by a blank line or not at all.
    bool blank_between = false;
    for (std::size_t j = 1; j < items.size(); ++j)
        for (std::size_t line = items[j].separator; line < items[j].leading; ++line)
            blank_between = blank_between || is_blank(original[line]);

    const auto copy = [&](std::size_t from, std::size_t to) {
        out.insert(out.end(), original.begin() + static_cast<std::ptrdiff_t>(from),
                   original.begin() + static_cast<std::ptrdiff_t>(to));
    };
    copy(section.begin, items.front().leading);  // the key line and what stands above the first item

    std::map<crypto::PublicKey, std::vector<std::size_t>> by_key;
    for (std::size_t j = before.size(); j-- > 0;) by_key[before[j].public_key].push_back(j);
    bool first = true;
    for (const auto& peer : after) {
        std::optional<std::size_t> match;
        if (auto it = by_key.find(peer.public_key); it != by_key.end() && !it->second.empty()) {
            match = it->second.back();
            it->second.pop_back();
        }
        if (!match) {
            if (!first && blank_between) out.emplace_back();
            const Lines fresh = fresh_item(peer, dash_column);
            out.insert(out.end(), fresh.begin(), fresh.end());
        } else {
            const Item& item = items[*match];
            if (!first) {
                if (*match == 0) {
                    if (blank_between) out.emplace_back();
                } else {
                    copy(item.separator, item.leading);
                }
            }
            copy(item.leading, item.dash);
            if (before[*match] == peer) {
                copy(item.dash, item.end);
            } else {
                const Unit unit{item.dash, item.end, item.node};
                auto patched = patch(original, unit, peer_texts(before[*match]), peer_texts(peer));
                const Lines lines = patched ? *patched : fresh_item(peer, dash_column);
                out.insert(out.end(), lines.begin(), lines.end());
            }
        }
        first = false;
    }
    copy(items.back().end, section.end);  // comments after the last item
    return out;
}

std::optional<std::string> render_preserving(const GatewayConfig& config, std::string_view original,
                                             const std::string& name) {
    // yaml-cpp counts "\r" as a line break of its own; keep it simple.
    if (original.empty() || original.find('\r') != std::string_view::npos) return std::nullopt;
    YAML::Node root;
    GatewayConfig before;
    try {
        root = detail::load_yaml(original, name);
        if (!root.IsMap() || root.Style() != YAML::EmitterStyle::Block) return std::nullopt;
        before = detail::parse_tree(root, name, original);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const Lines lines = split_lines(original);

    std::vector<Section> sections;
    for (auto it = root.begin(); it != root.end(); ++it) {
        const std::size_t line = line_of(it->first);
        if (line == kNoLine || line >= lines.size() || column_of(it->first) != 0) return std::nullopt;
        if (!sections.empty() && line <= sections.back().begin) return std::nullopt;
        sections.push_back({it->first.Scalar(), it->second, line, 0, 0});
    }
    if (sections.empty()) return std::nullopt;
    for (std::size_t i = 0; i < sections.size(); ++i) {
        Section& s = sections[i];
        s.gap_end = i + 1 < sections.size() ? sections[i + 1].begin : lines.size();
        // Blank lines and comments in the first column after a section are
        // about the next one (or the end of the file).
        s.end = s.begin + 1;
        for (std::size_t line = s.begin + 1; line < s.gap_end; ++line)
            if (!is_blank(lines[line]) && lines[line].front() != '#') s.end = line + 1;
    }

    Lines out(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(sections.front().begin));
    bool has_interface = false, has_gateway = false, has_peers = false, has_persist = false;
    for (const auto& s : sections) {
        Lines body;
        if (s.key == "interface") {
            has_interface = true;
            body = config.interface == before.interface
                       ? Lines(lines.begin() + static_cast<std::ptrdiff_t>(s.begin),
                               lines.begin() + static_cast<std::ptrdiff_t>(s.end))
                       : render_map_section(lines, s, interface_texts(before.interface),
                                            interface_texts(config.interface));
        } else if (s.key == "gateway") {
            has_gateway = true;
            body = config.gateway == before.gateway
                       ? Lines(lines.begin() + static_cast<std::ptrdiff_t>(s.begin),
                               lines.begin() + static_cast<std::ptrdiff_t>(s.end))
                       : render_map_section(lines, s, gateway_texts(before.gateway), gateway_texts(config.gateway));
        } else if (s.key == "peers") {
            has_peers = true;
            if (config.peers == before.peers) {
                body.assign(lines.begin() + static_cast<std::ptrdiff_t>(s.begin),
                            lines.begin() + static_cast<std::ptrdiff_t>(s.end));
            } else if (auto peers = render_peers(lines, s, before.peers, config.peers)) {
                body = std::move(*peers);
            } else {
                body.push_back(s.key + (config.peers.empty() ? ": []" : ":"));
                for (auto& line : fresh_peers(config.peers, kIndent)) body.push_back(std::move(line));
            }
        } else if (s.key == "persist") {
            has_persist = true;
            std::string line = lines[s.begin];
            if (config.persist != before.persist) {
                const auto extent = line_of(s.value) == s.begin && !s.value.IsNull()
                                        ? inline_extent(line, column_of(s.value), s.value)
                                        : std::nullopt;
                if (extent)
                    line.replace(extent->first, extent->second - extent->first, config.persist ? "true" : "false");
                else
                    line = config.persist ? "persist: true" : "persist: false";
                body.push_back(line);
            } else {
                body.assign(lines.begin() + static_cast<std::ptrdiff_t>(s.begin),
                            lines.begin() + static_cast<std::ptrdiff_t>(s.end));
            }
        } else {
            return std::nullopt;
        }
        out.insert(out.end(), body.begin(), body.end());
        out.insert(out.end(), lines.begin() + static_cast<std::ptrdiff_t>(s.end),
                   lines.begin() + static_cast<std::ptrdiff_t>(s.gap_end));
    }

    // Sections the original left out (their defaults) that now have settings.
    const auto append = [&](std::string key, const Lines& body) {
        if (!out.empty() && !is_blank(out.back())) out.emplace_back();
        out.push_back(std::move(key));
        out.insert(out.end(), body.begin(), body.end());
    };
    if (!has_interface && config.interface != InterfaceConfig{})
        append("interface:", fresh_fields(interface_texts(config.interface), kIndent));
    if (!has_gateway && config.gateway != GatewaySettings{})
        append("gateway:", fresh_fields(gateway_texts(config.gateway), kIndent));
    if (!has_peers && !config.peers.empty()) append("peers:", fresh_peers(config.peers, kIndent));
    if (!has_persist && !config.persist) append("persist: false", {});
    return join_lines(out);
}

bool reads_back(const std::string& text, const GatewayConfig& config, const std::string& name) {
    try {
        return parse_gateway_config(text, name) == config;
    } catch (const ConfigError&) {
        return false;
    }
}

}  // namespace

std::string render_gateway_config(const GatewayConfig& config, std::string_view original_text) {
    const std::string name = config.source.path.empty() ? "(config)" : config.source.path;
    // A config wgated would refuse at start is never written.
    check_gateway_config(config);
    std::optional<std::string> text;
    try {
        text = render_preserving(config, original_text, name);
    } catch (const std::exception&) {
        // yaml-cpp surprises in the original text: generate instead.
        text.reset();
    }
    if (text && reads_back(*text, config, name)) return *text;

    std::string fresh = render_fresh(config, original_text);
    GatewayConfig back;
    try {
        back = parse_gateway_config(fresh, name);
    } catch (const ConfigError& e) {
        throw ConfigError(name, 0, "", "cannot be written: the generated YAML does not read back (" + e.message() + ")");
    }
    if (back != config)
        throw ConfigError(name, 0, "", "cannot be written: a setting does not survive the trip through YAML");
    return fresh;
}

}  // namespace wgate::config
