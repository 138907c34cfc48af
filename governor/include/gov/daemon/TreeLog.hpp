// What governord logs about itself at start: the tree it governs, the limits in
// force and those that cannot be enforced; and its journal log format.
#pragma once

#include <spdlog/sinks/sink.h>

#include <memory>
#include <string>

#include "gov/daemon/Governor.hpp"

namespace gov::daemon {

// One info line per group of the tree: root (controllers available), governord,
// each slice with the limits written and the workloads it holds.
void logTree(const Governor& governor);

// "built-in default" or the files and directory.
std::string describePolicySources(const GovernorConfig& config);

// A sink that sends each line to the systemd journal with its native protocol:
// MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=governord and OBJECT_SYSTEMD_UNIT=`unit`.
// journald files a line under the unit of the sender's *current* cgroup, and the
// daemon moves itself into its cgroup root; OBJECT_SYSTEMD_UNIT (from a root
// process) is what `journalctl -u <unit>` also matches, so the daemon's lines stay
// under its own unit wherever its process lives.
std::shared_ptr<spdlog::sinks::sink> makeJournalSink(const std::string& unit);

// The unit of this process as systemd sees it now ("governord.service"), or "".
std::string currentSystemdUnit();

}  // namespace gov::daemon
