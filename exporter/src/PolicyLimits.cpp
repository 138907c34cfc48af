#include "gov/exporter/PolicyLimits.hpp"

#include "gov/policies/Knobs.hpp"

namespace gov::exporter {

std::vector<PolicyLimit> policyLimits(const policies::Policy& policy) {
    std::vector<PolicyLimit> out;
    for (const auto& cls : policy.classes) {
        const auto& r = cls.limits;
        // One series per knob the class sets (the knob table), in table order; the
        // keys of io.max lines per device, labelled with it ("all": every disk).
        for (const auto& k : policies::knobs()) {
            auto v = policies::knobValue(k, r);
            auto m = v ? policies::metricValue(k, *v) : std::nullopt;
            if (m)
                out.push_back({cls.name, std::string(k.key), "", *m});
        }
        for (const auto& io : r.io) {
            const std::string device = io.allDevices() ? "all" : io.device;
            for (const auto& k : policies::knobs()) {
                auto v = policies::knobValue(k, io);
                auto m = v ? policies::metricValue(k, *v) : std::nullopt;
                if (m)
                    out.push_back({cls.name, std::string(k.key), device, *m});
            }
        }
    }
    return out;
}

}  // namespace gov::exporter
