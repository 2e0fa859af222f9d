// Atomic replacement: contents, mode and owner kept, no temporary files left,
// the original intact on every failure, and never a torn file after kill -9.
#include "wgate/config/atomic_file.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <system_error>
#include <thread>

#include "config_test_util.hpp"
#include "wgate/config/gateway_config.hpp"

namespace wgate::config {
namespace {

using test::mode_of;
using test::read_text;
using test::TempDir;
using test::write_text;

std::string error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const std::system_error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(AtomicFile, CreatesANewFileWithMode0600) {
    TempDir dir;
    write_file_atomically(dir / "new.yaml", "hello\n");
    EXPECT_EQ(read_text(dir / "new.yaml"), "hello\n");
    EXPECT_EQ(mode_of(dir / "new.yaml"), 0600u);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"new.yaml"});
    write_file_atomically(dir / "empty", "");
    EXPECT_EQ(read_text(dir / "empty"), "");
}

TEST(AtomicFile, ReplacesKeepingModeAndOwner) {
    TempDir dir;
    write_text(dir / "gw.yaml", "old\n", 0640);
    const bool root = ::geteuid() == 0;
    if (root) {
        ASSERT_EQ(::chown((dir / "gw.yaml").c_str(), 1234, 2345), 0);
    }
    write_file_atomically(dir / "gw.yaml", "new contents\n");
    EXPECT_EQ(read_text(dir / "gw.yaml"), "new contents\n");
    EXPECT_EQ(mode_of(dir / "gw.yaml"), 0640u);
    if (root) {
        struct stat st {};
        ASSERT_EQ(::stat((dir / "gw.yaml").c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 1234u);
        EXPECT_EQ(st.st_gid, 2345u);
    }
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"gw.yaml"});
    // An explicit mode wins (key files are always 0600).
    write_file_atomically(dir / "gw.yaml", "x", AtomicWriteOptions{.mode = 0600});
    EXPECT_EQ(mode_of(dir / "gw.yaml"), 0600u);
}

TEST(AtomicFile, BigContents) {
    TempDir dir;
    std::string big(5 << 20, '\0');
    std::mt19937 rng(3);
    for (auto& c : big) c = static_cast<char>(rng());
    write_file_atomically(dir / "big", big);
    EXPECT_EQ(read_text(dir / "big"), big);
}

TEST(AtomicFile, NoReplaceRefusesAnExistingFile) {
    TempDir dir;
    write_text(dir / "k", "original");
    const std::string error = error_of([&] {
        write_file_atomically(dir / "k", "other", AtomicWriteOptions{.mode = std::nullopt, .replace_existing = false});
    });
    EXPECT_NE(error.find("already exists"), std::string::npos) << error;
    EXPECT_EQ(read_text(dir / "k"), "original");
    write_file_atomically(dir / "fresh", "made", AtomicWriteOptions{.mode = std::nullopt, .replace_existing = false});
    EXPECT_EQ(read_text(dir / "fresh"), "made");
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"fresh", "k"}));
}

TEST(AtomicFile, FollowsASymbolicLink) {
    TempDir dir;
    std::filesystem::create_directory(dir / "real");
    write_text(dir / "real/gw.yaml", "old", 0640);
    std::filesystem::create_symlink("real/gw.yaml", dir / "gw.yaml");
    write_file_atomically(dir / "gw.yaml", "new");
    EXPECT_TRUE(std::filesystem::is_symlink(dir / "gw.yaml"));
    EXPECT_EQ(read_text(dir / "real/gw.yaml"), "new");
    EXPECT_EQ(mode_of(dir / "real/gw.yaml"), 0640u);
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"gw.yaml", "real"}));
}

TEST(AtomicFile, RefusesADirectoryOrAMissingDirectory) {
    TempDir dir;
    std::filesystem::create_directory(dir / "sub");
    EXPECT_NE(error_of([&] { write_file_atomically(dir / "sub", "x"); }).find("not a regular file"), std::string::npos);
    const std::string error = error_of([&] { write_file_atomically(dir / "missing/gw.yaml", "x"); });
    EXPECT_NE(error.find("cannot write " + (dir / "missing/gw.yaml") + ": cannot create a temporary file"),
              std::string::npos)
        << error;
}

TEST(AtomicFile, ReadOnlyDirectoryLeavesTheOriginal) {
    TempDir dir;
    std::filesystem::create_directory(dir / "ro");
    write_text(dir / "ro/gw.yaml", "original\n", 0644);
    ::chmod((dir / "ro").c_str(), 0555);
    // Root writes anywhere: try as nobody.
    const int status = test::run_unprivileged([&] {
        try {
            write_file_atomically(dir / "ro/gw.yaml", "new\n");
            return 1;
        } catch (const std::system_error& e) {
            return e.code() == std::errc::permission_denied ? 0 : 2;
        }
    });
    if (status == test::kCannotDropPrivileges) GTEST_SKIP() << "cannot switch to an unprivileged user";
    EXPECT_EQ(status, 0);
    EXPECT_EQ(read_text(dir / "ro/gw.yaml"), "original\n");
    ::chmod((dir / "ro").c_str(), 0755);
    EXPECT_EQ(std::filesystem::directory_iterator(dir / "ro")->path().filename(), "gw.yaml");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "ro"), {}), 1);
}

// A write that fails half way (here: the file size limit, EFBIG) removes the
// temporary file and leaves the original as it was.
TEST(AtomicFile, FailedWriteLeavesTheOriginal) {
    TempDir dir;
    write_text(dir / "gw.yaml", "original\n", 0600);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{4096, 4096};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        int status = 1;
        try {
            write_file_atomically(dir / "gw.yaml", std::string(100000, 'x'));
        } catch (const std::system_error& e) {
            status = std::string(e.what()).find("writing the temporary file failed") != std::string::npos ? 0 : 2;
        }
        ::_exit(status);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(read_text(dir / "gw.yaml"), "original\n");
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"gw.yaml"});
}

TEST(AtomicFile, RemovesStaleTemporaries) {
    TempDir dir;
    write_text(dir / "gw.yaml", "x");
    write_text(dir / ".gw.yaml.tmp-abc123", "stale");
    write_text(dir / ".gw.yaml.tmp-XYZ789", "stale");
    write_text(dir / ".gw.yaml.tmp-toolong1", "not ours");
    write_text(dir / ".other.yaml.tmp-abc123", "not ours");
    EXPECT_EQ(remove_stale_temporaries(dir / "gw.yaml"), 2u);
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{".gw.yaml.tmp-toolong1", ".other.yaml.tmp-abc123", "gw.yaml"}));
    EXPECT_EQ(remove_stale_temporaries(dir / "nowhere/gw.yaml"), 0u);
}

// A writer killed with SIGKILL at random moments: the file is always one of
// the two versions, complete, and parses.
TEST(AtomicFile, KillNineNeverLeavesATornFile) {
    TempDir dir;
    const auto version = [](int peers, std::uint8_t salt) {
        std::string text = "# version " + std::to_string(peers) + "\ninterface:\n  addresses: [10.8.0.1/16]\npeers:\n";
        for (int i = 0; i < peers; ++i) {
            crypto::Bytes<32> key{};
            key[0] = static_cast<std::uint8_t>(i);
            key[1] = static_cast<std::uint8_t>(i >> 8);
            key[2] = salt;
            text += "  - name: peer-" + std::to_string(i) + "\n    public_key: " + crypto::key_to_base64(key) +
                    "\n    allowed_ips: [10.8." + std::to_string((i + 2) / 256) + "." + std::to_string((i + 2) % 256) +
                    "/32]\n";
        }
        return text;
    };
    const std::string a = version(1500, 1);  // about 150 kB
    const std::string b = version(1700, 2);
    const std::string path = dir / "gw.yaml";
    write_file_atomically(path, a);
    const auto parsed_a = parse_gateway_config(a, path);
    const auto parsed_b = parse_gateway_config(b, path);

    std::mt19937 rng(5);
    int killed_mid_write = 0;
    for (int round = 0; round < 25; ++round) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            try {
                for (std::uint64_t i = 0;; ++i) write_file_atomically(path, i % 2 ? a : b);
            } catch (...) {
                ::_exit(3);
            }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 20000));
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status));

        const std::string now = read_text(path);
        ASSERT_TRUE(now == a || now == b) << "torn file of " << now.size() << " bytes in round " << round;
        const auto parsed = load_gateway_config(path);
        EXPECT_TRUE(parsed == parsed_a || parsed == parsed_b);
        EXPECT_EQ(test::mode_of(path), 0600u);
        // A temporary left behind means the kill hit a write in progress.
        killed_mid_write += static_cast<int>(remove_stale_temporaries(path));
    }
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"gw.yaml"});
    std::cout << "[          ] " << killed_mid_write << " of 25 kills interrupted a write\n";
}

}  // namespace
}  // namespace wgate::config
