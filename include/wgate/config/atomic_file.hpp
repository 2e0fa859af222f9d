// Replacing a file so that a crash at any moment leaves either the old or the
// new contents, never a torn mix: write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wgate::config {

struct AtomicWriteOptions {
    // The new file's mode. Absent: the existing file's mode, or 0600 for a new
    // file (configs name key files and peers; nobody else needs to read them).
    std::optional<mode_t> mode;
    // false: never replace an existing file (link(2) instead of rename(2));
    // fails with EEXIST if there is one. For generated keys.
    bool replace_existing = true;
};

// Writes `contents` to `path` atomically. The temporary file is
// ".NAME.tmp-XXXXXX" next to the target, created with O_EXCL. An existing
// file's owner and group are kept (fchown; refused when not permitted rather
// than silently changed). A symbolic link at `path` is followed: its target is
// replaced and the link stays. On any failure the temporary file is removed,
// the original is untouched, and std::system_error says which step failed
// ("cannot write config/gateway.yaml: fsync of the temporary file failed: ...").
void write_file_atomically(const std::string& path, std::string_view contents, const AtomicWriteOptions& options = {});

// Removes temporaries a killed writer of `path` left behind; returns how many.
// Call once at start, before anything writes `path`.
std::size_t remove_stale_temporaries(const std::string& path);

}  // namespace wgate::config
