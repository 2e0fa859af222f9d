// QR codes of client configs through libqrencode: UTF-8 half blocks for a
// terminal and PNG files (written here with zlib). The content is exactly the
// config file's text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wgate::cli {

class QrCode {
public:
    // Error correction L, 8-bit mode, the smallest version that fits. Throws
    // CliError (runtime) when the text does not fit a QR code.
    explicit QrCode(std::string_view text);
    ~QrCode();  // zeroes the modules: they encode a private key
    QrCode(const QrCode&) = delete;
    QrCode& operator=(const QrCode&) = delete;

    int width() const { return width_; }
    bool dark(int x, int y) const { return modules_[static_cast<std::size_t>(y) * width_ + x] != 0; }

private:
    int width_ = 0;
    std::vector<std::uint8_t> modules_;
};

// Two module rows per text line with U+2580/U+2584/U+2588 blocks and `margin`
// light modules around it, drawn like `qrencode -t UTF8`: a block is a light
// module, so it scans on a terminal with light text on a dark background
// (invert = true for dark text on a light background).
std::string render_qr_utf8(const QrCode& code, int margin = 2, bool invert = false);

// An 8-bit grayscale PNG, `scale` pixels per module, `margin` modules of quiet zone.
std::vector<std::uint8_t> render_qr_png(const QrCode& code, int scale = 8, int margin = 4);

}  // namespace wgate::cli
