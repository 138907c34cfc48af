// The byte relay of a terminal session (`govctl exec` with a pseudo-terminal):
// what the caller types goes to the pseudo-terminal's master, what the workload
// writes comes back from it to govctl's output. A state machine with no I/O:
// ExecClient polls and reads/writes the descriptors and tells it what happened; it
// says what to wait for and when the session is over. Unit-tested without any
// terminal (tests/unit/govctl/PtyRelayTest.cpp).
//
// Phases:
// - relaying: both directions, each buffered up to Options::bufferLimit (reading
//   stops while a buffer is full: a slow side slows the other one down);
// - draining, once the workload's exit report has come: nothing more is read from
//   the caller; what the master still has is copied out until it ends (every
//   holder of the slave has closed it), stays quiet for Options::quiet, or
//   Options::drainLimit has passed: a background process that keeps the slave
//   open cannot hold govctl;
// - done (finished() true); hangUp() ends the session at once.
//
// Thread safety: none.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gov::govctl {

class PtyRelay {
  public:
    using Clock = std::chrono::steady_clock;
    struct Options {
        size_t bufferLimit = 64 * 1024;
        std::chrono::milliseconds quiet{100};
        std::chrono::milliseconds drainLimit{1000};
    };
    enum class Phase { Relaying, Draining, Done };

    PtyRelay() : PtyRelay(Options{}) {}
    explicit PtyRelay(Options options) : options_(options) {}

    // What to wait for.
    bool wantInput() const;
    bool wantMasterRead() const;
    bool wantMasterWrite() const { return phase_ == Phase::Relaying && !toMaster_.empty(); }
    bool wantOutputWrite() const { return phase_ != Phase::Done && !toOutput_.empty(); }
    std::string_view toMaster() const { return toMaster_; }
    std::string_view toOutput() const { return toOutput_; }
    // While draining: when finished() will be true at the latest.
    std::optional<Clock::time_point> deadline() const;

    // What happened.
    void input(std::string_view bytes);
    // End of file on govctl's input (not a terminal, e.g. `govctl exec -t ... <
    // file`). `eofChar`: the pseudo-terminal's VEOF when it is in canonical mode,
    // sent once so that the workload reads an end of file as from a terminal.
    void inputEnded(std::optional<char> eofChar);
    void masterOutput(std::string_view bytes, Clock::time_point now);
    // Reading the master gave EIO (or it hung up): nobody holds the slave any more.
    void masterEnded();
    void masterWritten(size_t n);
    void outputWritten(size_t n);
    // govctl's output is gone (EPIPE, EIO): what comes from now on is dropped.
    void outputFailed();
    void workloadExited(Clock::time_point now);
    void hangUp();

    bool finished(Clock::time_point now) const;
    Phase phase() const { return phase_; }
    bool inputOpen() const { return !inputEnded_; }
    bool masterOpen() const { return !masterEnded_; }

  private:
    Options options_;
    Phase phase_ = Phase::Relaying;
    std::string toMaster_;
    std::string toOutput_;
    bool inputEnded_ = false;
    bool masterEnded_ = false;
    bool outputGone_ = false;
    Clock::time_point drainStart_{};
    Clock::time_point lastMasterOutput_{};
};

}  // namespace gov::govctl
