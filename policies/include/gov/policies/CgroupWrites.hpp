// Translating a class's Resources into the exact cgroup control-file writes that
// enforce them, driven by the knob table (gov/policies/Knobs.hpp). Pure: device names
// are resolved by the caller (the runtime reads /dev and /sys) and passed in as a
// DeviceTable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gov/DeviceTable.hpp"
#include "gov/Result.hpp"
#include "gov/policies/Policy.hpp"

namespace gov::policies {

// Block devices as the runtime found them (common/).
using gov::DeviceTable;

// One write to one control file of a group.
struct KnobWrite {
    std::string controller;  // "memory", "pids", "cpu", "cpuset", "io"
    std::string file;        // "memory.max", "io.max", ...
    std::string value;       // exactly what is written, e.g. "1073741824" or
                             // "8:0 rbps=max wbps=1000000 riops=max wiops=max"
    std::string key;         // the policy key behind it, for messages: "memory.max",
                             // "io.write_bps"
    // `value` is the kernel default: what a newly created group holds already.
    bool kernelDefault = false;
    bool operator==(const KnobWrite&) const = default;
};

// Which kind of group the writes are for: a class's slice, or one of its workload
// groups, where unset knobs get the table's workload default (memory.oom.group 1).
enum class GroupLevel { Class, Workload };

// Every write that puts `r` in force on a group, in the knob table's write order
// (cpuset, cpu, memory (protections, oom.group, high, max, swap), pids, then io.max,
// one line per device sorted by MAJ:MIN). Knobs that are unset in `r` are written
// with their kernel default ("max", "0", cpu.weight 100, cpu.max "max 100000",
// cpuset "") or, on a workload group, with the table's workload default, so that
// removing a limit from a policy really lifts it; io.max gets a line only for
// devices the policy names (the caller resets devices that are no longer named). An
// IoLimit whose device is not in `devices.resolved` is an error naming it.
Result<std::vector<KnobWrite>> desiredWrites(const Resources& r, const DeviceTable& devices,
                                             GroupLevel level = GroupLevel::Class);

// The io.max line that lifts every limit on `majMin`.
std::string ioResetLine(const std::string& majMin);

}  // namespace gov::policies
