// Finding the cgroup v2 hierarchy and what it offers.
//
// This file (Discovery.cpp) is the one place where the literal "/sys/fs/cgroup"
// appears: everything else gets its root passed in.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gov/Result.hpp"

namespace gov::runtime {

// One cgroup mount from /proc/self/mountinfo.
struct CgroupMountPoint {
    std::string path;  // mount point, octal escapes (\040) decoded
    bool v2 = false;   // fstype "cgroup2" (true) or "cgroup" (v1)
    std::string root;  // the mounted root inside the hierarchy ("/" normally)
    // cgroup2 mounted with memory_recursiveprot (a super option): a group's
    // memory.min/low protection is shared by its descendants that set none.
    bool memoryRecursiveProt = false;
    bool operator==(const CgroupMountPoint&) const = default;
};

// The cgroup v2 hierarchy the daemon will use.
struct CgroupMount {
    std::string path;                   // e.g. "/sys/fs/cgroup" or "/sys/fs/cgroup/unified"
    bool hybrid = false;                // cgroup v1 hierarchies are mounted too
    std::set<std::string> controllers;  // the root's cgroup.controllers
    bool memoryRecursiveProt = false;   // mounted with memory_recursiveprot
};

// Pure. Every cgroup and cgroup2 mount in a mountinfo text, in file order.
// Tolerant: lines that are not well-formed mountinfo lines are skipped.
std::vector<CgroupMountPoint> parseMountInfo(std::string_view text);

// Pure. Chooses the v2 mount: /sys/fs/cgroup if it is cgroup2 (pure v2),
// else /sys/fs/cgroup/unified (hybrid), else the first cgroup2 mount. `hybrid` is
// set when any v1 mount exists. Controllers are left empty. No cgroup2 mount is an
// error (ENOENT) "no cgroup2 filesystem mounted".
Result<CgroupMount> chooseCgroup2(const std::vector<CgroupMountPoint>& mounts);

// Reads <procRoot>/self/mountinfo, chooses the v2 mount, and reads its root
// cgroup.controllers. `fsPrefix` is prepended to the mount path when reading
// cgroup.controllers (tests point it at a fake tree; the returned path is the
// mount path as the kernel shows it).
Result<CgroupMount> discoverCgroup2(const std::string& procRoot = "/proc",
                                    const std::string& fsPrefix = "");

// Whether `path` is on a cgroup2 filesystem (statfs magic). The daemon checks its
// root with this before writing anything, so a misconfigured root under a cgroup v1
// hierarchy (owned by someone else on hybrid hosts) is refused, never written.
// Error: "cgroup root /x: not on a cgroup2 filesystem (cgroup v1), refusing to use
// it" (or "another filesystem"), or the statfs errno.
Result<void> requireCgroup2(const std::string& path);

// Pure. Parses a space-separated controller list ("cpu io memory\n").
std::set<std::string> parseControllerList(std::string_view text);

// Pure. The v2 path from a /proc/<pid>/cgroup text: the "0::/path" line's path
// ("/" for the root). No such line (a pure v1 host) is an error.
Result<std::string> parseProcCgroup(std::string_view text);

// The cgroup v2 path of a process (default: the caller) from
// <procRoot>/<pid|self>/cgroup, relative to the v2 mount ("/system.slice/x.service").
Result<std::string> currentCgroup(const std::string& procRoot = "/proc", int pid = 0);

}  // namespace gov::runtime
