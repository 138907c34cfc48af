// govctl's side of a terminal session (`govctl exec` with a pseudo-terminal, see
// ExecClient.hpp): the caller's terminal and the pseudo-terminal govctl opens
// for the workload.
//
// - Terminal: the operations on the caller's terminal, behind an interface so that
//   the unit tests drive RawMode with a fake one.
// - RawMode: puts the caller's terminal in raw mode (what is typed goes to the
//   workload byte by byte: Ctrl-C, Ctrl-Z and Ctrl-\ are characters for the
//   workload's own terminal, not signals for govctl) and restores the saved modes
//   exactly once on every way out: restore(), suspend() (govctl stopped by
//   SIGTSTP), or its destructor.
// - Pty: a pseudo-terminal opened by govctl in the caller's context (so the slave
//   belongs to the caller: posix_openpt, grantpt, unlockpt), with the caller's
//   terminal modes and window size copied onto it.
//
// Thread safety: none (govctl is single-threaded).
#pragma once

#include <sys/ioctl.h>
#include <termios.h>

#include <optional>
#include <string>

#include "gov/Result.hpp"

namespace gov::govctl {

class Terminal {
  public:
    virtual ~Terminal();
    virtual bool getAttributes(struct termios& out) = 0;
    // TCSADRAIN: output already written keeps the modes it was written with.
    virtual bool setAttributes(const struct termios& modes) = 0;
    virtual bool windowSize(struct winsize& out) = 0;
};

// A terminal at a file descriptor (not owned).
class FdTerminal final : public Terminal {
  public:
    explicit FdTerminal(int fd) : fd_(fd) {}
    bool getAttributes(struct termios& out) override;
    bool setAttributes(const struct termios& modes) override;
    bool windowSize(struct winsize& out) override;
    int fd() const { return fd_; }

  private:
    int fd_;
};

// The raw modes cfmakeraw() gives, applied to `modes` (pure).
struct termios rawModes(struct termios modes);

class RawMode {
  public:
    explicit RawMode(Terminal& terminal) : terminal_(terminal) {}
    ~RawMode() { restore(); }
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;

    // Saves the current modes and sets raw ones; false (and nothing changed) when
    // the modes cannot be read or set.
    bool enter();
    // Puts the saved modes back (once; later calls do nothing until enter()).
    void restore();
    // For SIGTSTP: restore, remembering to come back with resume() (SIGCONT).
    void suspend();
    void resume();
    // Sets the raw modes again (after a stop we did not see coming, the shell may
    // have put its own back).
    void reassert();
    bool active() const { return active_; }

  private:
    Terminal& terminal_;
    struct termios saved_ {};
    bool active_ = false;
    bool suspended_ = false;
};

struct Pty {
    int master = -1;  // O_CLOEXEC, non-blocking
    int slave = -1;   // O_CLOEXEC; to pass to the workload, then close
};

// Opens a pseudo-terminal pair; when `modes`/`size` are given they are set on it
// (the caller's terminal's, so the workload sees the same terminal as govctl).
// The caller closes both fds.
Result<Pty> openPty(const std::optional<struct termios>& modes,
                    const std::optional<struct winsize>& size);

}  // namespace gov::govctl
