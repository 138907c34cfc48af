#include "Terminal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>

namespace gov::govctl {

Terminal::~Terminal() = default;

bool FdTerminal::getAttributes(struct termios& out) {
    return ::tcgetattr(fd_, &out) == 0;
}

bool FdTerminal::setAttributes(const struct termios& modes) {
    int r;
    do {
        r = ::tcsetattr(fd_, TCSADRAIN, &modes);
    } while (r != 0 && errno == EINTR);
    return r == 0;
}

bool FdTerminal::windowSize(struct winsize& out) {
    return ::ioctl(fd_, TIOCGWINSZ, &out) == 0;
}

struct termios rawModes(struct termios modes) {
    ::cfmakeraw(&modes);
    // One byte at a time, as soon as it is there.
    modes.c_cc[VMIN] = 1;
    modes.c_cc[VTIME] = 0;
    return modes;
}

bool RawMode::enter() {
    if (active_)
        return true;
    struct termios current {};
    if (!terminal_.getAttributes(current))
        return false;
    if (!terminal_.setAttributes(rawModes(current)))
        return false;
    saved_ = current;
    active_ = true;
    suspended_ = false;
    return true;
}

void RawMode::restore() {
    if (!active_)
        return;
    active_ = false;
    suspended_ = false;
    (void)terminal_.setAttributes(saved_);
}

void RawMode::suspend() {
    if (!active_)
        return;
    restore();
    suspended_ = true;
}

void RawMode::resume() {
    if (!suspended_)
        return;
    suspended_ = false;
    // The modes may have been changed meanwhile (the shell that ran `fg`): the
    // ones to come back to are those of now.
    (void)enter();
}

void RawMode::reassert() {
    if (active_)
        (void)terminal_.setAttributes(rawModes(saved_));
}

Result<Pty> openPty(const std::optional<struct termios>& modes,
                    const std::optional<struct winsize>& size) {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return Error::fromErrno("open a pseudo-terminal (posix_openpt)");
    auto fail = [&](const char* what) -> Error {
        const int err = errno;
        ::close(master);
        return Error::fromErrno(what, err);
    };
    if (::grantpt(master) != 0)
        return fail("grantpt");
    if (::unlockpt(master) != 0)
        return fail("unlockpt");
    char name[128];
    if (::ptsname_r(master, name, sizeof name) != 0)
        return fail("ptsname");
    const int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return fail("open the pseudo-terminal's slave");
    if (modes)
        (void)::tcsetattr(slave, TCSANOW, &*modes);
    if (size)
        (void)::ioctl(master, TIOCSWINSZ, &*size);
    const int flags = ::fcntl(master, F_GETFL);
    if (flags < 0 || ::fcntl(master, F_SETFL, flags | O_NONBLOCK) != 0) {
        const int err = errno;
        ::close(slave);
        ::close(master);
        return Error::fromErrno("make the pseudo-terminal non-blocking", err);
    }
    return Pty{master, slave};
}

}  // namespace gov::govctl
