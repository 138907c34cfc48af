#include "gov/exporter/PolicyLimits.hpp"

namespace gov::exporter {

std::vector<PolicyLimit> policyLimits(const policies::Policy& policy) {
    std::vector<PolicyLimit> out;
    for (const auto& cls : policy.classes) {
        const auto& r = cls.limits;
        auto limit = [&](const char* key, const std::optional<policies::MaxOr>& v,
                         const std::string& device = "") {
            if (!v || v->isMax)
                return;
            out.push_back({cls.name, key, device, static_cast<double>(v->value)});
        };
        limit("memory.max", r.memoryMax);
        limit("memory.high", r.memoryHigh);
        limit("memory.low", r.memoryLow);
        limit("memory.min", r.memoryMin);
        limit("pids.max", r.pidsMax);
        if (r.cpuWeight)
            out.push_back({cls.name, "cpu.weight", "", static_cast<double>(*r.cpuWeight)});
        if (r.cpuMax && r.cpuMax->quotaUsec) {
            out.push_back({cls.name, "cpu.max", "",
                           static_cast<double>(*r.cpuMax->quotaUsec) /
                               static_cast<double>(r.cpuMax->periodUsec)});
        }
        for (const auto& io : r.io) {
            const std::string device = io.allDevices() ? "all" : io.device;
            limit("io.read_bps", io.readBps, device);
            limit("io.write_bps", io.writeBps, device);
            limit("io.read_iops", io.readIops, device);
            limit("io.write_iops", io.writeIops, device);
        }
    }
    return out;
}

}  // namespace gov::exporter
