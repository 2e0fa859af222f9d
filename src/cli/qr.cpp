#include "wgate/cli/qr.hpp"

#include <qrencode.h>
#include <zlib.h>

#include <cerrno>
#include <string>

#include "wgate/cli/error.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::cli {
namespace {

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 24));
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

// One PNG chunk: length, type, data, CRC-32 of type and data.
void put_chunk(std::vector<std::uint8_t>& out, const char type[4], const std::vector<std::uint8_t>& data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t type_at = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const uLong crc = ::crc32(0L, out.data() + type_at, static_cast<uInt>(4 + data.size()));
    put_u32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace

QrCode::QrCode(std::string_view text) {
    std::string copy(text);  // libqrencode wants a NUL-terminated string
    QRcode* code = ::QRcode_encodeString8bit(copy.c_str(), 0, QR_ECLEVEL_L);
    if (!code) {
        const int e = errno;
        wipe_string(copy);
        if (e == ERANGE) throw runtime_error("the config is too long for a QR code: leave out --qr and copy the file");
        throw runtime_error("libqrencode could not encode the QR code");
    }
    width_ = code->width;
    const std::size_t n = static_cast<std::size_t>(width_) * static_cast<std::size_t>(width_);
    modules_.resize(n);
    for (std::size_t i = 0; i < n; ++i) modules_[i] = code->data[i] & 1;
    crypto::secure_zero(code->data, n);
    ::QRcode_free(code);
    wipe_string(copy);
}

QrCode::~QrCode() { crypto::secure_zero(modules_.data(), modules_.size()); }

std::string render_qr_utf8(const QrCode& code, int margin, bool invert) {
    // A printed block is a light module (as `qrencode -t UTF8`); `invert` swaps that.
    const int size = code.width() + 2 * margin;
    auto light = [&](int x, int y) {
        const int cx = x - margin, cy = y - margin;
        const bool in = cx >= 0 && cy >= 0 && cx < code.width() && cy < code.width();
        const bool is_light = !(in && code.dark(cx, cy));
        return is_light != invert;
    };
    std::string s;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; ++x) {
            const bool top = light(x, y);
            const bool bottom = y + 1 < size ? light(x, y + 1) : invert;  // below the code: background
            if (top && bottom) {
                s += "\u2588";
            } else if (top) {
                s += "\u2580";
            } else if (bottom) {
                s += "\u2584";
            } else {
                s += ' ';
            }
        }
        s += '\n';
    }
    return s;
}

std::vector<std::uint8_t> render_qr_png(const QrCode& code, int scale, int margin) {
    const int modules = code.width() + 2 * margin;
    const std::uint32_t side = static_cast<std::uint32_t>(modules * scale);
    // Scanlines: filter byte 0, then one gray byte per pixel (0 dark, 255 light).
    std::vector<std::uint8_t> raw;
    raw.reserve(static_cast<std::size_t>(side) * (side + 1));
    for (std::uint32_t py = 0; py < side; ++py) {
        raw.push_back(0);
        const int my = static_cast<int>(py) / scale - margin;
        for (std::uint32_t px = 0; px < side; ++px) {
            const int mx = static_cast<int>(px) / scale - margin;
            const bool in = mx >= 0 && my >= 0 && mx < code.width() && my < code.width();
            raw.push_back(in && code.dark(mx, my) ? 0 : 255);
        }
    }
    uLongf compressed_size = ::compressBound(static_cast<uLong>(raw.size()));
    std::vector<std::uint8_t> idat(compressed_size);
    if (::compress2(idat.data(), &compressed_size, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK)
        throw runtime_error("zlib could not compress the PNG image");
    idat.resize(compressed_size);
    crypto::secure_zero(raw.data(), raw.size());

    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::vector<std::uint8_t> ihdr;
    put_u32(ihdr, side);
    put_u32(ihdr, side);
    ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});  // 8-bit grayscale, deflate, filter 0, no interlace
    put_chunk(png, "IHDR", ihdr);
    put_chunk(png, "IDAT", idat);
    put_chunk(png, "IEND", {});
    crypto::secure_zero(idat.data(), idat.size());
    return png;
}

}  // namespace wgate::cli
