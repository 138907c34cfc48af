#include "gov/exporter/Collector.hpp"

#include <malloc.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <charconv>
#include <cmath>
#include <sstream>
#include <system_error>

#include "gov/runtime/Accounting.hpp"

namespace gov::exporter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

struct Spec {
    const char* suffix;
    MetricType type;
    const char* help;
};

// The usage metrics, exported once per workload group (governor_group_*, labels
// class and group) and once per class slice (governor_class_*, label class).
enum Usage : size_t {
    kCpuUsage,
    kCpuUser,
    kCpuSystem,
    kCpuPeriods,
    kCpuThrottledPeriods,
    kCpuThrottledSeconds,
    kMemCurrent,
    kMemPeak,
    kMemMax,
    kMemHigh,
    kMemEventsLow,
    kMemEventsHigh,
    kMemEventsMax,
    kMemEventsOom,
    kMemEventsOomKill,
    kMemAnon,
    kMemFile,
    kMemKernel,
    kMemSock,
    kIoReadBytes,
    kIoWriteBytes,
    kIoReadOps,
    kIoWriteOps,
    kTasksCurrent,
    kTasksPeak,
    kTasksMax,
    kTasksMaxEvents,
    kCpuPressureSome,
    kCpuPressureFull,
    kMemPressureSome,
    kMemPressureFull,
    kIoPressureSome,
    kIoPressureFull,
    kFrozen,
    kPopulated,
    kUsageCount
};

constexpr MetricType kCounter = MetricType::Counter;
constexpr MetricType kGauge = MetricType::Gauge;

constexpr std::array<Spec, kUsageCount> kUsageSpecs = {{
    {"cpu_usage_seconds_total", kCounter, "CPU time used (cpu.stat usage_usec)."},
    {"cpu_user_seconds_total", kCounter, "CPU time in user mode (cpu.stat user_usec)."},
    {"cpu_system_seconds_total", kCounter, "CPU time in kernel mode (cpu.stat system_usec)."},
    {"cpu_periods_total", kCounter, "Enforcement periods elapsed (cpu.stat nr_periods)."},
    {"cpu_throttled_periods_total", kCounter,
     "Periods in which the group was throttled (cpu.stat nr_throttled)."},
    {"cpu_throttled_seconds_total", kCounter,
     "Time the group was throttled (cpu.stat throttled_usec)."},
    {"memory_current_bytes", kGauge, "Memory in use (memory.current)."},
    {"memory_peak_bytes", kGauge, "Largest memory use since creation (memory.peak)."},
    {"memory_max_bytes", kGauge, "Memory hard limit (memory.max); no series when \"max\"."},
    {"memory_high_bytes", kGauge,
     "Memory throttling threshold (memory.high); no series when \"max\"."},
    {"memory_events_low_total", kCounter,
     "Reclaims below memory.low protection (memory.events low)."},
    {"memory_events_high_total", kCounter, "Times memory.high was exceeded (memory.events high)."},
    {"memory_events_max_total", kCounter,
     "Times memory.max was about to be exceeded (memory.events max)."},
    {"memory_events_oom_total", kCounter, "OOM situations (memory.events oom)."},
    {"memory_events_oom_kill_total", kCounter,
     "Processes killed by the OOM killer (memory.events oom_kill)."},
    {"memory_anon_bytes", kGauge, "Anonymous memory (memory.stat anon)."},
    {"memory_file_bytes", kGauge, "Page cache memory (memory.stat file)."},
    {"memory_kernel_bytes", kGauge,
     "Kernel memory (memory.stat kernel, or kernel_stack + slab before 5.18)."},
    {"memory_sock_bytes", kGauge, "Network socket buffers (memory.stat sock)."},
    {"io_read_bytes_total", kCounter, "Bytes read, per device (io.stat rbytes)."},
    {"io_write_bytes_total", kCounter, "Bytes written, per device (io.stat wbytes)."},
    {"io_read_operations_total", kCounter, "Read operations, per device (io.stat rios)."},
    {"io_write_operations_total", kCounter, "Write operations, per device (io.stat wios)."},
    {"tasks_current", kGauge, "Tasks (threads) in the group (pids.current)."},
    {"tasks_peak", kGauge, "Largest number of tasks since creation (pids.peak)."},
    {"tasks_max", kGauge, "Task limit (pids.max); no series when \"max\"."},
    {"tasks_max_events_total", kCounter,
     "Forks refused because of the task limit (pids.events max)."},
    {"cpu_pressure_some_seconds_total", kCounter,
     "Time some tasks were stalled on CPU (cpu.pressure some total)."},
    {"cpu_pressure_full_seconds_total", kCounter,
     "Time all tasks were stalled on CPU (cpu.pressure full total)."},
    {"memory_pressure_some_seconds_total", kCounter,
     "Time some tasks were stalled on memory (memory.pressure some total)."},
    {"memory_pressure_full_seconds_total", kCounter,
     "Time all tasks were stalled on memory (memory.pressure full total)."},
    {"io_pressure_some_seconds_total", kCounter,
     "Time some tasks were stalled on IO (io.pressure some total)."},
    {"io_pressure_full_seconds_total", kCounter,
     "Time all tasks were stalled on IO (io.pressure full total)."},
    {"frozen", kGauge, "1 when the group is frozen (cgroup.events frozen)."},
    {"populated", kGauge, "1 when the group or a descendant has a process (cgroup.events)."},
}};

// Totals of the workloads of a class that have ended (governor_class_ended_*,
// label class): the persisted ClassTotals, monotonic across daemon restarts.
enum Ended : size_t {
    kEndWorkloads,
    kEndCpuUsage,
    kEndCpuUser,
    kEndCpuSystem,
    kEndCpuPeriods,
    kEndCpuThrottledPeriods,
    kEndCpuThrottledSeconds,
    kEndMemPeak,
    kEndMemEventsLow,
    kEndMemEventsHigh,
    kEndMemEventsMax,
    kEndMemEventsOom,
    kEndMemEventsOomKill,
    kEndIoReadBytes,
    kEndIoWriteBytes,
    kEndIoReadOps,
    kEndIoWriteOps,
    kEndTasksPeak,
    kEndTasksMaxEvents,
    kEndCpuPressureSome,
    kEndCpuPressureFull,
    kEndMemPressureSome,
    kEndMemPressureFull,
    kEndIoPressureSome,
    kEndIoPressureFull,
    kEndedCount
};

constexpr std::array<Spec, kEndedCount> kEndedSpecs = {{
    {"workloads_total", kCounter, "Workload groups of the class that ended and were removed."},
    {"cpu_usage_seconds_total", kCounter, "CPU time used by ended workloads (cpu.stat)."},
    {"cpu_user_seconds_total", kCounter, "User CPU time of ended workloads (cpu.stat)."},
    {"cpu_system_seconds_total", kCounter, "System CPU time of ended workloads (cpu.stat)."},
    {"cpu_periods_total", kCounter, "Enforcement periods of ended workloads (cpu.stat)."},
    {"cpu_throttled_periods_total", kCounter,
     "Throttled periods of ended workloads (cpu.stat nr_throttled)."},
    {"cpu_throttled_seconds_total", kCounter,
     "Throttled time of ended workloads (cpu.stat throttled_usec)."},
    {"memory_peak_bytes", kGauge, "Largest memory.peak of any ended workload."},
    {"memory_events_low_total", kCounter, "memory.events low of ended workloads."},
    {"memory_events_high_total", kCounter, "memory.events high of ended workloads."},
    {"memory_events_max_total", kCounter, "memory.events max of ended workloads."},
    {"memory_events_oom_total", kCounter, "memory.events oom of ended workloads."},
    {"memory_events_oom_kill_total", kCounter, "memory.events oom_kill of ended workloads."},
    {"io_read_bytes_total", kCounter, "Bytes read by ended workloads, per device (io.stat)."},
    {"io_write_bytes_total", kCounter, "Bytes written by ended workloads, per device (io.stat)."},
    {"io_read_operations_total", kCounter,
     "Read operations of ended workloads, per device (io.stat)."},
    {"io_write_operations_total", kCounter,
     "Write operations of ended workloads, per device (io.stat)."},
    {"tasks_peak", kGauge, "Largest pids.peak of any ended workload."},
    {"tasks_max_events_total", kCounter, "pids.events max of ended workloads."},
    {"cpu_pressure_some_seconds_total", kCounter, "cpu.pressure some of ended workloads."},
    {"cpu_pressure_full_seconds_total", kCounter, "cpu.pressure full of ended workloads."},
    {"memory_pressure_some_seconds_total", kCounter, "memory.pressure some of ended workloads."},
    {"memory_pressure_full_seconds_total", kCounter, "memory.pressure full of ended workloads."},
    {"io_pressure_some_seconds_total", kCounter, "io.pressure some of ended workloads."},
    {"io_pressure_full_seconds_total", kCounter, "io.pressure full of ended workloads."},
}};

double seconds(uint64_t usec) {
    return static_cast<double>(usec) / 1e6;
}
double num(uint64_t v) {
    return static_cast<double>(v);
}

MetricFamily family(std::string name, const char* help, MetricType type) {
    MetricFamily f;
    f.name = std::move(name);
    f.help = help;
    f.type = type;
    return f;
}

void add(MetricFamily& f, Labels labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) {
        m.counter.value = value;
    } else {
        m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
}

Labels withDevice(const Labels& labels, const std::string& device) {
    Labels out = labels;
    out.push_back({"device", device});
    return out;
}

// Which PSI resources were seen on this host in this scrape (gates the ended
// pressure totals: no pressure files, no pressure series).
struct PressureSeen {
    bool cpu = false;
    bool memory = false;
    bool io = false;
};

// Appends one group's usage to the usage families `fams` (kUsageCount of them).
void appendUsage(MetricFamily* fams, const Labels& labels, const runtime::GroupUsage& u,
                 PressureSeen& seen) {
    if (u.cpu) {
        add(fams[kCpuUsage], labels, seconds(u.cpu->usageUsec));
        add(fams[kCpuUser], labels, seconds(u.cpu->userUsec));
        add(fams[kCpuSystem], labels, seconds(u.cpu->systemUsec));
        if (u.cpu->nrPeriods)
            add(fams[kCpuPeriods], labels, num(*u.cpu->nrPeriods));
        if (u.cpu->nrThrottled)
            add(fams[kCpuThrottledPeriods], labels, num(*u.cpu->nrThrottled));
        if (u.cpu->throttledUsec)
            add(fams[kCpuThrottledSeconds], labels, seconds(*u.cpu->throttledUsec));
    }
    if (u.memory) {
        const auto& m = *u.memory;
        add(fams[kMemCurrent], labels, num(m.current));
        if (m.peak)
            add(fams[kMemPeak], labels, num(*m.peak));
        if (m.max && !m.max->isMax)
            add(fams[kMemMax], labels, num(m.max->value));
        if (m.high && !m.high->isMax)
            add(fams[kMemHigh], labels, num(m.high->value));
        add(fams[kMemEventsLow], labels, num(m.events.low));
        add(fams[kMemEventsHigh], labels, num(m.events.high));
        add(fams[kMemEventsMax], labels, num(m.events.max));
        add(fams[kMemEventsOom], labels, num(m.events.oom));
        add(fams[kMemEventsOomKill], labels, num(m.events.oomKill));
        add(fams[kMemAnon], labels, num(m.stat.anon));
        add(fams[kMemFile], labels, num(m.stat.file));
        add(fams[kMemKernel], labels, num(m.stat.kernel));
        add(fams[kMemSock], labels, num(m.stat.sock));
    }
    if (u.io) {
        for (const auto& line : *u.io) {
            Labels l = withDevice(labels, line.majMin);
            add(fams[kIoReadBytes], l, num(line.rbytes));
            add(fams[kIoWriteBytes], l, num(line.wbytes));
            add(fams[kIoReadOps], l, num(line.rios));
            add(fams[kIoWriteOps], std::move(l), num(line.wios));
        }
    }
    if (u.pids) {
        add(fams[kTasksCurrent], labels, num(u.pids->current));
        if (u.pids->peak)
            add(fams[kTasksPeak], labels, num(*u.pids->peak));
        if (u.pids->max && !u.pids->max->isMax)
            add(fams[kTasksMax], labels, num(u.pids->max->value));
        add(fams[kTasksMaxEvents], labels, num(u.pids->eventsMax));
    }
    auto pressure = [&](const std::optional<runtime::Pressure>& p, size_t some, size_t full,
                        bool& seenFlag) {
        if (!p)
            return;
        seenFlag = true;
        add(fams[some], labels, seconds(p->some.totalUsec));
        if (p->full)
            add(fams[full], labels, seconds(p->full->totalUsec));
    };
    pressure(u.cpuPressure, kCpuPressureSome, kCpuPressureFull, seen.cpu);
    pressure(u.memoryPressure, kMemPressureSome, kMemPressureFull, seen.memory);
    pressure(u.ioPressure, kIoPressureSome, kIoPressureFull, seen.io);
    add(fams[kFrozen], labels, u.frozen ? 1 : 0);
    add(fams[kPopulated], labels, u.populated ? 1 : 0);
}

// Appends one class's ended totals. Controller-backed totals are exported only
// when the host offers the controller (a total the kernel could never have
// produced is absent, not a pretend zero).
void appendEnded(MetricFamily* fams, const Labels& labels, const core::ClassTotals& t,
                 const std::set<std::string>& available, const PressureSeen& seen) {
    add(fams[kEndWorkloads], labels, num(t.workloadsEnded));
    add(fams[kEndCpuUsage], labels, seconds(t.cpuUsageUsec));
    add(fams[kEndCpuUser], labels, seconds(t.cpuUserUsec));
    add(fams[kEndCpuSystem], labels, seconds(t.cpuSystemUsec));
    if (available.count("cpu")) {
        add(fams[kEndCpuPeriods], labels, num(t.cpuNrPeriods));
        add(fams[kEndCpuThrottledPeriods], labels, num(t.cpuNrThrottled));
        add(fams[kEndCpuThrottledSeconds], labels, seconds(t.cpuThrottledUsec));
    }
    if (available.count("memory")) {
        add(fams[kEndMemPeak], labels, num(t.memoryPeakBytes));
        add(fams[kEndMemEventsLow], labels, num(t.memoryEventsLow));
        add(fams[kEndMemEventsHigh], labels, num(t.memoryEventsHigh));
        add(fams[kEndMemEventsMax], labels, num(t.memoryEventsMax));
        add(fams[kEndMemEventsOom], labels, num(t.memoryEventsOom));
        add(fams[kEndMemEventsOomKill], labels, num(t.memoryEventsOomKill));
    }
    for (const auto& [device, io] : t.io) {
        Labels l = withDevice(labels, device);
        add(fams[kEndIoReadBytes], l, num(io.readBytes));
        add(fams[kEndIoWriteBytes], l, num(io.writeBytes));
        add(fams[kEndIoReadOps], l, num(io.readOps));
        add(fams[kEndIoWriteOps], std::move(l), num(io.writeOps));
    }
    if (available.count("pids")) {
        add(fams[kEndTasksPeak], labels, num(t.pidsPeak));
        add(fams[kEndTasksMaxEvents], labels, num(t.pidsEventsMax));
    }
    if (seen.cpu) {
        add(fams[kEndCpuPressureSome], labels, seconds(t.cpuPressure.someUsec));
        add(fams[kEndCpuPressureFull], labels, seconds(t.cpuPressure.fullUsec));
    }
    if (seen.memory) {
        add(fams[kEndMemPressureSome], labels, seconds(t.memoryPressure.someUsec));
        add(fams[kEndMemPressureFull], labels, seconds(t.memoryPressure.fullUsec));
    }
    if (seen.io) {
        add(fams[kEndIoPressureSome], labels, seconds(t.ioPressure.someUsec));
        add(fams[kEndIoPressureFull], labels, seconds(t.ioPressure.fullUsec));
    }
}

template <size_t N>
std::vector<MetricFamily> makeFamilies(const std::string& prefix,
                                       const std::array<Spec, N>& specs) {
    std::vector<MetricFamily> out;
    out.reserve(N);
    for (const auto& s : specs) {
        out.push_back(family(prefix + s.suffix, s.help, s.type));
    }
    return out;
}

bool isGone(const Error& e) {
    return e.code() == std::errc::no_such_file_or_directory ||
           e.code() == std::errc::no_such_device;
}

}  // namespace

std::vector<MetricFamily> Collector::collect(const ScrapeInput& in) {
    static const std::set<std::string> kNone;
    const auto& available = in.availableControllers ? *in.availableControllers : kNone;

    // Daemon self-metrics.
    auto buildInfo = family("governor_build_info", "Always 1; the version is a label.", kGauge);
    add(buildInfo, {{"version", in.version}}, 1);
    auto controllerAvailable =
        family("governor_controller_available",
               "1 when the cgroup v2 controller is available to the daemon's root "
               "(cgroup.controllers), 0 when limits that need it cannot be enforced.",
               kGauge);
    for (const auto& c : in.knownControllers) {
        add(controllerAvailable, {{"controller", c}}, available.count(c) ? 1 : 0);
    }
    auto unenforceable =
        family("governor_limit_unenforceable",
               "1 for each policy limit that cannot be enforced because its controller is missing.",
               kGauge);
    if (in.unenforceable) {
        for (const auto& u : *in.unenforceable) {
            add(unenforceable,
                {{"class", u.className}, {"key", u.key}, {"controller", u.controller}}, 1);
        }
    }
    auto policyLimit =
        family("governor_class_policy_limit",
               "The limit the policy in force sets on a class (bytes, bytes/s, IOPS, tasks, "
               "weight, or CPUs for cpu.max), whether or not this kernel can enforce it; no "
               "series for a limit that is unset or \"max\".",
               kGauge);
    if (in.policy) {
        for (const auto& cls : in.policy->classes) {
            const auto& r = cls.limits;
            auto limit = [&](const char* key, const std::optional<policies::MaxOr>& v,
                             const std::string& device = "") {
                if (!v || v->isMax)
                    return;
                Labels labels = {{"class", cls.name}, {"key", key}};
                if (!device.empty())
                    labels.push_back({"device", device});
                add(policyLimit, std::move(labels), static_cast<double>(v->value));
            };
            limit("memory.max", r.memoryMax);
            limit("memory.high", r.memoryHigh);
            limit("memory.low", r.memoryLow);
            limit("memory.min", r.memoryMin);
            limit("pids.max", r.pidsMax);
            if (r.cpuWeight)
                add(policyLimit, {{"class", cls.name}, {"key", "cpu.weight"}}, *r.cpuWeight);
            if (r.cpuMax && r.cpuMax->quotaUsec) {
                add(policyLimit, {{"class", cls.name}, {"key", "cpu.max"}},
                    static_cast<double>(*r.cpuMax->quotaUsec) /
                        static_cast<double>(r.cpuMax->periodUsec));
            }
            for (const auto& io : r.io) {
                const std::string device = io.allDevices() ? "all" : io.device;
                limit("io.read_bps", io.readBps, device);
                limit("io.write_bps", io.writeBps, device);
                limit("io.read_iops", io.readIops, device);
                limit("io.write_iops", io.writeIops, device);
            }
        }
    }
    auto reloads = family("governor_policy_reloads_total",
                          "Policy reloads by outcome (applied, invalid, failed).", kCounter);
    auto lastReload = family("governor_policy_last_reload_timestamp_seconds",
                             "Unix time of the last reload attempt (or of the start).", kGauge);
    auto lastReloadOk = family("governor_policy_last_reload_success",
                               "1 when the last reload attempt was applied.", kGauge);
    auto execs = family("governor_execs_total", "Exec requests by class and outcome.", kCounter);
    if (in.stats) {
        add(reloads, {{"outcome", "applied"}}, num(in.stats->reloadsApplied));
        add(reloads, {{"outcome", "invalid"}}, num(in.stats->reloadsInvalid));
        add(reloads, {{"outcome", "failed"}}, num(in.stats->reloadsFailed));
        add(lastReload, {}, in.stats->lastReloadUnixSeconds);
        add(lastReloadOk, {}, in.stats->lastReloadOk ? 1 : 0);
        for (const auto& [key, count] : in.stats->execs) {
            add(execs, {{"class", key.first}, {"outcome", key.second}}, num(count));
        }
    }
    auto managed = family("governor_groups_managed",
                          "Workload groups the daemon currently tracks, by class.", kGauge);
    std::map<std::string, uint64_t> perClass;
    for (const auto& c : in.classes) {
        perClass[c] = 0;
    }
    if (in.workloads) {
        for (const auto& [group, w] : *in.workloads) {
            ++perClass[w.className];
        }
    }
    for (const auto& [c, n] : perClass) {
        add(managed, {{"class", c}}, num(n));
    }

    PressureSeen seen;
    auto readGroup = [&](const std::string& group) -> std::optional<runtime::GroupUsage> {
        auto usage = runtime::readUsage(*in.fs, group);
        if (!usage) {
            if (!isGone(usage.error())) {
                ++scrapeErrors_;
                lastError_ = usage.error().message();
            }
            return std::nullopt;
        }
        return std::move(*usage);
    };

    // Class slices: the live class-wide numbers (the kernel's hierarchical
    // counters include children that already ended while the slice exists).
    auto classFams = makeFamilies("governor_class_", kUsageSpecs);
    if (in.fs) {
        for (const auto& c : in.classes) {
            if (auto u = readGroup(core::sliceGroup(c))) {
                appendUsage(classFams.data(), {{"class", c}}, *u, seen);
            }
        }
    }

    // Workload groups.
    auto groupFams = makeFamilies("governor_group_", kUsageSpecs);
    if (in.workloads) {
        for (auto& f : groupFams) {
            f.metric.reserve(in.workloads->size());
        }
    }
    if (in.fs && in.workloads) {
        for (const auto& [group, w] : *in.workloads) {
            if (auto u = readGroup(group)) {
                appendUsage(groupFams.data(), {{"class", w.className}, {"group", group}}, *u, seen);
            }
        }
    }

    // Ended workloads: every class with persisted totals, and every policy class
    // (nothing ended yet is a true zero).
    auto endedFams = makeFamilies("governor_class_ended_", kEndedSpecs);
    {
        std::map<std::string, const core::ClassTotals*> classes;
        static const core::ClassTotals kZero;
        for (const auto& c : in.classes) {
            classes[c] = &kZero;
        }
        if (in.endedTotals) {
            for (const auto& [c, t] : *in.endedTotals) {
                classes[c] = &t;
            }
        }
        for (const auto& [c, t] : classes) {
            appendEnded(endedFams.data(), {{"class", c}}, *t, available, seen);
        }
    }

    auto duration = family("governor_scrape_duration_seconds",
                           "Duration of the previous scrape of this endpoint (collect and "
                           "serialize); absent on the first scrape.",
                           kGauge);
    if (previousScrapeSeconds_) {
        add(duration, {}, *previousScrapeSeconds_);
    }
    auto errors = family("governor_scrape_errors_total",
                         "Group reads that failed during scrapes (other than groups that "
                         "disappeared while being read).",
                         kCounter);
    add(errors, {}, num(scrapeErrors_));

    std::vector<MetricFamily> out;
    out.reserve(16 + 2 * kUsageCount + kEndedCount);
    auto keep = [&](MetricFamily&& f) {
        if (!f.metric.empty())
            out.push_back(std::move(f));
    };
    for (auto* f : {&buildInfo, &controllerAvailable, &unenforceable, &policyLimit, &reloads,
                    &lastReload, &lastReloadOk, &execs, &managed}) {
        keep(std::move(*f));
    }
    for (auto& f : classFams)
        keep(std::move(f));
    for (auto& f : endedFams)
        keep(std::move(f));
    for (auto& f : groupFams)
        keep(std::move(f));
    keep(std::move(duration));
    keep(std::move(errors));
    return out;
}

std::string Collector::scrape(const ScrapeInput& input) {
    auto start = Clock::now();
    std::string text = serialize(collect(input));
    // The metric families of a scrape are transient (~2 MB at 1000 groups) and
    // scrapes are seconds apart: give their pages back instead of keeping the
    // daemon's RSS at the scrape's high-water mark.
    ::malloc_trim(0);
    previousScrapeSeconds_ = std::chrono::duration<double>(Clock::now() - start).count();
    return text;
}

namespace {

// Label values: the escapes of the text format (backslash, double quote, newline).
void appendEscaped(std::string& out, const std::string& value) {
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

// A value exactly as TextSerializer writes it (an ostream with precision 16,
// default float format, i.e. "%.16g"; "Nan", "+Inf", "-Inf").
void appendValue(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "Nan";
        return;
    }
    if (std::isinf(v)) {
        out += v < 0 ? "-Inf" : "+Inf";
        return;
    }
    char buf[64];
    std::to_chars_result r{};
    // Most samples are whole numbers (bytes, counts): the integer path is exact
    // and "%.16g" prints them without exponent up to 16 digits.
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    } else {
        r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 16);
    }
    out.append(buf, r.ptr);
}

bool fastPathApplies(const std::vector<prometheus::MetricFamily>& families) {
    for (const auto& f : families) {
        if (f.type != MetricType::Counter && f.type != MetricType::Gauge)
            return false;
        for (const auto& m : f.metric) {
            if (m.timestamp_ms != 0)
                return false;
        }
    }
    return true;
}

}  // namespace

std::string serializeWithTextSerializer(const std::vector<prometheus::MetricFamily>& families) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return std::move(out).str();
}

std::string serialize(const std::vector<prometheus::MetricFamily>& families) {
    // prometheus::TextSerializer writes label values one character at a time
    // through std::ostream; at 1000 groups that alone cost ~40% of what reading
    // the cgroup files costs. This writer produces the same bytes (the unit tests
    // compare both on the fixture tree and on escaping/number edge cases) for the
    // counters and gauges the collector makes; anything else goes to TextSerializer.
    if (!fastPathApplies(families))
        return serializeWithTextSerializer(families);
    size_t series = 0;
    for (const auto& f : families)
        series += f.metric.size();
    std::string out;
    out.reserve(series * 96 + families.size() * 192);
    for (const auto& f : families) {
        const char* type = f.type == MetricType::Counter ? "counter" : "gauge";
        if (!f.help.empty()) {  // TextSerializer leaves out an empty HELP
            out += "# HELP ";
            out += f.name;
            out += ' ';
            out += f.help;
            out += '\n';
        }
        out += "# TYPE ";
        out += f.name;
        out += ' ';
        out += type;
        out += '\n';
        for (const auto& m : f.metric) {
            out += f.name;
            if (!m.label.empty()) {
                out += '{';
                bool first = true;
                for (const auto& l : m.label) {
                    if (!first)
                        out += ',';
                    first = false;
                    out += l.name;
                    out += "=\"";
                    appendEscaped(out, l.value);
                    out += '"';
                }
                out += '}';
            }
            out += ' ';
            appendValue(out, f.type == MetricType::Counter ? m.counter.value : m.gauge.value);
            out += '\n';
        }
    }
    return out;
}

}  // namespace gov::exporter
