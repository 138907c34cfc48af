// What one scrape is collected from: a plain snapshot of the daemon's state, by
// value (no pointer into the daemon but the cgroup tree to read), so that the
// collector depends on no daemon type and a scrape could be collected away from the
// daemon's thread. DaemonSnapshot.hpp builds one from a running Governor; the unit
// tests and the benchmark build one over a fake tree without a daemon.
//
// Label values come only from here: class names from `classes` (the policy's and the
// retired ones) and from `endedTotals`, group paths from `workloads`. The collector
// never emits a class label outside those (Collector.hpp), whatever the other fields
// hold.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/Counters.hpp"

namespace gov::exporter {

// A class and the group of its slice ("adhoc", "adhoc.slice").
struct ClassGroup {
    std::string name;
    std::string group;
    bool operator==(const ClassGroup&) const = default;
};

// A workload group the daemon tracks ("adhoc.slice/exec-1.scope", class "adhoc").
struct WorkloadGroup {
    std::string group;
    std::string className;
    bool operator==(const WorkloadGroup&) const = default;
};

// A policy limit that cannot be enforced because its controller is missing.
struct UnenforceableLimit {
    std::string className;
    std::string key;         // "memory.max"
    std::string controller;  // "memory"
    bool operator==(const UnenforceableLimit&) const = default;
};

// A limit the policy in force sets on a class (governor_class_policy_limit).
struct PolicyLimit {
    std::string className;
    std::string key;     // "memory.max", "io.write_bps"
    std::string device;  // io keys: "MAJ:MIN" or the policy's device, "all"; else ""
    double value = 0;    // bytes, bytes/s, IOPS, tasks, weight, or CPUs for cpu.max
    bool operator==(const PolicyLimit&) const = default;
};

// The daemon's counters about itself (they start at zero with each daemon process).
struct DaemonCounters {
    uint64_t reloadsApplied = 0;
    uint64_t reloadsInvalid = 0;
    uint64_t reloadsFailed = 0;
    double lastReloadUnixSeconds = 0;
    bool lastReloadOk = true;
    // (class, outcome) -> count. A class that is not a class of the snapshot is
    // counted without a class label.
    std::map<std::pair<std::string, std::string>, uint64_t> execs;
};

struct ScrapeInput {
    // The daemon's cgroup root, read at collection time (CgroupFs's const methods may
    // be called from any thread); null: no group is read.
    const runtime::CgroupFs* fs = nullptr;
    // The policy's classes in policy order, then the retired ones (no longer in the
    // policy, slice still holding workloads).
    std::vector<ClassGroup> classes;
    // The workload groups, sorted by group.
    std::vector<WorkloadGroup> workloads;
    // Persisted totals of ended workloads, by class.
    std::map<std::string, runtime::ClassTotals> endedTotals;
    // Controllers the root offers (cgroup.controllers of the root).
    std::set<std::string> availableControllers;
    // Every controller Governor knows, for governor_controller_available (0 or 1).
    std::vector<std::string> knownControllers;
    std::vector<UnenforceableLimit> unenforceable;
    // What the policy in force sets (policyLimits(), PolicyLimits.hpp).
    std::vector<PolicyLimit> policyLimits;
    // Absent: no reload or exec series.
    std::optional<DaemonCounters> daemon;
    std::string version;  // governor_build_info{version}
};

}  // namespace gov::exporter
