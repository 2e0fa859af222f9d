#include "wgate/cli/error.hpp"

#include "wgate/crypto/secret.hpp"

namespace wgate::cli {

void wipe_string(std::string& s) noexcept {
    crypto::secure_zero(s.data(), s.size());
    s.clear();
}

}  // namespace wgate::cli
