// Fd: an owned file descriptor (RAII). Move-only; closes on destruction.
// Thread safety: none (like an int).
#pragma once

#include <string>
#include <utility>

#include "gov/Result.hpp"

namespace gov::runtime {

class Fd {
  public:
    Fd() = default;
    // Takes ownership of `fd` (-1 = empty).
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }

    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }

    // The descriptor (still owned), or -1.
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    // Gives up ownership and returns the descriptor; the Fd becomes empty.
    int release() { return std::exchange(fd_, -1); }
    // Closes the current descriptor (if any) and takes `fd`.
    void reset(int fd = -1);

  private:
    int fd_ = -1;
};

// Everything left in `fd` up to end of file (EINTR retried). Errors: "<context>:
// <errno text>", e.g. context "read /proc/42/status".
Result<std::string> readToEnd(int fd, const std::string& context);
// The whole file at `path`. Errors: "read <path>: <errno text>".
Result<std::string> readWholeFile(const std::string& path);

}  // namespace gov::runtime
