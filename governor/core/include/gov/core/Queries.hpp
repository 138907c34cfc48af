// The read-only questions of the control API (list classes and groups with their
// usage, one group's details, policy check and diff), as plain C++ over Governor.
// The D-Bus adaptor turns these structs into D-Bus structs.
//
// Thread safety: none; the Governor's thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Governor.hpp"
#include "gov/core/Plan.hpp"

namespace gov::core {

struct ClassInfo {
    std::string name;
    std::string description;
    std::vector<std::string> namespaces;
    uint32_t workloads = 0;  // workload groups of the class
    bool frozen = false;     // the slice is frozen
};

// A class slice or a workload group, with its usage now.
struct GroupInfo {
    std::string group;  // "adhoc.slice" or "adhoc.slice/sh-1-2.scope"
    std::string className;
    bool frozen = false;
    bool killed = false;        // cgroup.kill was used on it
    uint64_t cpuUsageUsec = 0;  // cpu.stat usage_usec
    uint64_t memoryBytes = 0;   // memory.current; 0 without the memory controller
    uint64_t ioReadBytes = 0;   // io.stat, every device; 0 without the io controller
    uint64_t ioWriteBytes = 0;
    uint32_t tasks = 0;  // pids.current, or the processes in cgroup.procs
};

std::vector<ClassInfo> listClasses(const Governor& governor);
// Every class slice (the policy's and retired ones) followed by its workload
// groups, in name order. Groups that vanish while being read are left out.
std::vector<GroupInfo> listGroups(const Governor& governor);
// One group: a class name means its slice. Error ServiceErrc::NoSuchGroup.
Result<GroupInfo> groupInfo(const Governor& governor, const std::string& target);
// The pids in the group and its descendants (cgroup.procs of each).
std::vector<pid_t> groupPids(const Governor& governor, const std::string& group);
// The class a target names: itself for a class, the owner class of a workload
// group. Error ServiceErrc::NoSuchGroup.
Result<std::string> classOfTarget(const Governor& governor, const std::string& target);

// The limits of a class in the policy in force, where each is enforced and which
// cannot be enforced here (limitPlacements() with the daemon's last plan). Error
// ServiceErrc::UnknownClass.
Result<std::vector<LimitPlacement>> classLimits(const Governor& governor,
                                                const std::string& className);

struct PolicyCheck {
    bool valid = false;
    std::vector<std::string> diagnostics;  // Diagnostic::format() lines
};
PolicyCheck checkPolicy(const std::string& text, const std::string& name);

struct PolicyDiff {
    bool valid = false;
    std::vector<std::string> diagnostics;
    std::vector<Action> actions;
    std::vector<std::string>
        unenforceable;  // "class adhoc: memory.max needs the memory controller"
};
// The operations that applying `text` as the whole policy would make now. An
// error is a failure to observe the tree or to resolve devices; an invalid policy
// is valid=false with diagnostics.
Result<PolicyDiff> diffPolicy(const Governor& governor, const std::string& text,
                              const std::string& name);

// "mkdir", "enable", "write", "rmdir".
const char* actionKindName(ActionKind kind);

}  // namespace gov::core
