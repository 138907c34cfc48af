// The systemd notification protocol (sd_notify): READY=1, STATUS=, RELOADING=1,
// STOPPING=1 and the watchdog. Without NOTIFY_SOCKET every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace gov::daemon {

class Notifier {
  public:
    // Sends `state` ("READY=1\nSTATUS=..."); false when nothing was sent.
    bool notify(const std::string& state) const;
    bool ready(const std::string& status) const { return notify("READY=1\nSTATUS=" + status); }
    bool status(const std::string& status) const { return notify("STATUS=" + status); }
    bool reloading() const;  // RELOADING=1 with MONOTONIC_USEC (systemd 253+ wants it)
    bool stopping() const { return notify("STOPPING=1"); }
    bool watchdog() const { return notify("WATCHDOG=1"); }
    // Half of WATCHDOG_USEC when the service manager expects pings from us.
    std::optional<std::chrono::microseconds> watchdogInterval() const;
};

}  // namespace gov::daemon
