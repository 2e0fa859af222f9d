// wgate genkey / pubkey / genpsk: the same input and output as wg's.
#include "wgate/cli/keys.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli_test_util.hpp"
#include "wgate/crypto/base64.hpp"

namespace wgate::cli {
namespace {

std::pair<int, std::string> pubkey_of(const std::string& input, std::string* err = nullptr) {
    std::istringstream in(input);
    std::ostringstream out, e;
    const int rc = pubkey_command(in, out, e);
    if (err) *err = e.str();
    return {rc, out.str()};
}

TEST(CliKeys, GenkeyIsAClampedKeyLine) {
    crypto::DeterministicRandom random(1);
    for (int i = 0; i < 20; ++i) {
        const std::string line = genkey_text(random);
        ASSERT_EQ(line.size(), 45u);
        EXPECT_EQ(line.back(), '\n');
        const auto key = crypto::key_from_base64(line.substr(0, 44));
        ASSERT_TRUE(key);
        EXPECT_EQ((*key)[0] & 7, 0);
        EXPECT_EQ((*key)[31] & 0xc0, 0x40);
    }
}

TEST(CliKeys, GenpskIsThirtyTwoRandomBytes) {
    crypto::DeterministicRandom random(2);
    const std::string a = genpsk_text(random), b = genpsk_text(random);
    EXPECT_EQ(a.size(), 45u);
    EXPECT_NE(a, b);
    EXPECT_TRUE(crypto::key_from_base64(a.substr(0, 44)));
}

TEST(CliKeys, PubkeyOfRfc7748Key) {
    // RFC 7748 section 6.1: Alice's private key and public key.
    const std::string priv = crypto::key_to_base64(*crypto::key_from_hex(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    const std::string pub = crypto::key_to_base64(*crypto::key_from_hex(
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    EXPECT_EQ(pubkey_of(priv + "\n"), std::make_pair(0, pub + "\n"));
    EXPECT_EQ(pubkey_of(priv), std::make_pair(0, pub + "\n"));              // no newline
    EXPECT_EQ(pubkey_of(priv + " \t\r\n\n"), std::make_pair(0, pub + "\n"));  // trailing whitespace
    EXPECT_EQ(pubkey_of(priv + std::string(1, '\0')), std::make_pair(0, pub + "\n"));
}

TEST(CliKeys, PubkeyRefusesWhatWgRefuses) {
    std::string err;
    EXPECT_EQ(pubkey_of("", &err).first, 1);
    EXPECT_EQ(err, "wgate: Key is not the correct length or format\n");
    EXPECT_EQ(pubkey_of("abc\n", &err).first, 1);
    EXPECT_EQ(err, "wgate: Key is not the correct length or format\n");
    const std::string good = "YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk=";
    EXPECT_EQ(pubkey_of(" " + good + "\n", &err).first, 1);  // wg does not skip leading spaces
    EXPECT_EQ(pubkey_of(good + "x\n", &err).first, 1);
    EXPECT_EQ(err, "wgate: Trailing characters found after key\n");
    EXPECT_EQ(pubkey_of(good.substr(0, 43) + "!\n", &err).first, 1);
    EXPECT_EQ(err, "wgate: Key is not the correct length or format\n");
    // Non-zero trailing bits ("...Vl=" instead of "...Vk=").
    EXPECT_EQ(pubkey_of(good.substr(0, 42) + "l=", &err).first, 1);
}

// wg genkey | wgate pubkey == wg genkey | wg pubkey; wgate genkey | wg pubkey works.
TEST(CliKeys, CompatibleWithStockWg) {
    if (!test::have_tool("wg")) GTEST_SKIP() << "wg (wireguard-tools) not installed";
    for (int i = 0; i < 5; ++i) {
        const std::string key = test::shell("wg genkey");
        ASSERT_EQ(key.size(), 45u);
        test::TempDir dir;
        const std::string file = dir.file("k");
        {
            std::ofstream f(file);
            f << key;
        }
        const std::string wg_pub = test::shell("wg pubkey < " + file);
        EXPECT_EQ(pubkey_of(key).second, wg_pub);
        crypto::SystemRandom random;
        const std::string ours = genkey_text(random);
        {
            std::ofstream f(file);
            f << ours;
        }
        int status = 0;
        const std::string pub = test::shell("wg pubkey < " + file, &status);
        EXPECT_EQ(status, 0);
        EXPECT_EQ(pubkey_of(ours).second, pub);
        const std::string psk = genpsk_text(random);
        {
            std::ofstream f(file);
            f << psk;
        }
        // wg accepts our PSK where it takes one: `wg pubkey` reads any 32-byte key.
        test::shell("wg pubkey < " + file, &status);
        EXPECT_EQ(status, 0);
    }
}

}  // namespace
}  // namespace wgate::cli
