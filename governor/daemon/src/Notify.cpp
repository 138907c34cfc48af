#include "gov/daemon/Notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace gov::daemon {

bool Notifier::notify(const std::string& state) const {
    return sd_notify(/*unset_environment=*/0, state.c_str()) > 0;
}

bool Notifier::reloading() const {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t usec =
        static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
    return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

std::optional<std::chrono::microseconds> Notifier::watchdogInterval() const {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return std::nullopt;
    return std::chrono::microseconds(usec / 2);
}

}  // namespace gov::daemon
