// Key files: reading with every refusal, writing 0600, generating the
// gateway key on first start without ever replacing one.
#include "wgate/config/key_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <system_error>

#include "config_test_util.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/random.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::config {
namespace {

using test::key_bytes;
using test::key_text;
using test::mode_of;
using test::read_text;
using test::TempDir;
using test::write_text;

KeyFileError::Kind kind_of_error(const std::string& path, KeyKind kind = KeyKind::private_key) {
    try {
        read_key_file(path, kind);
    } catch (const KeyFileError& e) {
        EXPECT_EQ(e.path(), path);
        EXPECT_EQ(std::string(e.what()), path + ": " + e.problem() + "; " + e.fix());
        return e.kind();
    }
    ADD_FAILURE() << path << " was accepted";
    return KeyFileError::Kind::missing;
}

TEST(KeyFile, ReadsWhatWgGenkeyWrites) {
    TempDir dir;
    write_text(dir / "k", key_text(9) + "\n");
    EXPECT_EQ(read_key_file(dir / "k", KeyKind::private_key).bytes(), key_bytes(9));
    write_text(dir / "k", key_text(9));
    EXPECT_EQ(read_key_file(dir / "k", KeyKind::preshared_key).bytes(), key_bytes(9));
}

TEST(KeyFile, Refusals) {
    using Kind = KeyFileError::Kind;
    TempDir dir;
    EXPECT_EQ(kind_of_error(dir / "missing"), Kind::missing);
    std::filesystem::create_directory(dir / "d");
    EXPECT_EQ(kind_of_error(dir / "d"), Kind::not_regular);
    write_text(dir / "open", key_text(1), 0644);
    EXPECT_EQ(kind_of_error(dir / "open"), Kind::too_open);
    write_text(dir / "bad", "hello\n");
    EXPECT_EQ(kind_of_error(dir / "bad"), Kind::bad_contents);
    write_text(dir / "hex", std::string(64, 'a') + "\n");  // the UAPI's hex is not a key file
    EXPECT_EQ(kind_of_error(dir / "hex"), Kind::bad_contents);
    write_text(dir / "huge", std::string(1 << 20, 'A'));
    EXPECT_EQ(kind_of_error(dir / "huge"), Kind::bad_contents);
}

TEST(KeyFile, WritesMode0600) {
    TempDir dir;
    const crypto::Secret<32> key(key_bytes(4));
    write_key_file(dir / "psk", key, true);
    EXPECT_EQ(read_text(dir / "psk"), key_text(4) + "\n");
    EXPECT_EQ(mode_of(dir / "psk"), 0600u);
    // Replacing a too-open file fixes its mode too.
    ::chmod((dir / "psk").c_str(), 0644);
    write_key_file(dir / "psk", crypto::Secret<32>(key_bytes(5)), true);
    EXPECT_EQ(mode_of(dir / "psk"), 0600u);
    EXPECT_EQ(read_key_file(dir / "psk", KeyKind::preshared_key).bytes(), key_bytes(5));
}

TEST(KeyFile, CreatesThePrivateKeyOnce) {
    TempDir dir;
    crypto::DeterministicRandom random(8);
    const auto key = create_private_key_file(dir / "gateway.key", random);
    EXPECT_EQ(mode_of(dir / "gateway.key"), 0600u);
    EXPECT_TRUE(read_key_file(dir / "gateway.key", KeyKind::private_key) == key);
    // Clamped like `wg genkey`.
    EXPECT_EQ(key.data()[0] & 7, 0);
    EXPECT_EQ(key.data()[31] & 0x80, 0);
    EXPECT_EQ(key.data()[31] & 0x40, 0x40);
    // Never replaces an existing key.
    try {
        create_private_key_file(dir / "gateway.key", random);
        FAIL();
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::file_exists);
    }
    EXPECT_TRUE(read_key_file(dir / "gateway.key", KeyKind::private_key) == key);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"gateway.key"});
}

}  // namespace
}  // namespace wgate::config
