// What governord logs about itself at start: the tree it governs, the limits in
// force and those that cannot be enforced, and where its policy comes from.
#pragma once

#include <string>

#include "gov/core/Governor.hpp"

namespace gov::core {

// One info line per group of the tree: root (controllers available), governord,
// each slice with the limits written and the workloads it holds.
void logTree(const Governor& governor);

// "built-in default" or the files and directory.
std::string describePolicySources(const GovernorConfig& config);

}  // namespace gov::core
