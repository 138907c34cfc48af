#include "gov/runtime/CgroupFs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/Parsers.hpp"

namespace gov::runtime {
namespace {

// Where `file` of `group` is, relative to the root fd.
std::string relPath(const std::string& group, const std::string& file) {
    if (group.empty()) {
        return file;
    }
    return group + "/" + file;
}

Error badGroup(const std::string& op, const std::string& group) {
    return Error::withReason(op + " " + group,
                             "invalid group path (must be relative, without "
                             "empty, '.' or '..' components)");
}

Error fileError(const char* op, const std::string& file, const std::string& group,
                int err = errno) {
    return Error::fromErrno(std::string(op) + " " + file + " in " + groupDisplayName(group), err);
}

}  // namespace

std::string groupDisplayName(const std::string& group) {
    return group.empty() ? std::string("<root>") : group;
}

bool isValidGroupPath(const std::string& group) {
    if (group.empty()) {
        return true;
    }
    if (group.front() == '/') {
        return false;
    }
    size_t start = 0;
    while (start <= group.size()) {
        size_t end = group.find('/', start);
        if (end == std::string::npos) {
            end = group.size();
        }
        std::string_view part(group.data() + start, end - start);
        if (part.empty() || part == "." || part == "..") {
            return false;
        }
        start = end + 1;
    }
    return true;
}

Result<CgroupFs> CgroupFs::open(const std::string& rootPath) {
    int fd = ::open(rootPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return Error::fromErrno("open cgroup root " + rootPath);
    }
    return CgroupFs(Fd(fd), rootPath);
}

std::string CgroupFs::absolute(const std::string& group) const {
    if (group.empty()) {
        return rootPath_;
    }
    if (!rootPath_.empty() && rootPath_.back() == '/') {
        return rootPath_ + group;
    }
    return rootPath_ + "/" + group;
}

Result<void> CgroupFs::makeGroup(const std::string& group) const {
    if (group.empty() || !isValidGroupPath(group)) {
        return badGroup("mkdir", group);
    }
    if (::mkdirat(root_.get(), group.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error::fromErrno("mkdir " + group);
    }
    return success();
}

Result<void> CgroupFs::removeGroup(const std::string& group) const {
    if (group.empty() || !isValidGroupPath(group)) {
        return badGroup("rmdir", group);
    }
    if (::unlinkat(root_.get(), group.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return Error::fromErrno("rmdir " + group);
    }
    return success();
}

bool CgroupFs::exists(const std::string& group) const {
    if (!isValidGroupPath(group)) {
        return false;
    }
    struct stat st {};
    const char* path = group.empty() ? "." : group.c_str();
    return ::fstatat(root_.get(), path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> CgroupFs::children(const std::string& group) const {
    if (!isValidGroupPath(group)) {
        return badGroup("list", group);
    }
    const char* path = group.empty() ? "." : group.c_str();
    int fd = ::openat(root_.get(), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return Error::fromErrno("list " + groupDisplayName(group));
    }
    DIR* dir = ::fdopendir(fd);  // takes ownership of fd
    if (dir == nullptr) {
        int err = errno;
        ::close(fd);
        return Error::fromErrno("list " + groupDisplayName(group), err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
        std::string_view name(entry->d_name);
        if (name == "." || name == "..") {
            continue;
        }
        bool isDir = entry->d_type == DT_DIR;
        if (entry->d_type == DT_UNKNOWN) {
            struct stat st {};
            isDir = ::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISDIR(st.st_mode);
        }
        if (isDir) {
            names.emplace_back(name);
        }
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) {
        return Error::fromErrno("list " + groupDisplayName(group), err);
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<std::optional<std::string>> CgroupFs::readIfExists(const std::string& group,
                                                          const std::string& file) const {
    if (!isValidGroupPath(group)) {
        return badGroup("read " + file + " in", group);
    }
    int fd = ::openat(root_.get(), relPath(group, file).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return std::optional<std::string>();
        }
        return fileError("read", file, group);
    }
    Fd owned(fd);
    // Control files are small (memory.stat, the largest, is ~1.5 KB): one stack
    // buffer read usually gets everything; cgroupfs returns the rest on later reads.
    char buf[4096];
    std::string out;
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EOPNOTSUPP) {  // e.g. *.pressure with PSI disabled
                return std::optional<std::string>();
            }
            return fileError("read", file, group);
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return std::optional<std::string>(std::move(out));
}

Result<std::string> CgroupFs::read(const std::string& group, const std::string& file) const {
    auto r = readIfExists(group, file);
    if (!r) {
        return std::move(r).error();
    }
    if (!r->has_value()) {
        return fileError("read", file, group, ENOENT);
    }
    return std::move(**r);
}

Result<void> CgroupFs::write(const std::string& group, const std::string& file,
                             const std::string& value) const {
    if (!isValidGroupPath(group)) {
        return badGroup("write " + file + " in", group);
    }
    int fd = ::openat(root_.get(), relPath(group, file).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return fileError("write", file, group);
    }
    Fd owned(fd);
    // One write() per value: cgroupfs parses each write() as one complete value, so a
    // retried remainder would be parsed as a second (wrong) value.
    ssize_t n;
    do {
        n = ::write(fd, value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return fileError("write", file, group);
    }
    if (static_cast<size_t>(n) != value.size()) {
        return Error::withReason(
            "write " + file + " in " + groupDisplayName(group),
            "short write (" + std::to_string(n) + " of " + std::to_string(value.size()) + " bytes)",
            std::errc::io_error);
    }
    return success();
}

Result<Fd> CgroupFs::openGroup(const std::string& group) const {
    if (!isValidGroupPath(group)) {
        return badGroup("open", group);
    }
    const char* path = group.empty() ? "." : group.c_str();
    int fd = ::openat(root_.get(), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return Error::fromErrno("open group " + groupDisplayName(group));
    }
    return Fd(fd);
}

Result<std::set<std::string>> CgroupFs::controllers(const std::string& group) const {
    auto text = read(group, "cgroup.controllers");
    if (!text) {
        return std::move(text).error();
    }
    return parseControllerList(*text);
}

Result<std::set<std::string>> CgroupFs::subtreeControl(const std::string& group) const {
    auto text = read(group, "cgroup.subtree_control");
    if (!text) {
        return std::move(text).error();
    }
    return parseControllerList(*text);
}

Result<void> CgroupFs::enableControllers(const std::string& group,
                                         const std::set<std::string>& names) const {
    auto enabled = subtreeControl(group);
    if (!enabled) {
        return std::move(enabled).error();
    }
    std::string failures;
    int firstErr = 0;
    for (const auto& name : names) {
        if (enabled->count(name) != 0) {
            continue;
        }
        auto r = write(group, "cgroup.subtree_control", "+" + name);
        if (!r) {
            if (firstErr == 0) {
                firstErr = r.error().code().value();
            }
            if (!failures.empty()) {
                failures += "; ";
            }
            failures += name + ": " + r.error().reason();
        }
    }
    if (!failures.empty()) {
        // Carry the first failure's errno so callers can tell ENOENT (controller bound
        // to cgroup v1 on a hybrid host) from EBUSY/EINVAL.
        return Error::withReason("enable controllers in " + groupDisplayName(group), failures,
                                 static_cast<std::errc>(firstErr));
    }
    return success();
}

Result<void> CgroupFs::moveProcess(const std::string& group, pid_t pid) const {
    return write(group, "cgroup.procs", std::to_string(pid));
}

Result<std::vector<pid_t>> CgroupFs::processes(const std::string& group) const {
    auto text = read(group, "cgroup.procs");
    if (!text) {
        return std::move(text).error();
    }
    auto pids = parsePidList(*text);
    if (!pids) {
        return std::move(pids).error().wrap("parse cgroup.procs in " + groupDisplayName(group));
    }
    return pids;
}

}  // namespace gov::runtime
