// A Clock that only moves when the test says so.
#pragma once

#include <chrono>

#include "gov/core/Clock.hpp"

namespace gov::core {

class ManualClock final : public Clock {
  public:
    std::chrono::steady_clock::time_point now() const override { return now_; }
    std::chrono::system_clock::time_point wallNow() const override { return wall_; }

    // Moves both clocks forward by `d`.
    void advance(std::chrono::steady_clock::duration d) {
        now_ += d;
        wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    }
    void setWall(std::chrono::system_clock::time_point t) { wall_ = t; }

  private:
    // Not the epoch: a group first seen "at 0" must not look older than it is.
    std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
    std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'700'000'000)};
};

}  // namespace gov::core
