#include "gov/policies/CgroupWrites.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace gov::policies {
namespace {

// "8:16" -> (8, 16) for numeric ordering; unparsable sorts last, by text.
std::pair<uint64_t, uint64_t> majMinKey(const std::string& majMin) {
    auto colon = majMin.find(':');
    uint64_t maj = UINT64_MAX;
    uint64_t min = UINT64_MAX;
    if (colon != std::string::npos) {
        std::from_chars(majMin.data(), majMin.data() + colon, maj);
        std::from_chars(majMin.data() + colon + 1, majMin.data() + majMin.size(), min);
    }
    return {maj, min};
}

// The limits of one io.max line and the policy keys behind them.
struct IoLine {
    IoLimit limit;
    std::vector<std::string> keys;
};

void overlay(IoLine& line, const IoLimit& from, const std::string& keyPrefix) {
    auto take = [&](const std::optional<MaxOr>& src, std::optional<MaxOr>& dst, const char* k) {
        if (src) {
            dst = src;
            line.keys.push_back(keyPrefix + k);
        }
    };
    take(from.readBps, line.limit.readBps, "read_bps");
    take(from.writeBps, line.limit.writeBps, "write_bps");
    take(from.readIops, line.limit.readIops, "read_iops");
    take(from.writeIops, line.limit.writeIops, "write_iops");
}

std::string orMax(const std::optional<MaxOr>& v) {
    return v ? v->toCgroup() : "max";
}

std::string joinKeys(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) {
        out += out.empty() ? k : "," + k;
    }
    return out;
}

}  // namespace

std::string ioResetLine(const std::string& majMin) {
    return majMin + " rbps=max wbps=max riops=max wiops=max";
}

Result<std::vector<KnobWrite>> desiredWrites(const Resources& r, const DeviceTable& devices) {
    std::vector<KnobWrite> w;
    auto add = [&](const char* controller, const char* file, std::string value, const char* key) {
        w.push_back(KnobWrite{controller, file, std::move(value), key});
    };
    // cpuset first: later knobs do not depend on it, but a workload should never
    // run briefly on CPUs it is about to lose.
    add("cpuset", "cpuset.cpus", r.cpusetCpus.value_or(""), "cpuset.cpus");
    add("cpuset", "cpuset.mems", r.cpusetMems.value_or(""), "cpuset.mems");
    add("cpu", "cpu.weight", std::to_string(r.cpuWeight.value_or(100)), "cpu.weight");
    add("cpu", "cpu.max", r.cpuMax.value_or(CpuMax{}).toCgroup(), "cpu.max");
    // Protections before limits, and high before max, so that tightening never
    // passes through a state where max < high triggers needless OOM kills.
    add("memory", "memory.min", r.memoryMin ? r.memoryMin->toCgroup() : "0", "memory.min");
    add("memory", "memory.low", r.memoryLow ? r.memoryLow->toCgroup() : "0", "memory.low");
    add("memory", "memory.high", r.memoryHigh ? r.memoryHigh->toCgroup() : "max", "memory.high");
    add("memory", "memory.max", r.memoryMax ? r.memoryMax->toCgroup() : "max", "memory.max");
    add("pids", "pids.max", r.pidsMax ? r.pidsMax->toCgroup() : "max", "pids.max");

    // io: the all-devices limits on every whole disk, then each named device with
    // its own keys overriding the all-devices ones key by key.
    std::map<std::string, IoLine> lines;  // MAJ:MIN -> line
    const IoLimit* all = nullptr;
    for (const auto& io : r.io) {
        if (io.allDevices()) {
            all = &io;
        }
    }
    if (all != nullptr && !all->empty()) {
        for (const auto& disk : devices.wholeDisks) {
            overlay(lines[disk], *all, "io.");
        }
    }
    std::map<std::string, std::string> namedBy;  // MAJ:MIN -> device as written
    for (const auto& io : r.io) {
        if (io.allDevices() || io.empty()) {
            continue;
        }
        auto found = devices.resolved.find(io.device);
        if (found == devices.resolved.end()) {
            return Error::withReason("io.device \"" + io.device + "\"",
                                     "no such block device on this host",
                                     std::errc::no_such_device);
        }
        const std::string& majMin = found->second;
        if (auto [it, inserted] = namedBy.emplace(majMin, io.device); !inserted) {
            return Error::withReason(
                "io.device \"" + io.device + "\"",
                "is the same device (" + majMin + ") as \"" + it->second + "\"");
        }
        IoLine& line = lines[majMin];
        if (line.keys.empty() && all != nullptr) {
            // A named device that is not a whole disk (a partition) still gets the
            // all-devices limits under its own.
            overlay(line, *all, "io.");
        }
        overlay(line, io, "io.device.\"" + io.device + "\".");
    }
    std::vector<std::pair<std::string, IoLine>> sorted(lines.begin(), lines.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        auto ka = majMinKey(a.first);
        auto kb = majMinKey(b.first);
        return ka != kb ? ka < kb : a.first < b.first;
    });
    for (const auto& [majMin, line] : sorted) {
        const IoLimit& l = line.limit;
        w.push_back(KnobWrite{"io", "io.max",
                              majMin + " rbps=" + orMax(l.readBps) + " wbps=" + orMax(l.writeBps) +
                                  " riops=" + orMax(l.readIops) + " wiops=" + orMax(l.writeIops),
                              joinKeys(line.keys)});
    }
    return w;
}

}  // namespace gov::policies
