#include "gov/runtime/Fd.hpp"

#include <unistd.h>

namespace gov::runtime {

void Fd::reset(int fd) {
    if (fd_ >= 0 && fd_ != fd) {
        // close() errors are not actionable here: the descriptor is gone either way
        // on Linux (even on EINTR), and retrying could close a reused number.
        ::close(fd_);
    }
    fd_ = fd;
}

}  // namespace gov::runtime
