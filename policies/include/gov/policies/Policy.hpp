// The typed, validated policy: plain structs, the output of the policy compiler
// (text -> TOML -> these structs -> validation) and the input of everything else.
// Pure data: no kernel access, no logging. Values are already in cgroup units
// (bytes, bytes/s, IOPS, microseconds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gov/Limits.hpp"
#include "gov/Namespace.hpp"

namespace gov::policies {

// Where something was written: file, 1-based line and column.
struct SourceLocation {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
    bool operator==(const SourceLocation&) const = default;
};

// The value types shared with the runtime (common/): policies:: names for them.
using gov::allNamespaces;
using gov::CpuMax;
using gov::MaxOr;
using gov::Namespace;
using gov::namespaceFromName;
using gov::namespaceName;

// One io.max line's worth of limits. The device is either a path ("/dev/nvme0n1"),
// a "MAJ:MIN" pair, or empty for "every whole block disk present"; resolving it to
// MAJ:MIN is the runtime's job (it touches /dev and /sys).
struct IoLimit {
    std::string device;  // "" = all block devices
    std::optional<MaxOr> readBps;
    std::optional<MaxOr> writeBps;
    std::optional<MaxOr> readIops;
    std::optional<MaxOr> writeIops;
    SourceLocation where;

    bool allDevices() const { return device.empty(); }
    bool empty() const { return !readBps && !writeBps && !readIops && !writeIops; }
    bool operator==(const IoLimit& o) const {  // `where` does not change the effect
        return device == o.device && readBps == o.readBps && writeBps == o.writeBps &&
               readIops == o.readIops && writeIops == o.writeIops;
    }
};

// Resource limits as cgroup v2 knobs, one field per row of the knob table
// (gov/policies/Knobs.hpp), which says for each field its policy key, cgroup file,
// value kind and kernel default. Unset (nullopt) means "leave the kernel default"
// (for a workload group: the table's workload default, see Knob::workloadDefault).
struct Resources {
    std::optional<MaxOr> memoryMax;
    std::optional<MaxOr> memoryHigh;
    std::optional<MaxOr> memoryLow;
    std::optional<MaxOr> memoryMin;
    std::optional<MaxOr> memorySwapMax;
    std::optional<MaxOr> memoryZswapMax;
    std::optional<bool> memoryOomGroup;
    std::optional<MaxOr> pidsMax;
    std::optional<uint32_t> cpuWeight;  // 1..10000
    std::optional<CpuMax> cpuMax;
    std::optional<uint64_t> cpuBurstUsec;  // cpu.max.burst, microseconds
    std::optional<bool> cpuIdle;
    std::optional<std::string> cpusetCpus;  // canonical list, e.g. "0-3,8"
    std::optional<std::string> cpusetMems;
    std::vector<IoLimit> io;           // at most one all-devices entry, then per device
    std::optional<uint32_t> ioWeight;  // 1..10000, every disk

    // No knob set (walks the knob table).
    bool empty() const;
    bool operator==(const Resources&) const = default;
};

// Who may do something: users and groups by name. Root is always allowed and is
// not listed here.
struct Principals {
    std::vector<std::string> users;
    std::vector<std::string> groups;
    bool empty() const { return users.empty() && groups.empty(); }
    bool operator==(const Principals&) const = default;
};

struct ClassPolicy {
    std::string name;  // [a-z0-9][a-z0-9_-]*, at most 64 characters
    std::string description;
    Resources limits;                   // on <class>.slice: bound the class as a whole
    Resources workloadLimits;           // on each <class>.slice/<name>.scope
    std::vector<Namespace> namespaces;  // sorted, unique
    Principals execAllowed;             // may `govctl exec` into the class
    Principals controlAllowed;          // may freeze/thaw/kill this class's groups
    SourceLocation where;               // the [classes.NAME] header

    bool operator==(const ClassPolicy& o) const {  // `where` does not change the effect
        return name == o.name && description == o.description && limits == o.limits &&
               workloadLimits == o.workloadLimits && namespaces == o.namespaces &&
               execAllowed == o.execAllowed && controlAllowed == o.controlAllowed;
    }
};

struct Policy {
    std::vector<ClassPolicy> classes;  // sorted by name
    Principals admins;  // may freeze/thaw/kill any class and reload ([governor] admins)
    std::vector<std::string> sources;  // the files it came from, in merge order

    const ClassPolicy* find(const std::string& name) const {
        for (const auto& c : classes) {
            if (c.name == name)
                return &c;
        }
        return nullptr;
    }
    bool operator==(const Policy& o) const {  // sources do not change the effect
        return classes == o.classes && admins == o.admins;
    }
};

}  // namespace gov::policies
