// io::Nat through libnftables in a private network namespace, checked with
// `nft -j` (the nft command) as an independent reader.
#include "wgate/io/nat.hpp"

#include <sched.h>

#include <map>

#include "host_test_util.hpp"

namespace wgate::io {
namespace {

using host_test::must_run;
using host_test::run;
using host_test::run_json;
using nlohmann::json;

core::IpPrefix prefix(std::string_view text) { return core::IpPrefix::parse(text).value(); }

NatRules lab_rules() {
    return NatRules{"wg0", {prefix("192.168.50.0/24"), prefix("fd50::/64")}, "eth0", true};
}

struct TableView {
    std::map<std::string, json> chains;             // name -> chain object
    std::map<std::string, std::vector<json>> rules;  // chain -> rule expression lists
};

TableView nft_table(const std::string& table) {
    TableView view;
    const json j = run_json("nft -j list table inet " + table);
    for (const auto& item : j.value("nftables", json::array())) {
        if (item.contains("chain")) view.chains[item["chain"].value("name", "")] = item["chain"];
        if (item.contains("rule")) view.rules[item["rule"].value("chain", "")].push_back(item["rule"]["expr"]);
    }
    return view;
}

bool rule_has(const json& expr, const std::string& needle) { return expr.dump().find(needle) != std::string::npos; }

// Unrelated tables that must survive whatever we do.
void add_foreign_tables() {
    must_run("nft add table inet other");
    must_run("nft add chain inet other input '{ type filter hook input priority 0; policy accept; }'");
    must_run("nft add rule inet other input tcp dport 22 counter accept");
    must_run("nft add table ip filter");
    must_run("nft add table inet wgate-other0");  // another wgated's table
}

void expect_foreign_tables_intact() {
    const std::string out = must_run("nft list ruleset");
    EXPECT_NE(out.find("table inet other"), std::string::npos) << out;
    EXPECT_NE(out.find("tcp dport 22 counter"), std::string::npos) << out;
    EXPECT_NE(out.find("table ip filter"), std::string::npos) << out;
    EXPECT_NE(out.find("table inet wgate-other0"), std::string::npos) << out;
}

TEST(NatRender, WritesTheExpectedScript) {
    const std::string s = Nat::render("wgate-wg0", lab_rules());
    EXPECT_NE(s.find("table inet wgate-wg0 {"), std::string::npos);
    EXPECT_NE(s.find("type filter hook forward priority filter; policy accept;"), std::string::npos);
    EXPECT_NE(s.find("iifname \"wg0\" ip daddr { 192.168.50.0/24 } counter accept"), std::string::npos) << s;
    EXPECT_NE(s.find("iifname \"wg0\" ip6 daddr { fd50::/64 } counter accept"), std::string::npos) << s;
    EXPECT_NE(s.find("oifname \"wg0\" ct state established,related counter accept"), std::string::npos) << s;
    EXPECT_NE(s.find("type nat hook postrouting priority srcnat; policy accept;"), std::string::npos) << s;
    EXPECT_NE(s.find("iifname \"wg0\" oifname \"eth0\" ip daddr { 192.168.50.0/24 } counter masquerade"),
              std::string::npos)
        << s;

    NatRules no_masq = lab_rules();
    no_masq.masquerade = false;
    EXPECT_EQ(Nat::render("wgate-wg0", no_masq).find("postrouting"), std::string::npos);

    NatRules any_egress = lab_rules();
    any_egress.egress_ifname.clear();
    EXPECT_EQ(Nat::render("wgate-wg0", any_egress).find("oifname \"eth0\""), std::string::npos);

    // Overlaps and duplicates merged (nft refuses overlapping set elements).
    NatRules overlap = lab_rules();
    overlap.lan_prefixes = {prefix("10.0.0.0/8"), prefix("10.1.0.0/16"), prefix("10.0.0.0/8"), prefix("172.16.0.0/12")};
    const std::string o = Nat::render("wgate-wg0", overlap);
    EXPECT_NE(o.find("ip daddr { 10.0.0.0/8, 172.16.0.0/12 }"), std::string::npos) << o;
    EXPECT_EQ(o.find("ip6 daddr"), std::string::npos) << o;
}

TEST(NatRender, RefusesNamesThatCouldEscape) {
    NatRules evil = lab_rules();
    evil.tunnel_ifname = "wg0\" accept; flush ruleset; #";
    EXPECT_THROW(Nat::render("wgate-wg0", evil), std::invalid_argument);
    evil = lab_rules();
    evil.egress_ifname = "eth 0";
    EXPECT_THROW(Nat::render("wgate-wg0", evil), std::invalid_argument);
    EXPECT_THROW(Nat::render("filter", lab_rules()), std::invalid_argument);         // not ours
    EXPECT_THROW(Nat::render("wgate-", lab_rules()), std::invalid_argument);         // prefix only
    EXPECT_THROW(Nat::render("wgate-a b", lab_rules()), std::invalid_argument);
    EXPECT_THROW(Nat::render("wgate-x;flush", lab_rules()), std::invalid_argument);
    EXPECT_EQ(nat_table_name("wg0"), "wgate-wg0");
}

class NatTest : public host_test::NamespaceTest {};

TEST_F(NatTest, InstallsTheTableWithItsChainsAndRules) {
    add_foreign_tables();
    Nat nat;
    EXPECT_FALSE(nat.exists("wgate-wg0"));
    nat.install("wgate-wg0", lab_rules());
    EXPECT_TRUE(nat.exists("wgate-wg0"));

    const TableView t = nft_table("wgate-wg0");
    ASSERT_EQ(t.chains.count("forward"), 1u);
    ASSERT_EQ(t.chains.count("postrouting"), 1u);
    const json& fwd = t.chains.at("forward");
    EXPECT_EQ(fwd.value("type", ""), "filter");
    EXPECT_EQ(fwd.value("hook", ""), "forward");
    EXPECT_EQ(fwd.value("prio", -1), 0);
    EXPECT_EQ(fwd.value("policy", ""), "accept");
    const json& post = t.chains.at("postrouting");
    EXPECT_EQ(post.value("type", ""), "nat");
    EXPECT_EQ(post.value("hook", ""), "postrouting");
    EXPECT_EQ(post.value("prio", -1), 100);  // srcnat

    ASSERT_EQ(t.rules.at("forward").size(), 3u);
    EXPECT_TRUE(rule_has(t.rules.at("forward")[0], "\"iifname\"") && rule_has(t.rules.at("forward")[0], "192.168.50.0"));
    EXPECT_TRUE(rule_has(t.rules.at("forward")[1], "fd50::"));
    EXPECT_TRUE(rule_has(t.rules.at("forward")[2], "established") && rule_has(t.rules.at("forward")[2], "related"));
    ASSERT_EQ(t.rules.at("postrouting").size(), 2u);
    for (const auto& r : t.rules.at("postrouting")) {
        EXPECT_TRUE(rule_has(r, "\"masquerade\"")) << r.dump();
        EXPECT_TRUE(rule_has(r, "\"oifname\"") && rule_has(r, "\"eth0\"")) << r.dump();
        EXPECT_TRUE(rule_has(r, "\"counter\"")) << r.dump();
    }
    expect_foreign_tables_intact();

    // Read-only views for the doctor, as JSON.
    const auto table_json = json::parse(nat.list_table("wgate-wg0").value(), nullptr, false);
    ASSERT_FALSE(table_json.is_discarded());
    EXPECT_TRUE(table_json.contains("nftables"));
    const auto ruleset = json::parse(nat.list_ruleset(), nullptr, false);
    ASSERT_FALSE(ruleset.is_discarded());
    const std::string dumped = ruleset.dump();
    EXPECT_NE(dumped.find("wgate-wg0"), std::string::npos);
    EXPECT_NE(dumped.find("\"other\""), std::string::npos);
    EXPECT_FALSE(nat.list_table("wgate-absent").has_value());
}

TEST_F(NatTest, ReinstallReplacesInsteadOfAdding) {
    add_foreign_tables();
    Nat nat;
    nat.install("wgate-wg0", lab_rules());
    nat.install("wgate-wg0", lab_rules());
    TableView t = nft_table("wgate-wg0");
    EXPECT_EQ(t.rules.at("forward").size(), 3u);
    EXPECT_EQ(t.rules.at("postrouting").size(), 2u);

    // New configuration: the old prefix is gone, masquerade off removes the nat chain.
    NatRules changed{"wg0", {prefix("10.20.0.0/16")}, "", false};
    nat.install("wgate-wg0", changed);
    t = nft_table("wgate-wg0");
    EXPECT_EQ(t.chains.count("postrouting"), 0u);
    ASSERT_EQ(t.rules.at("forward").size(), 2u);
    EXPECT_TRUE(rule_has(t.rules.at("forward")[0], "10.20.0.0"));
    EXPECT_FALSE(must_run("nft list table inet wgate-wg0").find("192.168.50.0") != std::string::npos);
    expect_foreign_tables_intact();

    // A second instance's table is independent.
    nat.install("wgate-wg1", NatRules{"wg1", {prefix("10.30.0.0/16")}, "", true});
    EXPECT_TRUE(nat.exists("wgate-wg0"));
    EXPECT_TRUE(nat.exists("wgate-wg1"));
}

TEST_F(NatTest, RemoveDeletesOnlyOurTable) {
    add_foreign_tables();
    Nat nat;
    nat.install("wgate-wg0", lab_rules());
    EXPECT_TRUE(nat.remove("wgate-wg0"));
    EXPECT_FALSE(nat.exists("wgate-wg0"));
    EXPECT_NE(run("nft list table inet wgate-wg0").status, 0);
    EXPECT_FALSE(nat.remove("wgate-wg0"));  // absent: no error
    EXPECT_THROW(nat.remove("other"), std::invalid_argument);  // never someone else's
    expect_foreign_tables_intact();
}

TEST_F(NatTest, FailuresCarryNftsMessage) {
    const int code = host_test::in_child([] {
        // No CAP_NET_ADMIN over this namespace from a new user namespace.
        if (::unshare(CLONE_NEWUSER) != 0) return 77;
        Nat nat;
        try {
            nat.install("wgate-wg0", lab_rules());
        } catch (const NftError& e) {
            const std::string what = e.what();
            std::fprintf(stderr, "%s\n", e.what());
            return what.find("installing table inet wgate-wg0") != std::string::npos &&
                           what.find("Operation not permitted") != std::string::npos
                       ? 0
                       : 2;
        }
        return 3;
    });
    if (code == 77) GTEST_SKIP() << "user namespaces unavailable";
    EXPECT_EQ(code, 0);
    Nat nat;
    EXPECT_FALSE(nat.exists("wgate-wg0"));
}

}  // namespace
}  // namespace wgate::io
