#include "wgate/cli/keys.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <istream>
#include <ostream>

#include "wgate/cli/error.hpp"
#include "wgate/crypto/base64.hpp"
#include "wgate/crypto/x25519.hpp"

namespace wgate::cli {
namespace {

// wg's char_is_space: what may follow a key on stdin.
bool is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// "base64\n" without leaving an unwiped copy of the key behind.
std::string line_of(const crypto::Bytes<crypto::kKeySize>& key) {
    std::string b64 = crypto::key_to_base64(key);
    std::string line;
    line.reserve(b64.size() + 1);
    line += b64;
    line += '\n';
    wipe_string(b64);
    return line;
}

}  // namespace

std::string genkey_text(crypto::Random& random) {
    const crypto::PrivateKey key = crypto::generate_private_key(random);
    return line_of(key.bytes());
}

std::string genpsk_text(crypto::Random& random) {
    crypto::PresharedKey psk;
    random.fill(psk.data(), psk.size());
    return line_of(psk.bytes());
}

int pubkey_command(std::istream& in, std::ostream& out, std::ostream& err) {
    // As wg: exactly the first 44 bytes are the key; then only whitespace or NUL.
    std::string text(44, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.gcount() != static_cast<std::streamsize>(text.size())) {
        wipe_string(text);
        err << "wgate: Key is not the correct length or format\n";
        return kExitUsage;
    }
    for (;;) {
        const int c = in.get();
        if (c == std::char_traits<char>::eof()) break;
        if (c == 0 || is_space(c)) continue;
        wipe_string(text);
        err << "wgate: Trailing characters found after key\n";
        return kExitUsage;
    }
    auto bytes = crypto::key_from_base64(text);
    wipe_string(text);
    if (!bytes) {
        err << "wgate: Key is not the correct length or format\n";
        return kExitUsage;
    }
    const crypto::PrivateKey key(*bytes);
    crypto::secure_zero(bytes->data(), bytes->size());
    out << crypto::key_to_base64(crypto::public_key_of(key)) << "\n";
    return kExitOk;
}

bool stdout_is_world_accessible() {
    struct stat st{};
    return ::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO) != 0;
}

}  // namespace wgate::cli
