// Presenting what the daemon answers to ls, status, top and policy diff: human
// tables and machine JSON. Pure functions over plain structs (the D-Bus structs are
// converted in the subcommands), so they are unit-tested without a daemon.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gov::govctl {

// A class slice or workload group with its usage (ListGroups / GetGroup).
struct GroupRow {
    std::string group;
    std::string className;
    bool frozen = false;
    bool killed = false;
    uint64_t cpuUsageUsec = 0;
    uint64_t memoryBytes = 0;
    uint64_t ioReadBytes = 0;
    uint64_t ioWriteBytes = 0;
    uint32_t tasks = 0;
};

// A class of the policy in force (ListClasses).
struct ClassRow {
    std::string name;
    std::string description;
    std::vector<std::string> namespaces;
    uint32_t workloads = 0;
    bool frozen = false;
};

// One limit of a class where it is enforced (GetClassLimits; the daemon builds the
// rows from the knob table, gov/daemon/Plan.hpp limitPlacements()).
struct LimitRow {
    std::string key;     // "memory.max", "workload.pids.max"
    std::string value;   // "2 GiB"
    std::string file;    // "memory.max"
    std::string group;   // "adhoc.slice" or "adhoc.slice/*.scope"
    std::string source;  // "policy", "default for workload groups", ...
    bool enforced = true;
    std::string reason;  // why not, when not enforced
};

// One operation of a policy diff (DiffPolicy).
struct DiffRow {
    std::string kind;  // mkdir, enable, write, rmdir
    std::string group;
    std::string file;
    std::string oldValue;
    std::string value;
    std::string description;
};

// 1536 -> "1.5K", 0 -> "0", 123456789 -> "117.7M" (1024-based, like systemd-cgtop).
std::string humanBytes(uint64_t bytes);
// 1500000 -> "1.500s", 61000000 -> "1min 1.000s", 0 -> "0".
std::string humanCpuTime(uint64_t usec);
// "running", "frozen", "killed" (killed wins).
std::string groupState(const GroupRow& row);

// Columns GROUP CLASS STATE TASKS CPU MEMORY IO-READ IO-WRITE.
std::string formatGroupsTable(const std::vector<GroupRow>& rows);
nlohmann::json groupToJson(const GroupRow& row);
nlohmann::json groupsToJson(const std::vector<GroupRow>& rows);

// Columns CLASS WORKLOADS STATE NAMESPACES DESCRIPTION.
std::string formatClassesTable(const std::vector<ClassRow>& rows);
nlohmann::json classesToJson(const std::vector<ClassRow>& rows);

// "group:  adhoc.slice/x.scope\nclass:  adhoc\n..." with the pids.
std::string formatGroupDetail(const GroupRow& row, const std::vector<uint32_t>& pids);
nlohmann::json groupDetailToJson(const GroupRow& row, const std::vector<uint32_t>& pids);

// A class's limits: columns LIMIT VALUE ON SOURCE, one row each ("ON" is the class
// slice or, "<slice>/*.scope", each workload group), then one line per limit that
// cannot be enforced on this host with the reason. "no limits (...)" when empty.
std::string formatClassLimits(const std::vector<LimitRow>& rows);
nlohmann::json classLimitsToJson(const std::vector<LimitRow>& rows);

// The policy diff: one line per operation (its description) and a summary, or
// "no changes"; the unenforceable limits as notes.
std::string formatDiff(const std::vector<DiffRow>& rows, const std::vector<std::string>& notes);
nlohmann::json diffToJson(const std::vector<DiffRow>& rows, const std::vector<std::string>& notes);

enum class TopOrder { Cpu, Memory, Io, Tasks, Group };
std::optional<TopOrder> topOrderFromName(const std::string& name);

// One row of `top`: the group now and its rates since the previous sample.
struct TopRow {
    GroupRow now;
    std::optional<double> cpuPercent;    // of one CPU; nullopt: not in the previous sample
    std::optional<double> ioReadPerSec;  // bytes/s
    std::optional<double> ioWritePerSec;
};

// Rates between two samples `seconds` apart, matched by group name, sorted by
// `order` (descending; by name for Group and for ties). Counters that went
// backwards (a group re-created under the same name) give no rate.
std::vector<TopRow> topRows(const std::vector<GroupRow>& before, const std::vector<GroupRow>& now,
                            double seconds, TopOrder order);
// Columns GROUP TASKS %CPU MEMORY IO-READ/s IO-WRITE/s; a missing rate is "-".
std::string formatTopTable(const std::vector<TopRow>& rows);
nlohmann::json topToJson(const std::vector<TopRow>& rows, double seconds);

}  // namespace gov::govctl
