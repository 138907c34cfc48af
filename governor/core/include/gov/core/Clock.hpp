// The time Governor's logic reads, passed in (Governor::start) so that unit tests can
// drive it: how long an empty workload group has been empty (the empty grace), when
// the totals of ended workloads are due to be saved (the save delay), and when the
// policy was last (re)loaded.
//
// Thread safety: the system clock is safe from any thread; a test clock is the
// test's business.
#pragma once

#include <chrono>

namespace gov::core {

class Clock {
  public:
    virtual ~Clock() = default;
    // Monotonic time, for durations (grace periods, delays).
    virtual std::chrono::steady_clock::time_point now() const = 0;
    // Wall-clock time, for timestamps people and metrics read.
    virtual std::chrono::system_clock::time_point wallNow() const = 0;
};

// std::chrono::steady_clock and std::chrono::system_clock; lives forever.
const Clock& systemClock();

// `t` as seconds since the Unix epoch (what the metrics export).
double unixSeconds(std::chrono::system_clock::time_point t);

}  // namespace gov::core
