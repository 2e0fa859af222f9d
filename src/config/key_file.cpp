#include "wgate/config/key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "wgate/config/atomic_file.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::config {
namespace {

constexpr std::size_t kBase64KeyLength = 44;
// Room for the key, a newline and some stray whitespace; anything longer is not a key file.
constexpr std::size_t kMaxKeyFileSize = 128;

std::string generate_command(KeyKind kind, const std::string& path) {
    return (kind == KeyKind::private_key ? "wg genkey > " : "wg genpsk > ") + path + " && chmod 600 " + path;
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

bool is_trailing_space(char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; }

// Zeroises the text buffer whatever happens to the read.
struct Buffer {
    char bytes[kMaxKeyFileSize + 1];
    ~Buffer() { crypto::secure_zero(bytes, sizeof bytes); }
};

}  // namespace

KeyFileError::KeyFileError(Kind kind, std::string path, std::string problem, std::string fix)
    : std::runtime_error(path + ": " + problem + "; " + fix),
      kind_(kind),
      path_(std::move(path)),
      problem_(std::move(problem)),
      fix_(std::move(fix)) {}

crypto::Secret<crypto::kKeySize> read_key_file(const std::string& path, KeyKind kind) {
    using Kind = KeyFileError::Kind;
    // O_NONBLOCK: opening a FIFO must not hang the daemon; it is refused below.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT)
            throw KeyFileError(Kind::missing, path, "does not exist", "create it: " + generate_command(kind, path));
        throw KeyFileError(Kind::unreadable, path, std::string("cannot be opened: ") + std::strerror(error),
                           "make it readable by the user wgated runs as (uid " + std::to_string(::geteuid()) + ")");
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};

    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw KeyFileError(Kind::unreadable, path, std::string("cannot stat: ") + std::strerror(errno),
                           "check the file");
    if (!S_ISREG(st.st_mode))
        throw KeyFileError(Kind::not_regular, path, "is not a regular file",
                           "point the setting at a key file: " + generate_command(kind, path));
    if ((st.st_mode & 077) != 0)
        throw KeyFileError(Kind::too_open, path, "is accessible by group or others (mode " + octal_mode(st.st_mode) + ")",
                           "run: chmod 600 " + path);

    Buffer buffer;
    std::size_t size = 0;
    while (size < sizeof buffer.bytes) {
        const ssize_t n = ::read(fd, buffer.bytes + size, sizeof buffer.bytes - size);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw KeyFileError(Kind::unreadable, path, std::string("cannot be read: ") + std::strerror(errno),
                               "check the file and the disk");
        }
        if (n == 0) break;
        size += static_cast<std::size_t>(n);
    }
    std::string_view text(buffer.bytes, size);
    while (!text.empty() && is_trailing_space(text.back())) text.remove_suffix(1);

    const std::string expected = kind == KeyKind::private_key ? "a private key" : "a preshared key";
    if (size > kMaxKeyFileSize || text.size() != kBase64KeyLength)
        throw KeyFileError(Kind::bad_contents, path,
                           "does not hold " + expected + " (one line of 44 base64 characters, as wg prints it)",
                           "write one: " + generate_command(kind, path));
    auto decoded = crypto::key_from_base64(text);
    if (!decoded)
        throw KeyFileError(Kind::bad_contents, path, "does not hold " + expected + " (not canonical base64)",
                           "write one: " + generate_command(kind, path));
    crypto::Secret<crypto::kKeySize> key(*decoded);
    crypto::secure_zero(decoded->data(), decoded->size());
    return key;
}

void write_key_file(const std::string& path, const crypto::Secret<crypto::kKeySize>& key, bool replace) {
    // A fixed buffer: appending the newline to a std::string could reallocate
    // and leave an unzeroised copy of the key on the heap.
    struct Text {
        char bytes[kBase64KeyLength + 1];
        ~Text() { crypto::secure_zero(bytes, sizeof bytes); }
    } text;
    std::string encoded = crypto::key_to_base64(key.bytes());
    std::memcpy(text.bytes, encoded.data(), kBase64KeyLength);
    crypto::secure_zero(encoded.data(), encoded.size());
    text.bytes[kBase64KeyLength] = '\n';
    write_file_atomically(path, std::string_view(text.bytes, sizeof text.bytes),
                          AtomicWriteOptions{.mode = 0600, .replace_existing = replace});
}

crypto::PrivateKey create_private_key_file(const std::string& path, crypto::Random& random) {
    crypto::PrivateKey key = crypto::generate_private_key(random);
    write_key_file(path, key, false);
    return key;
}

}  // namespace wgate::config
