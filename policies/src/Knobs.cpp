#include "gov/policies/Knobs.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <type_traits>

#include "gov/policies/Units.hpp"

namespace gov::policies {
namespace {

// pids.max above PID_MAX_LIMIT (4194304) is refused by the kernel.
constexpr uint64_t kMaxPids = 4194304;
// NR_CPUS and MAX_NUMNODES at their largest kernel configuration.
constexpr uint64_t kCpuIdLimit = 8192;
constexpr uint64_t kMemNodeLimit = 1024;

// Write order, low first. The reasons:
// - cpuset first: later knobs do not depend on it, but a workload should never run
//   briefly on CPUs it is about to lose;
// - cpu.idle before cpu.weight: leaving idle resets the weight to 100, and the
//   kernel refuses a weight while idle; cpu.max before cpu.max.burst, which must not
//   exceed the quota (plan() swaps the two when the quota shrinks);
// - memory protections before limits, memory.oom.group before the limits (an OOM
//   kill that a tighter memory.max causes happens during the write, and must kill as
//   the new policy says), high before max, so that tightening never passes through
//   a state where max < high triggers needless OOM kills;
// - io.weight, then io.max last: one line per device.
enum Order : int {
    kOrderCpuset = 10,
    kOrderCpuIdle = 20,
    kOrderCpuWeight = 21,
    kOrderCpuMax = 22,
    kOrderCpuBurst = 23,
    kOrderMemoryProtection = 30,
    kOrderMemoryOomGroup = 32,
    kOrderMemoryHigh = 33,
    kOrderMemoryMax = 34,
    kOrderMemorySwap = 35,
    kOrderPids = 40,
    kOrderIoWeight = 50,
    kOrderIoMax = 60,
};

const std::vector<Knob>& table() {
    static const std::vector<Knob> kKnobs = {
        {.key = "memory.max",
         .controller = "memory",
         .file = "memory.max",
         .kind = ValueKind::Size,
         .field = &Resources::memoryMax,
         .kernelDefault = "max",
         .writeOrder = kOrderMemoryMax,
         .columnAlways = true,
         .summary = "hard limit: the group is OOM-killed beyond it"},
        {.key = "memory.high",
         .controller = "memory",
         .file = "memory.high",
         .kind = ValueKind::Size,
         .field = &Resources::memoryHigh,
         .kernelDefault = "max",
         .writeOrder = kOrderMemoryHigh,
         .columnAlways = true,
         .summary = "throttle and reclaim above it"},
        {.key = "memory.low",
         .controller = "memory",
         .file = "memory.low",
         .kind = ValueKind::Size,
         .field = &Resources::memoryLow,
         .kernelDefault = "0",
         .writeOrder = kOrderMemoryProtection + 1,
         .zeroAllowed = true,
         .protection = true,
         .columnAlways = true,
         .summary = "best-effort protection from reclaim"},
        {.key = "memory.min",
         .controller = "memory",
         .file = "memory.min",
         .kind = ValueKind::Size,
         .field = &Resources::memoryMin,
         .kernelDefault = "0",
         .writeOrder = kOrderMemoryProtection,
         .zeroAllowed = true,
         .protection = true,
         .columnAlways = true,
         .summary = "hard protection from reclaim"},
        {.key = "memory.swap.max",
         .controller = "memory",
         .file = "memory.swap.max",
         .kind = ValueKind::Size,
         .field = &Resources::memorySwapMax,
         .kernelDefault = "max",
         .writeOrder = kOrderMemorySwap,
         .zeroAllowed = true,
         .summary = "the most swap the group may use (0: none)"},
        {.key = "memory.zswap.max",
         .controller = "memory",
         .file = "memory.zswap.max",
         .kind = ValueKind::Size,
         .field = &Resources::memoryZswapMax,
         .kernelDefault = "max",
         .writeOrder = kOrderMemorySwap + 1,
         .zeroAllowed = true,
         .summary = "the most compressed memory in the zswap pool the group may use (0: none)"},
        {.key = "memory.oom.group",
         .controller = "memory",
         .file = "memory.oom.group",
         .kind = ValueKind::Flag,
         .field = &Resources::memoryOomGroup,
         .kernelDefault = "0",
         .writeOrder = kOrderMemoryOomGroup,
         // On by default for workload groups: a workload is one command with its
         // children (a shell and its pipeline, a server and its workers), and an OOM
         // kill of one of its processes leaves the others running half-broken and
         // still holding memory, where killing the group ends the workload cleanly:
         // its caller sees it killed (govctl exec exits 137), its memory is freed at
         // once, and its group empties and is accounted. systemd stops a service on
         // an OOM kill for the same reason (OOMPolicy=stop).
         .workloadDefault = "1",
         .summary = "an OOM kill ends the whole group, not one of its processes"},
        {.key = "pids.max",
         .controller = "pids",
         .file = "pids.max",
         .kind = ValueKind::Count,
         .field = &Resources::pidsMax,
         .kernelDefault = "max",
         .writeOrder = kOrderPids,
         .limit = kMaxPids,
         .unit = "tasks",
         .columnAlways = true,
         .summary = "the most tasks (processes and threads)"},
        {.key = "cpu.weight",
         .controller = "cpu",
         .file = "cpu.weight",
         .kind = ValueKind::Weight,
         .field = &Resources::cpuWeight,
         .kernelDefault = "100",
         .writeOrder = kOrderCpuWeight,
         .notWhenSet = "cpu.idle",
         .columnAlways = true,
         .summary = "relative CPU share against sibling groups under contention"},
        {.key = "cpu.max",
         .controller = "cpu",
         .file = "cpu.max",
         .kind = ValueKind::CpuBandwidth,
         .field = &Resources::cpuMax,
         .kernelDefault = "max 100000",
         .writeOrder = kOrderCpuMax,
         .columnAlways = true,
         .summary = "hard CPU cap: percent of one CPU, or quota per period"},
        // The policy key is not the file's name: TOML cannot make cpu.max both a
        // value ("50%") and a table holding "burst".
        {.key = "cpu.burst",
         .controller = "cpu",
         .file = "cpu.max.burst",
         .kind = ValueKind::Duration,
         .field = &Resources::cpuBurstUsec,
         .kernelDefault = "0",
         .writeOrder = kOrderCpuBurst,
         .summary = "CPU time a capped group may save up and spend above its cpu.max quota"},
        {.key = "cpu.idle",
         .controller = "cpu",
         .file = "cpu.idle",
         .kind = ValueKind::Flag,
         .field = &Resources::cpuIdle,
         .kernelDefault = "0",
         .writeOrder = kOrderCpuIdle,
         .summary = "runs only when the CPUs have nothing else to do (SCHED_IDLE)"},
        {.key = "cpuset.cpus",
         .controller = "cpuset",
         .file = "cpuset.cpus",
         .kind = ValueKind::IdList,
         .field = &Resources::cpusetCpus,
         .kernelDefault = "",
         .writeOrder = kOrderCpuset,
         .limit = kCpuIdLimit,
         .unit = "CPU",
         .column = "CPUSET",
         .cellLabel = "cpus",
         .columnAlways = true,
         .summary = "the CPUs the group may run on"},
        {.key = "cpuset.mems",
         .controller = "cpuset",
         .file = "cpuset.mems",
         .kind = ValueKind::IdList,
         .field = &Resources::cpusetMems,
         .kernelDefault = "",
         .writeOrder = kOrderCpuset + 1,
         .limit = kMemNodeLimit,
         .unit = "memory node",
         .column = "CPUSET",
         .cellLabel = "mems",
         .columnAlways = true,
         .summary = "the memory nodes the group may allocate from"},
        {.key = "io.read_bps",
         .controller = "io",
         .file = "io.max",
         .kind = ValueKind::Rate,
         .field = &IoLimit::readBps,
         .kernelDefault = "max",
         .writeOrder = kOrderIoMax,
         .ioMaxKey = "rbps",
         .column = "IO",
         .cellLabel = "rbps",
         .columnAlways = true,
         .summary = "read bytes per second"},
        {.key = "io.write_bps",
         .controller = "io",
         .file = "io.max",
         .kind = ValueKind::Rate,
         .field = &IoLimit::writeBps,
         .kernelDefault = "max",
         .writeOrder = kOrderIoMax,
         .ioMaxKey = "wbps",
         .column = "IO",
         .cellLabel = "wbps",
         .columnAlways = true,
         .summary = "written bytes per second"},
        {.key = "io.read_iops",
         .controller = "io",
         .file = "io.max",
         .kind = ValueKind::Count,
         .field = &IoLimit::readIops,
         .kernelDefault = "max",
         .writeOrder = kOrderIoMax,
         .limit = kMaxValue,
         .unit = "operations",
         .ioMaxKey = "riops",
         .column = "IO",
         .cellLabel = "riops",
         .columnAlways = true,
         .summary = "read operations per second"},
        {.key = "io.write_iops",
         .controller = "io",
         .file = "io.max",
         .kind = ValueKind::Count,
         .field = &IoLimit::writeIops,
         .kernelDefault = "max",
         .writeOrder = kOrderIoMax,
         .limit = kMaxValue,
         .unit = "operations",
         .ioMaxKey = "wiops",
         .column = "IO",
         .cellLabel = "wiops",
         .columnAlways = true,
         .summary = "write operations per second"},
        {.key = "io.weight",
         .controller = "io",
         .file = "io.weight",
         .kind = ValueKind::Weight,
         .field = &Resources::ioWeight,
         .kernelDefault = "default 100",
         .writeOrder = kOrderIoWeight,
         .cgroupPrefix = "default ",
         .summary = "relative share of a contended disk against sibling groups (needs io.cost)"},
    };
    return kKnobs;
}

template <typename T>
std::optional<KnobValue> asKnobValue(const std::optional<T>& v) {
    return v ? std::optional<KnobValue>(*v) : std::nullopt;
}

}  // namespace

const std::vector<Knob>& knobs() {
    return table();
}

const Knob* findKnob(std::string_view key) {
    for (const auto& k : table()) {
        if (k.key == key) {
            return &k;
        }
    }
    return nullptr;
}

const Knob* findKnobByFile(std::string_view file) {
    for (const auto& k : table()) {
        if (k.file == file && !isIoMaxKey(k)) {
            return &k;
        }
    }
    return nullptr;
}

bool isIoMaxKey(const Knob& knob) {
    return std::holds_alternative<std::optional<MaxOr> IoLimit::*>(knob.field);
}

std::vector<std::string> knobFiles() {
    std::vector<std::string> files;
    for (const auto& k : table()) {
        if (std::find(files.begin(), files.end(), k.file) == files.end()) {
            files.emplace_back(k.file);
        }
    }
    return files;
}

const std::vector<std::string>& resourceKeys() {
    static const std::vector<std::string> kKeys = [] {
        std::vector<std::string> keys;
        for (size_t i = 0; i < table().size(); ++i) {
            keys.emplace_back(table()[i].key);
            const bool lastIoMaxKey =
                isIoMaxKey(table()[i]) && (i + 1 == table().size() || !isIoMaxKey(table()[i + 1]));
            if (lastIoMaxKey) {
                keys.emplace_back("io.device");
            }
        }
        return keys;
    }();
    return kKeys;
}

std::optional<KnobValue> knobValue(const Knob& knob, const Resources& r) {
    return std::visit(
        [&](auto member) -> std::optional<KnobValue> {
            using Member = decltype(member);
            if constexpr (std::is_same_v<Member, std::optional<MaxOr> IoLimit::*>) {
                return std::nullopt;
            } else {
                return asKnobValue(r.*member);
            }
        },
        knob.field);
}

std::optional<KnobValue> knobValue(const Knob& knob, const IoLimit& io) {
    const auto* member = std::get_if<std::optional<MaxOr> IoLimit::*>(&knob.field);
    return member ? asKnobValue(io.**member) : std::nullopt;
}

void setKnobValue(const Knob& knob, Resources& r, const KnobValue& value) {
    std::visit(
        [&](auto member) {
            using Member = decltype(member);
            if constexpr (!std::is_same_v<Member, std::optional<MaxOr> IoLimit::*>) {
                using T = typename std::remove_reference_t<decltype(r.*member)>::value_type;
                r.*member = std::get<T>(value);
            }
        },
        knob.field);
}

void setKnobValue(const Knob& knob, IoLimit& io, const KnobValue& value) {
    if (const auto* member = std::get_if<std::optional<MaxOr> IoLimit::*>(&knob.field)) {
        io.** member = std::get<MaxOr>(value);
    }
}

void clearKnobValue(const Knob& knob, Resources& r) {
    std::visit(
        [&](auto member) {
            using Member = decltype(member);
            if constexpr (!std::is_same_v<Member, std::optional<MaxOr> IoLimit::*>) {
                (r.*member).reset();
            }
        },
        knob.field);
}

std::string cgroupText(const Knob& knob, const KnobValue& value) {
    std::string text = std::visit(
        [](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, MaxOr> || std::is_same_v<T, CpuMax>) {
                return v.toCgroup();
            } else if constexpr (std::is_same_v<T, bool>) {
                return v ? "1" : "0";
            } else if constexpr (std::is_same_v<T, std::string>) {
                return v;
            } else {
                return std::to_string(v);
            }
        },
        value);
    return std::string(knob.cgroupPrefix) + text;
}

std::string humanText(const Knob& knob, const KnobValue& value) {
    switch (knob.kind) {
        case ValueKind::Size: {
            const auto& v = std::get<MaxOr>(value);
            return v.isMax ? "max" : formatBytes(v.value);
        }
        case ValueKind::Rate: {
            const auto& v = std::get<MaxOr>(value);
            return v.isMax ? "max" : formatRate(v.value);
        }
        case ValueKind::Count:
            return std::get<MaxOr>(value).toCgroup();
        case ValueKind::Weight:
            return std::to_string(std::get<uint32_t>(value));
        case ValueKind::Flag:
            return std::get<bool>(value) ? "true" : "false";
        case ValueKind::Duration:
            return formatDurationUsec(std::get<uint64_t>(value));
        case ValueKind::CpuBandwidth: {
            const auto& v = std::get<CpuMax>(value);
            if (!v.quotaUsec) {
                return v.periodUsec == 100000 ? "max" : "max/" + formatDurationUsec(v.periodUsec);
            }
            // Percent of one CPU when it is exact, else quota/period.
            if (*v.quotaUsec < UINT64_MAX / 100 && (*v.quotaUsec * 100) % v.periodUsec == 0) {
                return std::to_string(*v.quotaUsec * 100 / v.periodUsec) + "%";
            }
            return formatDurationUsec(*v.quotaUsec) + "/" + formatDurationUsec(v.periodUsec);
        }
        case ValueKind::IdList:
            return std::get<std::string>(value);
    }
    return "";
}

std::optional<double> metricValue(const Knob& knob, const KnobValue& value) {
    switch (knob.kind) {
        case ValueKind::Size:
        case ValueKind::Rate:
        case ValueKind::Count: {
            const auto& v = std::get<MaxOr>(value);
            return v.isMax ? std::nullopt : std::optional<double>(static_cast<double>(v.value));
        }
        case ValueKind::Weight:
            return static_cast<double>(std::get<uint32_t>(value));
        case ValueKind::Flag:
            return std::get<bool>(value) ? 1.0 : 0.0;
        case ValueKind::Duration:
            return static_cast<double>(std::get<uint64_t>(value)) / 1e6;
        case ValueKind::CpuBandwidth: {
            const auto& v = std::get<CpuMax>(value);
            if (!v.quotaUsec) {
                return std::nullopt;
            }
            return static_cast<double>(*v.quotaUsec) / static_cast<double>(v.periodUsec);
        }
        case ValueKind::IdList:
            return std::nullopt;
    }
    return std::nullopt;
}

std::optional<KnobValue> valueOfCgroupText(const Knob& knob, std::string_view text) {
    if (!knob.cgroupPrefix.empty() &&
        text.substr(0, knob.cgroupPrefix.size()) == knob.cgroupPrefix) {
        text.remove_prefix(knob.cgroupPrefix.size());
    }
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    const bool number = !text.empty() && ec == std::errc() && end == text.data() + text.size();
    switch (knob.kind) {
        case ValueKind::Size:
        case ValueKind::Rate:
        case ValueKind::Count:
            if (text == "max") {
                return KnobValue(MaxOr::max());
            }
            return number ? std::optional<KnobValue>(MaxOr::of(n)) : std::nullopt;
        case ValueKind::Weight:
            return number && n <= UINT32_MAX ? std::optional<KnobValue>(static_cast<uint32_t>(n))
                                             : std::nullopt;
        case ValueKind::Flag:
            return number && n <= 1 ? std::optional<KnobValue>(n == 1) : std::nullopt;
        case ValueKind::Duration:
            return number ? std::optional<KnobValue>(n) : std::nullopt;
        case ValueKind::CpuBandwidth:
        case ValueKind::IdList:
            return std::nullopt;
    }
    return std::nullopt;
}

bool flagSet(const Knob& knob, const Resources& r) {
    auto v = knobValue(knob, r);
    return v && std::holds_alternative<bool>(*v) && std::get<bool>(*v);
}

bool Resources::empty() const {
    for (const auto& k : table()) {
        if (knobValue(k, *this)) {
            return false;
        }
    }
    return io.empty();
}

}  // namespace gov::policies
