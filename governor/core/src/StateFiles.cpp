#include "gov/core/StateFiles.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace gov::core {

namespace {

Result<void> writeAll(int fd, const std::string& data, const std::string& path) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::fromErrno("write " + path);
        }
        done += static_cast<size_t>(n);
    }
    return success();
}

std::string utcStamp(std::chrono::system_clock::time_point now) {
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

}  // namespace

Result<std::string> readStateFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::fromErrno("open " + path);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            ::close(fd);
            return Error::fromErrno("read " + path, err);
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

Result<void> replaceFileAtomically(const std::string& dir, const std::string& path,
                                   const std::string& data,
                                   const std::function<Result<void>()>& beforeRename) {
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
        return Error::fromErrno("create state directory " + dir);
    const std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error::fromErrno("open " + tmp);
    auto written = writeAll(fd, data, tmp);
    if (written.ok() && ::fsync(fd) < 0)
        written = Error::fromErrno("fsync " + tmp);
    ::close(fd);
    if (!written)
        return written;
    if (beforeRename)
        GOV_TRY(beforeRename());
    if (::rename(tmp.c_str(), path.c_str()) < 0)
        return Error::fromErrno("rename " + tmp);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return Error::fromErrno("open " + dir);
    int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc < 0)
        return Error::fromErrno("fsync " + dir);
    return success();
}

Result<std::string> setAside(const std::string& path, std::chrono::system_clock::time_point now) {
    const std::string base = path + ".damaged-" + utcStamp(now);
    for (int n = 1; n < 1000; ++n) {
        const std::string target = n == 1 ? base : base + "-" + std::to_string(n);
        // link + unlink: unlike rename, link never replaces an existing file.
        if (::link(path.c_str(), target.c_str()) == 0) {
            if (::unlink(path.c_str()) < 0)
                return Error::fromErrno("set aside " + path + " (linked as " + target + ")");
            return target;
        }
        if (errno != EEXIST)
            return Error::fromErrno("set aside " + path + " as " + target);
    }
    return Error::withReason("set aside " + path, "too many damaged files of that name",
                             std::errc::file_exists);
}

}  // namespace gov::core
