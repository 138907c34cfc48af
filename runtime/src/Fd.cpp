#include "gov/runtime/Fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace gov::runtime {

void Fd::reset(int fd) {
    if (fd_ >= 0 && fd_ != fd) {
        // close() errors are not actionable here: the descriptor is gone either way
        // on Linux (even on EINTR), and retrying could close a reused number.
        ::close(fd_);
    }
    fd_ = fd;
}

Result<std::string> readToEnd(int fd, const std::string& context) {
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::fromErrno(context);
        if (n == 0)
            return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

Result<std::string> readWholeFile(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::fromErrno("read " + path);
    return readToEnd(fd.get(), "read " + path);
}

}  // namespace gov::runtime
