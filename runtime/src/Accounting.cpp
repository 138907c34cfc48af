#include "gov/runtime/Accounting.hpp"

namespace gov::runtime {
namespace {

Error parseError(Error e, const std::string& file, const std::string& group) {
    return std::move(e.wrap("parse " + file + " in " + groupDisplayName(group)));
}

// Reads an optional file and parses it with `parse`; a missing file leaves `out`
// untouched (nullopt).
template <typename T, typename Parse>
Result<void> readOptional(const CgroupFs& fs, const std::string& group, const char* file,
                          Parse&& parse, std::optional<T>& out) {
    auto text = fs.readIfExists(group, file);
    if (!text) {
        return std::move(text).error();
    }
    if (!text->has_value()) {
        return success();
    }
    auto parsed = parse(**text);
    if (!parsed) {
        return parseError(std::move(parsed).error(), file, group);
    }
    out = std::move(*parsed);
    return success();
}

}  // namespace

Result<CpuStat> parseCpuStat(std::string_view text) {
    CpuStat out;
    auto r = forEachFlatKeyed(text, [&](std::string_view key, uint64_t v) {
        if (key == "usage_usec") {
            out.usageUsec = v;
        } else if (key == "user_usec") {
            out.userUsec = v;
        } else if (key == "system_usec") {
            out.systemUsec = v;
        } else if (key == "nr_periods") {
            out.nrPeriods = v;
        } else if (key == "nr_throttled") {
            out.nrThrottled = v;
        } else if (key == "throttled_usec") {
            out.throttledUsec = v;
        }
    });
    if (!r) {
        return std::move(r).error();
    }
    return out;
}

Result<MemoryEvents> parseMemoryEvents(std::string_view text) {
    MemoryEvents out;
    auto r = forEachFlatKeyed(text, [&](std::string_view key, uint64_t v) {
        if (key == "low") {
            out.low = v;
        } else if (key == "high") {
            out.high = v;
        } else if (key == "max") {
            out.max = v;
        } else if (key == "oom") {
            out.oom = v;
        } else if (key == "oom_kill") {
            out.oomKill = v;
        } else if (key == "oom_group_kill") {
            out.oomGroupKill = v;
        }
    });
    if (!r) {
        return std::move(r).error();
    }
    return out;
}

Result<MemoryStat> parseMemoryStat(std::string_view text) {
    MemoryStat out;
    bool haveKernel = false;
    uint64_t kernelStack = 0;
    uint64_t slab = 0;
    auto r = forEachFlatKeyed(text, [&](std::string_view key, uint64_t v) {
        if (key == "anon") {
            out.anon = v;
        } else if (key == "file") {
            out.file = v;
        } else if (key == "kernel") {
            out.kernel = v;
            haveKernel = true;
        } else if (key == "kernel_stack") {
            kernelStack = v;
        } else if (key == "slab") {
            slab = v;
        } else if (key == "sock") {
            out.sock = v;
        } else if (key == "shmem") {
            out.shmem = v;
        }
    });
    if (!r) {
        return std::move(r).error();
    }
    if (!haveKernel) {
        // Kernels before 5.18 have no "kernel" total; stack + slab is most of it.
        out.kernel = kernelStack + slab;
    }
    return out;
}

Result<CgroupEvents> parseCgroupEvents(std::string_view text) {
    CgroupEvents out;
    auto r = forEachFlatKeyed(text, [&](std::string_view key, uint64_t v) {
        if (key == "populated") {
            out.populated = v != 0;
        } else if (key == "frozen") {
            out.frozen = v != 0;
        }
    });
    if (!r) {
        return std::move(r).error();
    }
    return out;
}

Result<CgroupEvents> readEvents(const CgroupFs& fs, const std::string& group) {
    auto text = fs.read(group, "cgroup.events");
    if (!text) {
        return std::move(text).error();
    }
    auto ev = parseCgroupEvents(*text);
    if (!ev) {
        return parseError(std::move(ev).error(), "cgroup.events", group);
    }
    return ev;
}

Result<GroupUsage> readUsage(const CgroupFs& fs, const std::string& group) {
    GroupUsage u;

    auto events = readEvents(fs, group);
    if (!events) {
        return std::move(events).error();
    }
    u.populated = events->populated;
    u.frozen = events->frozen;

    std::optional<FlatKeyed> stat;
    GOV_TRY(readOptional(fs, group, "cgroup.stat", parseFlatKeyed, stat));
    if (stat) {
        if (auto it = stat->find("nr_descendants"); it != stat->end()) {
            u.nrDescendants = it->second;
        }
        if (auto it = stat->find("nr_dying_descendants"); it != stat->end()) {
            u.nrDyingDescendants = it->second;
        }
    }

    GOV_TRY(readOptional(fs, group, "cpu.stat", parseCpuStat, u.cpu));

    // memory.current is the marker of the memory controller being enabled.
    std::optional<uint64_t> memCurrent;
    GOV_TRY(readOptional(fs, group, "memory.current", parseU64, memCurrent));
    if (memCurrent) {
        MemoryUsage m;
        m.current = *memCurrent;
        GOV_TRY(readOptional(fs, group, "memory.peak", parseU64, m.peak));
        GOV_TRY(readOptional(fs, group, "memory.max", parseMax, m.max));
        GOV_TRY(readOptional(fs, group, "memory.high", parseMax, m.high));
        GOV_TRY(readOptional(fs, group, "memory.swap.current", parseU64, m.swapCurrent));
        std::optional<MemoryEvents> ev;
        GOV_TRY(readOptional(fs, group, "memory.events", parseMemoryEvents, ev));
        m.events = ev.value_or(MemoryEvents{});
        std::optional<MemoryStat> ms;
        GOV_TRY(readOptional(fs, group, "memory.stat", parseMemoryStat, ms));
        m.stat = ms.value_or(MemoryStat{});
        u.memory = std::move(m);
    }

    GOV_TRY(readOptional(fs, group, "io.stat", parseIoStat, u.io));

    std::optional<uint64_t> pidsCurrent;
    GOV_TRY(readOptional(fs, group, "pids.current", parseU64, pidsCurrent));
    if (pidsCurrent) {
        PidsUsage p;
        p.current = *pidsCurrent;
        GOV_TRY(readOptional(fs, group, "pids.peak", parseU64, p.peak));
        GOV_TRY(readOptional(fs, group, "pids.max", parseMax, p.max));
        std::optional<FlatKeyed> pev;
        GOV_TRY(readOptional(fs, group, "pids.events", parseFlatKeyed, pev));
        if (pev) {
            if (auto it = pev->find("max"); it != pev->end()) {
                p.eventsMax = it->second;
            }
        }
        u.pids = std::move(p);
    }

    GOV_TRY(readOptional(fs, group, "cpu.pressure", parsePressure, u.cpuPressure));
    GOV_TRY(readOptional(fs, group, "memory.pressure", parsePressure, u.memoryPressure));
    GOV_TRY(readOptional(fs, group, "io.pressure", parsePressure, u.ioPressure));
    return u;
}

}  // namespace gov::runtime
