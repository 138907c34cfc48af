#include "gov/core/Clock.hpp"

namespace gov::core {

namespace {

class SystemClock final : public Clock {
  public:
    std::chrono::steady_clock::time_point now() const override {
        return std::chrono::steady_clock::now();
    }
    std::chrono::system_clock::time_point wallNow() const override {
        return std::chrono::system_clock::now();
    }
};

}  // namespace

const Clock& systemClock() {
    static const SystemClock kClock;
    return kClock;
}

double unixSeconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace gov::core
