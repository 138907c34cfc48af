// The counter table: every accounting value Governor reads from a group's cgroup
// files, declared once. One row says where the value is (file, key, how the file is
// shaped), how it is exported (metric name, help, type, unit), and how the values of
// ended workloads fold into their class's totals (sum or max) and under which name
// those totals are persisted (totals.json). Everything else is driven by it:
//   - runtime::readUsage() reads exactly the files the rows name and parses them
//     with the rows' keys (Accounting.hpp);
//   - ClassTotals::fold() folds the rows that have a Fold (below);
//   - the daemon's totals.json reads and writes the rows' JSON names
//     (governor/src/Totals.cpp);
//   - the exporter makes one metric family per row for workload groups
//     (governor_group_<metric>), class slices (governor_class_<metric>) and, for
//     folded rows, ended workloads (governor_class_ended_<metric>).
// Adding a counter is one row here (and its tests); the row's position is its
// position in the exposition.
//
// Pure data and arithmetic: no I/O. Thread safety: the table is constant; the value
// types are plain values.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gov::runtime {

// One enumerator per row of kCounters, in the same order (checked at compile time).
enum class CounterId : uint8_t {
    CpuUsage,
    CpuUser,
    CpuSystem,
    CpuPeriods,
    CpuThrottledPeriods,
    CpuThrottledTime,
    MemoryCurrent,
    MemoryPeak,
    MemoryMax,
    MemoryHigh,
    MemoryEventsLow,
    MemoryEventsHigh,
    MemoryEventsMax,
    MemoryEventsOom,
    MemoryEventsOomKill,
    MemoryEventsOomGroupKill,
    MemoryAnon,
    MemoryFile,
    MemoryKernel,
    MemorySock,
    IoReadBytes,
    IoWriteBytes,
    IoReadOps,
    IoWriteOps,
    TasksCurrent,
    TasksPeak,
    TasksMax,
    TasksMaxEvents,
    CpuPressureSome,
    CpuPressureFull,
    MemoryPressureSome,
    MemoryPressureFull,
    IoPressureSome,
    IoPressureFull,
    Frozen,
    Populated,
    Count
};

inline constexpr size_t kCounterCount = static_cast<size_t>(CounterId::Count);

constexpr size_t index(CounterId id) {
    return static_cast<size_t>(id);
}

// How the value is found in its file.
enum class CounterSource : uint8_t {
    Keyed,      // the value of `key` in a "key value" file (cpu.stat, memory.events)
    Single,     // the file's one number (memory.current)
    Limit,      // the file's one number; no value when it reads "max" (memory.max)
    PerDevice,  // `key`=N on each "MAJ:MIN key=N ..." line (io.stat): one value per device
                //   line (0 when the line lacks the key: the kernel writes every key)
    Pressure,   // total= of the PSI line `key` ("some" or "full")
};

// The Prometheus type of the exported metric.
enum class ExportType : uint8_t { Counter, Gauge };

// The unit of the file's value, converted to the metric's base unit on export.
enum class Scale : uint8_t {
    One,           // exported as is (bytes, events, tasks, 0/1)
    MicrosToSecs,  // microseconds in the file, seconds in the metric
};

// How the values of the workloads of a class that ended combine in its totals.
enum class Fold : uint8_t {
    None,  // not kept: a level (memory.current) or a limit means nothing once a group ended
    Sum,   // a counter: the sum over the ended workloads
    Max,   // a peak: the largest value of any ended workload
};

// When a class's ended total of the row is exported (governor_class_ended_*): a total
// that the kernel could never have produced here is absent, not a pretend zero.
enum class EndedGate : uint8_t {
    Always,      // every host has the file (cpu.stat usage, io.stat devices that were seen)
    Controller,  // only when `controller` is available to the daemon's root
    FileSeen,    // only when some group of this scrape had the row's file (PSI)
};

struct CounterSpec {
    CounterId id;
    const char* file;  // in the group's directory
    const char* key;   // see CounterSource; "" for Single and Limit
    CounterSource source = CounterSource::Keyed;
    // The file is read only when this other file exists in the group (the marker of
    // the controller being enabled: memory.current for memory.*), which saves a failed
    // open per file on hosts without the controller. nullptr: always tried.
    const char* readIf = nullptr;

    const char* metric = "";  // governor_{group,class,class_ended}_<metric>
    ExportType type = ExportType::Counter;
    Scale scale = Scale::One;
    const char* help = "";  // of governor_group_<metric> and governor_class_<metric>

    Fold fold = Fold::None;
    // The name in totals.json: a field of the class's object, "object.field" for a
    // field of a nested object, or, for PerDevice rows, a field of io.<MAJ:MIN>.
    const char* json = nullptr;
    const char* endedHelp = nullptr;  // of governor_class_ended_<metric>
    EndedGate endedGate = EndedGate::Always;
    const char* controller = nullptr;  // EndedGate::Controller
    // Fold::Max: the row whose value is folded when this one is missing (a kernel
    // before memory.peak / pids.peak existed: the last level is the best peak known).
    std::optional<CounterId> foldFallback{};
    // Keyed: keys whose sum is the value when `key` is missing (older kernels).
    std::array<const char*, 2> keyFallback{};
};

// The table. Order: the exposition's order of families.
inline constexpr CounterSpec kCounters[] = {
    // cpu.stat: usage on every v2 group, throttling only with the cpu controller.
    {.id = CounterId::CpuUsage,
     .file = "cpu.stat",
     .key = "usage_usec",
     .metric = "cpu_usage_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "CPU time used (cpu.stat usage_usec).",
     .fold = Fold::Sum,
     .json = "cpu_usage_usec",
     .endedHelp = "CPU time used by ended workloads (cpu.stat)."},
    {.id = CounterId::CpuUser,
     .file = "cpu.stat",
     .key = "user_usec",
     .metric = "cpu_user_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "CPU time in user mode (cpu.stat user_usec).",
     .fold = Fold::Sum,
     .json = "cpu_user_usec",
     .endedHelp = "User CPU time of ended workloads (cpu.stat)."},
    {.id = CounterId::CpuSystem,
     .file = "cpu.stat",
     .key = "system_usec",
     .metric = "cpu_system_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "CPU time in kernel mode (cpu.stat system_usec).",
     .fold = Fold::Sum,
     .json = "cpu_system_usec",
     .endedHelp = "System CPU time of ended workloads (cpu.stat)."},
    {.id = CounterId::CpuPeriods,
     .file = "cpu.stat",
     .key = "nr_periods",
     .metric = "cpu_periods_total",
     .help = "Enforcement periods elapsed (cpu.stat nr_periods).",
     .fold = Fold::Sum,
     .json = "cpu_nr_periods",
     .endedHelp = "Enforcement periods of ended workloads (cpu.stat).",
     .endedGate = EndedGate::Controller,
     .controller = "cpu"},
    {.id = CounterId::CpuThrottledPeriods,
     .file = "cpu.stat",
     .key = "nr_throttled",
     .metric = "cpu_throttled_periods_total",
     .help = "Periods in which the group was throttled (cpu.stat nr_throttled).",
     .fold = Fold::Sum,
     .json = "cpu_nr_throttled",
     .endedHelp = "Throttled periods of ended workloads (cpu.stat nr_throttled).",
     .endedGate = EndedGate::Controller,
     .controller = "cpu"},
    {.id = CounterId::CpuThrottledTime,
     .file = "cpu.stat",
     .key = "throttled_usec",
     .metric = "cpu_throttled_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "Time the group was throttled (cpu.stat throttled_usec).",
     .fold = Fold::Sum,
     .json = "cpu_throttled_usec",
     .endedHelp = "Throttled time of ended workloads (cpu.stat throttled_usec).",
     .endedGate = EndedGate::Controller,
     .controller = "cpu"},

    // memory.*: memory.current is the marker of the memory controller.
    {.id = CounterId::MemoryCurrent,
     .file = "memory.current",
     .key = "",
     .source = CounterSource::Single,
     .metric = "memory_current_bytes",
     .type = ExportType::Gauge,
     .help = "Memory in use (memory.current)."},
    {.id = CounterId::MemoryPeak,
     .file = "memory.peak",
     .key = "",
     .source = CounterSource::Single,
     .readIf = "memory.current",
     .metric = "memory_peak_bytes",
     .type = ExportType::Gauge,
     .help = "Largest memory use since creation (memory.peak).",
     .fold = Fold::Max,
     .json = "memory_peak_bytes",
     .endedHelp = "Largest memory.peak of any ended workload.",
     .endedGate = EndedGate::Controller,
     .controller = "memory",
     .foldFallback = CounterId::MemoryCurrent},
    {.id = CounterId::MemoryMax,
     .file = "memory.max",
     .key = "",
     .source = CounterSource::Limit,
     .readIf = "memory.current",
     .metric = "memory_max_bytes",
     .type = ExportType::Gauge,
     .help = "Memory hard limit (memory.max); no series when \"max\"."},
    {.id = CounterId::MemoryHigh,
     .file = "memory.high",
     .key = "",
     .source = CounterSource::Limit,
     .readIf = "memory.current",
     .metric = "memory_high_bytes",
     .type = ExportType::Gauge,
     .help = "Memory throttling threshold (memory.high); no series when \"max\"."},
    {.id = CounterId::MemoryEventsLow,
     .file = "memory.events",
     .key = "low",
     .readIf = "memory.current",
     .metric = "memory_events_low_total",
     .help = "Reclaims below memory.low protection (memory.events low).",
     .fold = Fold::Sum,
     .json = "memory_events_low",
     .endedHelp = "memory.events low of ended workloads.",
     .endedGate = EndedGate::Controller,
     .controller = "memory"},
    {.id = CounterId::MemoryEventsHigh,
     .file = "memory.events",
     .key = "high",
     .readIf = "memory.current",
     .metric = "memory_events_high_total",
     .help = "Times memory.high was exceeded (memory.events high).",
     .fold = Fold::Sum,
     .json = "memory_events_high",
     .endedHelp = "memory.events high of ended workloads.",
     .endedGate = EndedGate::Controller,
     .controller = "memory"},
    {.id = CounterId::MemoryEventsMax,
     .file = "memory.events",
     .key = "max",
     .readIf = "memory.current",
     .metric = "memory_events_max_total",
     .help = "Times memory.max was about to be exceeded (memory.events max).",
     .fold = Fold::Sum,
     .json = "memory_events_max",
     .endedHelp = "memory.events max of ended workloads.",
     .endedGate = EndedGate::Controller,
     .controller = "memory"},
    {.id = CounterId::MemoryEventsOom,
     .file = "memory.events",
     .key = "oom",
     .readIf = "memory.current",
     .metric = "memory_events_oom_total",
     .help = "OOM situations (memory.events oom).",
     .fold = Fold::Sum,
     .json = "oom",
     .endedHelp = "memory.events oom of ended workloads.",
     .endedGate = EndedGate::Controller,
     .controller = "memory"},
    {.id = CounterId::MemoryEventsOomKill,
     .file = "memory.events",
     .key = "oom_kill",
     .readIf = "memory.current",
     .metric = "memory_events_oom_kill_total",
     .help = "Processes killed by the OOM killer (memory.events oom_kill).",
     .fold = Fold::Sum,
     .json = "oom_kill",
     .endedHelp = "memory.events oom_kill of ended workloads.",
     .endedGate = EndedGate::Controller,
     .controller = "memory"},
    // With memory.oom.group set, an OOM kills the whole group: oom_kill counts its
    // processes, this counts the group kills (kernel 5.17+).
    {.id = CounterId::MemoryEventsOomGroupKill,
     .file = "memory.events",
     .key = "oom_group_kill",
     .readIf = "memory.current",
     .metric = "memory_events_oom_group_kill_total",
     .help = "Times the OOM killer killed the whole group (memory.oom.group; memory.events "
             "oom_group_kill).",
     .fold = Fold::Sum,
     .json = "oom_group_kill",
     .endedHelp = "memory.events oom_group_kill of ended workloads.",
     .endedGate = EndedGate::Controller,
     .controller = "memory"},
    {.id = CounterId::MemoryAnon,
     .file = "memory.stat",
     .key = "anon",
     .readIf = "memory.current",
     .metric = "memory_anon_bytes",
     .type = ExportType::Gauge,
     .help = "Anonymous memory (memory.stat anon)."},
    {.id = CounterId::MemoryFile,
     .file = "memory.stat",
     .key = "file",
     .readIf = "memory.current",
     .metric = "memory_file_bytes",
     .type = ExportType::Gauge,
     .help = "Page cache memory (memory.stat file)."},
    {.id = CounterId::MemoryKernel,
     .file = "memory.stat",
     .key = "kernel",
     .readIf = "memory.current",
     .metric = "memory_kernel_bytes",
     .type = ExportType::Gauge,
     .help = "Kernel memory (memory.stat kernel, or kernel_stack + slab before 5.18).",
     // Kernels before 5.18 have no "kernel" total; stack + slab is most of it.
     .keyFallback = {"kernel_stack", "slab"}},
    {.id = CounterId::MemorySock,
     .file = "memory.stat",
     .key = "sock",
     .readIf = "memory.current",
     .metric = "memory_sock_bytes",
     .type = ExportType::Gauge,
     .help = "Network socket buffers (memory.stat sock)."},

    // io.stat: one line per device the group did IO on.
    {.id = CounterId::IoReadBytes,
     .file = "io.stat",
     .key = "rbytes",
     .source = CounterSource::PerDevice,
     .metric = "io_read_bytes_total",
     .help = "Bytes read, per device (io.stat rbytes).",
     .fold = Fold::Sum,
     .json = "read_bytes",
     .endedHelp = "Bytes read by ended workloads, per device (io.stat)."},
    {.id = CounterId::IoWriteBytes,
     .file = "io.stat",
     .key = "wbytes",
     .source = CounterSource::PerDevice,
     .metric = "io_write_bytes_total",
     .help = "Bytes written, per device (io.stat wbytes).",
     .fold = Fold::Sum,
     .json = "write_bytes",
     .endedHelp = "Bytes written by ended workloads, per device (io.stat)."},
    {.id = CounterId::IoReadOps,
     .file = "io.stat",
     .key = "rios",
     .source = CounterSource::PerDevice,
     .metric = "io_read_operations_total",
     .help = "Read operations, per device (io.stat rios).",
     .fold = Fold::Sum,
     .json = "read_ops",
     .endedHelp = "Read operations of ended workloads, per device (io.stat)."},
    {.id = CounterId::IoWriteOps,
     .file = "io.stat",
     .key = "wios",
     .source = CounterSource::PerDevice,
     .metric = "io_write_operations_total",
     .help = "Write operations, per device (io.stat wios).",
     .fold = Fold::Sum,
     .json = "write_ops",
     .endedHelp = "Write operations of ended workloads, per device (io.stat)."},

    // pids.*: pids.current is the marker of the pids controller.
    {.id = CounterId::TasksCurrent,
     .file = "pids.current",
     .key = "",
     .source = CounterSource::Single,
     .metric = "tasks_current",
     .type = ExportType::Gauge,
     .help = "Tasks (threads) in the group (pids.current)."},
    {.id = CounterId::TasksPeak,
     .file = "pids.peak",
     .key = "",
     .source = CounterSource::Single,
     .readIf = "pids.current",
     .metric = "tasks_peak",
     .type = ExportType::Gauge,
     .help = "Largest number of tasks since creation (pids.peak).",
     .fold = Fold::Max,
     .json = "pids_peak",
     .endedHelp = "Largest pids.peak of any ended workload.",
     .endedGate = EndedGate::Controller,
     .controller = "pids",
     .foldFallback = CounterId::TasksCurrent},
    {.id = CounterId::TasksMax,
     .file = "pids.max",
     .key = "",
     .source = CounterSource::Limit,
     .readIf = "pids.current",
     .metric = "tasks_max",
     .type = ExportType::Gauge,
     .help = "Task limit (pids.max); no series when \"max\"."},
    {.id = CounterId::TasksMaxEvents,
     .file = "pids.events",
     .key = "max",
     .readIf = "pids.current",
     .metric = "tasks_max_events_total",
     .help = "Forks refused because of the task limit (pids.events max).",
     .fold = Fold::Sum,
     .json = "pids_events_max",
     .endedHelp = "pids.events max of ended workloads.",
     .endedGate = EndedGate::Controller,
     .controller = "pids"},

    // PSI: on every v2 group of a kernel with CONFIG_PSI (full for cpu since 5.13).
    {.id = CounterId::CpuPressureSome,
     .file = "cpu.pressure",
     .key = "some",
     .source = CounterSource::Pressure,
     .metric = "cpu_pressure_some_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "Time some tasks were stalled on CPU (cpu.pressure some total).",
     .fold = Fold::Sum,
     .json = "cpu_pressure.some_usec",
     .endedHelp = "cpu.pressure some of ended workloads.",
     .endedGate = EndedGate::FileSeen},
    {.id = CounterId::CpuPressureFull,
     .file = "cpu.pressure",
     .key = "full",
     .source = CounterSource::Pressure,
     .metric = "cpu_pressure_full_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "Time all tasks were stalled on CPU (cpu.pressure full total).",
     .fold = Fold::Sum,
     .json = "cpu_pressure.full_usec",
     .endedHelp = "cpu.pressure full of ended workloads.",
     .endedGate = EndedGate::FileSeen},
    {.id = CounterId::MemoryPressureSome,
     .file = "memory.pressure",
     .key = "some",
     .source = CounterSource::Pressure,
     .metric = "memory_pressure_some_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "Time some tasks were stalled on memory (memory.pressure some total).",
     .fold = Fold::Sum,
     .json = "memory_pressure.some_usec",
     .endedHelp = "memory.pressure some of ended workloads.",
     .endedGate = EndedGate::FileSeen},
    {.id = CounterId::MemoryPressureFull,
     .file = "memory.pressure",
     .key = "full",
     .source = CounterSource::Pressure,
     .metric = "memory_pressure_full_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "Time all tasks were stalled on memory (memory.pressure full total).",
     .fold = Fold::Sum,
     .json = "memory_pressure.full_usec",
     .endedHelp = "memory.pressure full of ended workloads.",
     .endedGate = EndedGate::FileSeen},
    {.id = CounterId::IoPressureSome,
     .file = "io.pressure",
     .key = "some",
     .source = CounterSource::Pressure,
     .metric = "io_pressure_some_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "Time some tasks were stalled on IO (io.pressure some total).",
     .fold = Fold::Sum,
     .json = "io_pressure.some_usec",
     .endedHelp = "io.pressure some of ended workloads.",
     .endedGate = EndedGate::FileSeen},
    {.id = CounterId::IoPressureFull,
     .file = "io.pressure",
     .key = "full",
     .source = CounterSource::Pressure,
     .metric = "io_pressure_full_seconds_total",
     .scale = Scale::MicrosToSecs,
     .help = "Time all tasks were stalled on IO (io.pressure full total).",
     .fold = Fold::Sum,
     .json = "io_pressure.full_usec",
     .endedHelp = "io.pressure full of ended workloads.",
     .endedGate = EndedGate::FileSeen},

    // cgroup.events: every group has it (readUsage reads it first: its absence
    // means the group is gone).
    {.id = CounterId::Frozen,
     .file = "cgroup.events",
     .key = "frozen",
     .metric = "frozen",
     .type = ExportType::Gauge,
     .help = "1 when the group is frozen (cgroup.events frozen)."},
    {.id = CounterId::Populated,
     .file = "cgroup.events",
     .key = "populated",
     .metric = "populated",
     .type = ExportType::Gauge,
     .help = "1 when the group or a descendant has a process (cgroup.events)."},
};

static_assert(std::size(kCounters) == kCounterCount, "one row per CounterId");
static_assert(
    [] {
        for (size_t i = 0; i < kCounterCount; ++i) {
            if (index(kCounters[i].id) != i)
                return false;
        }
        return true;
    }(),
    "kCounters rows are in CounterId order");

constexpr const CounterSpec& spec(CounterId id) {
    return kCounters[index(id)];
}

// The file every group has; readUsage() reads it first.
inline constexpr const char* kPresenceFile = "cgroup.events";

// The values of some counters, by CounterId; a counter the kernel did not provide
// (its file or key missing, or a limit that reads "max") has no value.
class CounterValues {
  public:
    bool has(CounterId id) const { return present_.test(index(id)); }
    std::optional<uint64_t> get(CounterId id) const {
        if (!has(id))
            return std::nullopt;
        return values_[index(id)];
    }
    // The value, or 0 when there is none.
    uint64_t valueOr0(CounterId id) const { return values_[index(id)]; }
    void set(CounterId id, uint64_t value) {
        values_[index(id)] = value;
        present_.set(index(id));
    }
    bool operator==(const CounterValues&) const = default;

  private:
    std::array<uint64_t, kCounterCount> values_{};
    std::bitset<kCounterCount> present_;
};

// One device line of io.stat: the PerDevice counters of that device.
struct DeviceValues {
    std::string device;  // "MAJ:MIN"
    CounterValues values;
    bool operator==(const DeviceValues&) const = default;
};

// What readUsage() found in one group.
struct GroupUsage {
    CounterValues values;               // every row but the PerDevice ones
    std::vector<DeviceValues> devices;  // PerDevice rows, one entry per device, file order
    // filesRead.test(index(id)): the file of row `id` existed (its value may still be
    // missing: a key the kernel does not write).
    std::bitset<kCounterCount> filesRead;

    bool populated() const { return values.valueOr0(CounterId::Populated) != 0; }
    bool frozen() const { return values.valueOr0(CounterId::Frozen) != 0; }
    // The sum over the devices of a PerDevice row (0 without io.stat).
    uint64_t sumOverDevices(CounterId id) const;
    bool operator==(const GroupUsage&) const = default;
};

// Sums (Fold::Sum rows) and maxima (Fold::Max rows) over the ended workloads of one
// class; rows without a Fold stay 0. Every value only grows. The daemon persists it
// (totals.json), the exporter exports it (governor_class_ended_*).
struct ClassTotals {
    using Values = std::array<uint64_t, kCounterCount>;

    uint64_t workloadsEnded = 0;
    Values values{};                        // by CounterId
    std::map<std::string, Values> devices;  // PerDevice rows, by "MAJ:MIN"

    uint64_t operator[](CounterId id) const { return values[index(id)]; }
    uint64_t& operator[](CounterId id) { return values[index(id)]; }

    // Adds one ended workload's final counters.
    void fold(const GroupUsage& usage);
    bool operator==(const ClassTotals&) const = default;
};

}  // namespace gov::runtime
