// Typed accounting of one group, read from whichever cgroup v2 files exist.
//
// Missing controller files are not errors: the field stays nullopt (a hybrid host
// has only cpu.stat usage/user/system, cgroup.events, cgroup.stat and the pressure
// files). A file that exists but is malformed is an error naming file and group.
//
// Cost: one open+read+close per file (up to 17 files with every controller; a missing file costs
// one failed openat), no iostreams, a stack buffer per read: this runs at every Prometheus scrape
// for every group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/Parsers.hpp"

namespace gov::runtime {

// cpu.stat. usage/user/system exist on every v2 group; throttling fields only
// with the cpu controller enabled (nullopt otherwise).
struct CpuStat {
    uint64_t usageUsec = 0;
    uint64_t userUsec = 0;
    uint64_t systemUsec = 0;
    std::optional<uint64_t> nrPeriods;
    std::optional<uint64_t> nrThrottled;
    std::optional<uint64_t> throttledUsec;
    bool operator==(const CpuStat&) const = default;
};

// memory.events (local to the group and its descendants, the hierarchical file).
struct MemoryEvents {
    uint64_t low = 0;
    uint64_t high = 0;
    uint64_t max = 0;
    uint64_t oom = 0;
    uint64_t oomKill = 0;
    uint64_t oomGroupKill = 0;
    bool operator==(const MemoryEvents&) const = default;
};

// The memory.stat keys Governor exports (bytes).
struct MemoryStat {
    uint64_t anon = 0;
    uint64_t file = 0;
    uint64_t kernel = 0;  // "kernel" (5.18+), else kernel_stack + slab as fallback
    uint64_t sock = 0;
    uint64_t shmem = 0;
    bool operator==(const MemoryStat&) const = default;
};

// Present when memory.current exists (memory controller enabled on the parent).
struct MemoryUsage {
    uint64_t current = 0;
    std::optional<uint64_t> peak;  // memory.peak, 5.19+
    std::optional<MaxOr> max;
    std::optional<MaxOr> high;
    std::optional<uint64_t> swapCurrent;
    MemoryEvents events;
    MemoryStat stat;
    bool operator==(const MemoryUsage&) const = default;
};

// Present when pids.current exists.
struct PidsUsage {
    uint64_t current = 0;
    std::optional<uint64_t> peak;  // pids.peak, 6.1+
    std::optional<MaxOr> max;
    uint64_t eventsMax = 0;  // pids.events "max": forks refused
    bool operator==(const PidsUsage&) const = default;
};

// cgroup.events.
struct CgroupEvents {
    bool populated = false;
    bool frozen = false;
    bool operator==(const CgroupEvents&) const = default;
};

struct GroupUsage {
    std::optional<CpuStat> cpu;
    std::optional<MemoryUsage> memory;
    std::optional<std::vector<IoStatLine>> io;  // present when io.stat exists
    std::optional<PidsUsage> pids;
    std::optional<Pressure> cpuPressure;
    std::optional<Pressure> memoryPressure;
    std::optional<Pressure> ioPressure;
    bool populated = false;           // cgroup.events
    bool frozen = false;              // cgroup.events
    uint64_t nrDescendants = 0;       // cgroup.stat
    uint64_t nrDyingDescendants = 0;  // cgroup.stat
    bool operator==(const GroupUsage&) const = default;
};

// Pure typed parsers over the generic ones (unknown keys ignored, missing known
// keys left at their defaults).
Result<CpuStat> parseCpuStat(std::string_view text);
Result<MemoryEvents> parseMemoryEvents(std::string_view text);
Result<MemoryStat> parseMemoryStat(std::string_view text);
Result<CgroupEvents> parseCgroupEvents(std::string_view text);

// cgroup.events of `group`. A missing group is an error (ENOENT).
Result<CgroupEvents> readEvents(const CgroupFs& fs, const std::string& group);

// Everything above for `group`. cgroup.events must exist (it is how a missing group
// is told apart from a group without controllers); every other file is optional.
Result<GroupUsage> readUsage(const CgroupFs& fs, const std::string& group);

}  // namespace gov::runtime
