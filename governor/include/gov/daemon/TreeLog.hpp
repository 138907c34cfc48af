// What governord logs about itself at start: the tree it governs, the limits in
// force and those that cannot be enforced; and its journal log format.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

#include "gov/daemon/Governor.hpp"

namespace gov::daemon {

// One info line per group of the tree: root (controllers available), governord,
// each slice with the limits written and the workloads it holds.
void logTree(const Governor& governor);

// "built-in default" or the files and directory.
std::string describePolicySources(const GovernorConfig& config);

// "<N>message" with N the syslog priority of the level, the format journald parses
// from a service's stderr (sd-daemon(3)).
std::unique_ptr<spdlog::formatter> makeJournalFormatter();

}  // namespace gov::daemon
