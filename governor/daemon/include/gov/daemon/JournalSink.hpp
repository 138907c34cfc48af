// governord's log format under systemd: the journal's native protocol.
#pragma once

#include <spdlog/sinks/sink.h>

#include <memory>
#include <string>

namespace gov::daemon {

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
