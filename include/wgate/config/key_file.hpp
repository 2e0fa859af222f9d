// Key files on disk: one key in base64 as `wg genkey` / `wg genpsk` print it,
// mode 0600. Read with the checks wg-quick users expect, written atomically.
#pragma once

#include <stdexcept>
#include <string>

#include "wgate/crypto/random.hpp"
#include "wgate/crypto/secret.hpp"

namespace wgate::config {

// what() is "PATH: PROBLEM; FIX".
class KeyFileError : public std::runtime_error {
public:
    enum class Kind { missing, unreadable, not_regular, too_open, bad_contents };
    KeyFileError(Kind kind, std::string path, std::string problem, std::string fix);

    Kind kind() const { return kind_; }
    const std::string& path() const { return path_; }
    const std::string& problem() const { return problem_; }
    const std::string& fix() const { return fix_; }

private:
    Kind kind_;
    std::string path_;
    std::string problem_;
    std::string fix_;
};

enum class KeyKind { private_key, preshared_key };

// Opens without following a FIFO's block, then refuses (in this order) a file
// that is missing, cannot be opened, is not a regular file (symlinks to one
// are fine), has any group or other permission bit (root reads anything, so
// the mode is checked, not access()), or does not hold exactly one base64 key
// (44 characters; trailing whitespace such as the newline `wg genkey` writes is
// fine). The buffers that held the key text are zeroised.
crypto::Secret<crypto::kKeySize> read_key_file(const std::string& path, KeyKind kind);

// Writes base64 + "\n" atomically with mode 0600 (write_file_atomically);
// with replace = false it fails (std::system_error, EEXIST) if the file exists.
void write_key_file(const std::string& path, const crypto::Secret<crypto::kKeySize>& key, bool replace);

// First start: generates a private key (clamped, as `wg genkey`) and writes it
// without replacing an existing file. Throws std::system_error when it cannot.
crypto::PrivateKey create_private_key_file(const std::string& path, crypto::Random& random);

}  // namespace wgate::config
