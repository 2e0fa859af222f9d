// Write coalescing on a virtual clock, and saving the config over its text.
#include "wgate/config/persister.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config_test_util.hpp"

namespace wgate::config {
namespace {

using namespace std::chrono_literals;
using test::read_text;
using test::TempDir;
using test::write_text;

core::Duration at(std::chrono::milliseconds ms) { return std::chrono::duration_cast<core::Duration>(ms); }

// The daemon's loop in miniature: advance the clock in 1 ms steps, call
// `change` at each step, and write whenever the coalescer says so.
struct Loop {
    WriteCoalescer writes;
    std::vector<core::Duration> written_at;

    void run(std::chrono::milliseconds until, const std::function<bool(std::chrono::milliseconds)>& change) {
        for (auto t = 0ms; t <= until; t += 1ms) {
            if (change(t)) writes.mark_dirty(at(t));
            if (writes.due(at(t))) {
                written_at.push_back(at(t));
                writes.mark_written();
            }
        }
    }
};

TEST(WriteCoalescer, CleanIsNeverDue) {
    WriteCoalescer w;
    EXPECT_FALSE(w.dirty());
    EXPECT_FALSE(w.deadline());
    EXPECT_FALSE(w.due(at(1000000ms)));
}

TEST(WriteCoalescer, OneChangeWritesAfterTheQuietDelay) {
    WriteCoalescer w;
    w.mark_dirty(at(1000ms));
    EXPECT_TRUE(w.dirty());
    EXPECT_EQ(w.deadline(), at(1200ms));
    EXPECT_FALSE(w.due(at(1199ms)));
    EXPECT_TRUE(w.due(at(1200ms)));
    w.mark_written();
    EXPECT_FALSE(w.dirty());
    EXPECT_FALSE(w.due(at(5000ms)));
}

TEST(WriteCoalescer, ABurstWritesOnce) {
    // A `wg setconf` with thousands of lines: 5000 changes within 50 ms.
    Loop loop;
    int changes = 0;
    loop.run(3000ms, [&](auto t) {
        if (t >= 100ms && t < 150ms) {
            for (int i = 0; i < 100; ++i) {
                loop.writes.mark_dirty(at(t));
                ++changes;
            }
        }
        return false;
    });
    EXPECT_EQ(changes, 5000);
    ASSERT_EQ(loop.written_at.size(), 1u);
    EXPECT_EQ(loop.written_at[0], at(349ms));  // 200 ms after the last change
}

TEST(WriteCoalescer, ASteadyTrickleStillReachesTheDisk) {
    // A change every 100 ms for 10 s never leaves 200 ms of quiet; the 2 s
    // limit writes anyway.
    Loop loop;
    core::Duration first_unwritten{};
    bool pending = false;
    std::vector<core::Duration> waits;
    WriteCoalescer& w = loop.writes;
    for (auto t = 0ms; t <= 12000ms; t += 1ms) {
        if (t % 100ms == 0ms && t < 10000ms) {
            if (!pending) first_unwritten = at(t);
            pending = true;
            w.mark_dirty(at(t));
        }
        if (w.due(at(t))) {
            loop.written_at.push_back(at(t));
            waits.push_back(at(t) - first_unwritten);
            w.mark_written();
            pending = false;
        }
    }
    EXPECT_GE(loop.written_at.size(), 5u);
    EXPECT_LE(loop.written_at.size(), 6u);
    for (const auto wait : waits) EXPECT_LE(wait, at(2000ms));
    EXPECT_FALSE(w.dirty());
    EXPECT_EQ(loop.written_at.back(), at(10100ms));  // 200 ms after the last change at 9900 ms
}

TEST(WriteCoalescer, FailedWriteRetriesLater) {
    WriteCoalescer w(WriteCoalescer::Delays{.quiet = 200ms, .max = 2s, .retry = 5s});
    w.mark_dirty(at(0ms));
    ASSERT_TRUE(w.due(at(200ms)));
    w.mark_failed(at(200ms));
    EXPECT_TRUE(w.dirty());
    EXPECT_EQ(w.deadline(), at(5200ms));
    // More changes do not bring the retry forward.
    w.mark_dirty(at(300ms));
    EXPECT_FALSE(w.due(at(5199ms)));
    EXPECT_TRUE(w.due(at(5200ms)));
    w.mark_written();
    EXPECT_FALSE(w.dirty());
    // And the next change is back to the usual delay.
    w.mark_dirty(at(6000ms));
    EXPECT_EQ(w.deadline(), at(6200ms));
}

const std::string kConfig =
    "# my gateway\n"
    "interface:\n"
    "  addresses: [10.8.0.1/24]  # the pool\n"
    "peers: []\n";

TEST(SaveGatewayConfig, WritesAndReturnsTheNewText) {
    TempDir dir;
    write_text(dir / "gw.yaml", kConfig, 0640);
    auto config = load_gateway_config(dir / "gw.yaml");
    PeerConfig peer;
    peer.name = "alice";
    peer.public_key = test::key_bytes(1);
    peer.allowed_ips = {core::IpPrefix::parse("10.8.0.2/32").value()};
    config.peers.push_back(peer);
    const std::string text = save_gateway_config(config.source.path, config, config.source.text);
    EXPECT_EQ(read_text(dir / "gw.yaml"), text);
    EXPECT_EQ(text.rfind("# my gateway\ninterface:\n  addresses: [10.8.0.1/24]  # the pool\npeers:\n  - name: alice\n", 0),
              0u)
        << text;
    EXPECT_EQ(test::mode_of(dir / "gw.yaml"), 0640u);
    EXPECT_EQ(load_gateway_config(dir / "gw.yaml"), config);
    // The returned text is the base of the next save.
    config.peers.clear();
    const std::string again = save_gateway_config(config.source.path, config, text);
    EXPECT_EQ(again, "# my gateway\ninterface:\n  addresses: [10.8.0.1/24]  # the pool\npeers:\n");
    EXPECT_EQ(load_gateway_config(dir / "gw.yaml"), config);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"gw.yaml"});
}

TEST(SaveGatewayConfig, DoesNotOverwriteAnEditMadeMeanwhile) {
    TempDir dir;
    write_text(dir / "gw.yaml", kConfig);
    auto config = load_gateway_config(dir / "gw.yaml");
    const std::string edited = kConfig + "# edited by hand\n";
    write_text(dir / "gw.yaml", edited);
    config.persist = false;
    try {
        save_gateway_config(dir / "gw.yaml", config, config.source.text);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("was changed on disk since wgated read it"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("restart wgated"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_text(dir / "gw.yaml"), edited);
    // A file that is gone is simply written again.
    std::filesystem::remove(dir / "gw.yaml");
    save_gateway_config(dir / "gw.yaml", config, config.source.text);
    EXPECT_FALSE(load_gateway_config(dir / "gw.yaml").persist);
}

TEST(SaveGatewayConfig, ReportsAFailedWrite) {
    TempDir dir;
    write_text(dir / "gw.yaml", kConfig, 0644);  // readable by nobody, in a directory nobody cannot write
    auto config = load_gateway_config(dir / "gw.yaml");
    config.interface.mtu = 1400;
    ::chmod(dir.path().c_str(), 0555);
    const int status = test::run_unprivileged([&] {
        try {
            save_gateway_config(dir / "gw.yaml", config, config.source.text);
            return 1;
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            return what.find(dir / "gw.yaml" + ": cannot write") == 0 &&
                           what.find("the file keeps its previous contents") != std::string::npos
                       ? 0
                       : 2;
        }
    });
    ::chmod(dir.path().c_str(), 0755);
    if (status == test::kCannotDropPrivileges) GTEST_SKIP() << "cannot switch to an unprivileged user";
    EXPECT_EQ(status, 0);
    EXPECT_EQ(read_text(dir / "gw.yaml"), kConfig);
}

}  // namespace
}  // namespace wgate::config
