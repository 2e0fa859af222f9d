// QR codes: terminal shape, and the PNG decodes to exactly the config.
#include "wgate/cli/qr.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_util.hpp"
#include "wgate/cli/error.hpp"

namespace wgate::cli {
namespace {

const std::string kConfig =
    "[Interface]\nPrivateKey = YAnz8mmaBlAzzCnm/aGhfP/ZSH5SqqhnaLmw+GFTvVk=\nAddress = 10.8.0.2/32, fd42:8::2/128\n"
    "DNS = 10.8.0.1\n\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
    "Endpoint = vpn.example.com:51820\nAllowedIPs = 10.8.0.0/24, fd42:8::/64, 192.168.10.0/24\n"
    "PersistentKeepalive = 25\n";

std::size_t code_points(const std::string& s) {
    std::size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    return n;
}

TEST(CliQr, Utf8HalfBlocksWithQuietZone) {
    const QrCode code(kConfig);
    ASSERT_GE(code.width(), 21);
    EXPECT_EQ((code.width() - 21) % 4, 0);  // a QR version's size
    const std::string text = render_qr_utf8(code, 2);
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    const int side = code.width() + 4;
    EXPECT_EQ(lines.size(), static_cast<std::size_t>((side + 1) / 2));
    for (const std::string& l : lines) {
        EXPECT_EQ(code_points(l), static_cast<std::size_t>(side));
        for (std::size_t i = 0; i < l.size();) {
            if (l[i] == ' ') {
                ++i;
                continue;
            }
            const std::string ch = l.substr(i, 3);
            EXPECT_TRUE(ch == "\u2588" || ch == "\u2580" || ch == "\u2584") << ch;
            i += 3;
        }
    }
    // The quiet zone is light: full blocks all along the first line.
    std::string full_line;
    for (int i = 0; i < side; ++i) full_line += "\u2588";
    EXPECT_EQ(lines.front(), full_line);
    // The top-left finder pattern starts dark at module (0,0): row 1 (modules 2,3) column 2 is dark on top.
    EXPECT_TRUE(code.dark(0, 0));
    EXPECT_TRUE(code.dark(6, 6));
    EXPECT_FALSE(code.dark(7, 7));
    // Inverted output swaps light and dark.
    const std::string inverted = render_qr_utf8(code, 2, true);
    EXPECT_EQ(inverted.substr(0, side), std::string(static_cast<std::size_t>(side), ' '));
}

TEST(CliQr, PngStructure) {
    const QrCode code("hello");
    const std::vector<std::uint8_t> png = render_qr_png(code, 4, 4);
    ASSERT_GT(png.size(), 50u);
    const std::vector<std::uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    EXPECT_TRUE(std::equal(signature.begin(), signature.end(), png.begin()));
    EXPECT_EQ(std::string(png.begin() + 12, png.begin() + 16), "IHDR");
    const std::uint32_t width = static_cast<std::uint32_t>(png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19]);
    EXPECT_EQ(width, static_cast<std::uint32_t>((code.width() + 8) * 4));
    EXPECT_EQ(std::string(png.end() - 8, png.end() - 4), "IEND");
}

TEST(CliQr, PngDecodesToExactlyTheConfig) {
    if (!test::have_tool("zbarimg")) GTEST_SKIP() << "zbarimg (zbar-tools) not installed";
    const QrCode code(kConfig);
    const std::vector<std::uint8_t> png = render_qr_png(code);
    test::TempDir dir;
    const std::string path = dir.file("qr.png");
    {
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    }
    int status = 0;
    const std::string decoded = test::shell("zbarimg --raw -q " + path, &status);
    ASSERT_EQ(status, 0);
    // zbarimg ends its output with one newline of its own.
    EXPECT_EQ(decoded, kConfig + "\n");
}

TEST(CliQr, TooLongForAQrCode) {
    EXPECT_THROW(QrCode(std::string(5000, 'x')), CliError);
}

}  // namespace
}  // namespace wgate::cli
