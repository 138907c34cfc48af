// Controllers reach a group only when every ancestor enables them for its children.
// Outside systemd, Governor's root sits under a parent nobody else manages (on a
// machine without systemd, or in the VM tier: the cgroup2 mount root), so the daemon
// enables what it needs from the mount down, top-down. Under systemd the parents
// belong to systemd, which already enabled what the delegated unit gets: nothing is
// written there.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace gov::core {

// For each group from `mount` (the cgroup2 mount point) down to the parent of
// `root`, enables in its cgroup.subtree_control each of `wanted` that it offers
// (cgroup.controllers) and does not enable yet. `root` must be below `mount`.
// Returns one message per controller that could not be enabled (the daemon logs
// them; the limits that need it are then reported as not enforceable).
std::vector<std::string> enableAncestorControllers(const std::string& mount,
                                                   const std::string& root,
                                                   const std::set<std::string>& wanted);

}  // namespace gov::core
