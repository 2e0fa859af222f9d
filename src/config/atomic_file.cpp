#include "wgate/config/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace wgate::config {
namespace {

struct SplitPath {
    std::string directory;  // "." when the path has none
    std::string base;
};

SplitPath split(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string temp_prefix(const std::string& base) { return "." + base + ".tmp-"; }

[[noreturn]] void fail(const std::string& path, const std::string& step, int error) {
    throw std::system_error(error, std::generic_category(), "cannot write " + path + ": " + step);
}

// A symbolic link is followed so that the link stays and its target is
// replaced, as an editor saving through the link would do.
std::string target_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::error_code ec;
    const auto resolved = std::filesystem::weakly_canonical(path, ec);
    if (ec) fail(path, "cannot resolve the symbolic link", ec.value());
    return resolved.string();
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    // close(2) can report a delayed write error; the caller must see it.
    int close() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result;
    }

private:
    int fd_;
};

// Removes the temporary file unless the write got through.
class TemporaryFile {
public:
    explicit TemporaryFile(std::string path) : path_(std::move(path)) {}
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    ~TemporaryFile() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }
    void release() { path_.clear(); }

private:
    std::string path_;
};

void write_all(int fd, std::string_view contents, const std::string& path) {
    while (!contents.empty()) {
        const ssize_t n = ::write(fd, contents.data(), contents.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(path, "writing the temporary file failed", errno);
        }
        contents.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view contents, const AtomicWriteOptions& options) {
    if (path.empty() || path.back() == '/') fail(path, "not a file name", EINVAL);
    const std::string target = target_of(path);
    const SplitPath parts = split(target);

    struct stat existing {};
    bool exists = false;
    if (::stat(target.c_str(), &existing) == 0) {
        if (!S_ISREG(existing.st_mode)) fail(path, "it exists and is not a regular file", EISDIR);
        exists = true;
    } else if (errno != ENOENT) {
        fail(path, "cannot stat it", errno);
    }
    if (exists && !options.replace_existing) fail(path, "it already exists", EEXIST);

    std::string temp_name = parts.directory + "/" + temp_prefix(parts.base) + "XXXXXX";
    // mkostemp opens with O_CREAT | O_EXCL and picks an unused name.
    const int raw_fd = ::mkostemp(temp_name.data(), O_CLOEXEC);
    if (raw_fd < 0) fail(path, "cannot create a temporary file in " + parts.directory, errno);
    FileDescriptor fd(raw_fd);
    TemporaryFile temp(temp_name);

    write_all(fd.get(), contents, path);
    if (exists && (existing.st_uid != ::geteuid() || existing.st_gid != ::getegid())) {
        if (::fchown(fd.get(), existing.st_uid, existing.st_gid) != 0)
            fail(path, "cannot give the new file the owner and group of the old one", errno);
    }
    // After fchown, which may clear set-id bits.
    const mode_t mode = options.mode ? *options.mode : exists ? (existing.st_mode & 07777) : 0600;
    if (::fchmod(fd.get(), mode) != 0) fail(path, "cannot set the mode of the temporary file", errno);
    if (::fsync(fd.get()) != 0) fail(path, "fsync of the temporary file failed", errno);
    if (fd.close() != 0) fail(path, "closing the temporary file failed", errno);

    if (options.replace_existing) {
        if (::rename(temp.path().c_str(), target.c_str()) != 0)
            fail(path, "renaming the temporary file over it failed", errno);
        temp.release();
    } else {
        // link(2) fails with EEXIST instead of replacing a file that appeared meanwhile.
        if (::link(temp.path().c_str(), target.c_str()) != 0) fail(path, "linking the new file failed", errno);
        // The temporary name goes with the TemporaryFile.
    }

    const int dir_fd = ::open(parts.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) fail(path, "the file was replaced, but its directory cannot be opened to fsync it", errno);
    FileDescriptor dir(dir_fd);
    if (::fsync(dir.get()) != 0) fail(path, "the file was replaced, but fsync of its directory failed", errno);
}

std::size_t remove_stale_temporaries(const std::string& path) {
    const SplitPath parts = split(target_of(path));
    const std::string prefix = temp_prefix(parts.base);
    DIR* dir = ::opendir(parts.directory.c_str());
    if (dir == nullptr) return 0;
    std::vector<std::string> stale;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name(entry->d_name);
        // Exactly the names mkostemp made: the prefix and six characters.
        if (name.size() == prefix.size() + 6 && name.starts_with(prefix)) stale.emplace_back(name);
    }
    ::closedir(dir);
    std::size_t removed = 0;
    for (const auto& name : stale) {
        if (::unlink((parts.directory + "/" + name).c_str()) == 0) ++removed;
    }
    return removed;
}

}  // namespace wgate::config
