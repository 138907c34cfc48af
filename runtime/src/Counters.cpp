#include "gov/runtime/Counters.hpp"

#include <algorithm>

namespace gov::runtime {

uint64_t GroupUsage::sumOverDevices(CounterId id) const {
    uint64_t sum = 0;
    for (const auto& d : devices)
        sum += d.values.valueOr0(id);
    return sum;
}

void ClassTotals::fold(const GroupUsage& usage) {
    ++workloadsEnded;
    auto combine = [](Fold fold, uint64_t& into, uint64_t value) {
        if (fold == Fold::Sum)
            into += value;
        else
            into = std::max(into, value);
    };
    for (const auto& row : kCounters) {
        if (row.fold == Fold::None)
            continue;
        if (row.source == CounterSource::PerDevice) {
            for (const auto& d : usage.devices) {
                if (auto v = d.values.get(row.id))
                    combine(row.fold, devices[d.device][index(row.id)], *v);
            }
            continue;
        }
        auto v = usage.values.get(row.id);
        if (!v && row.foldFallback)
            v = usage.values.get(*row.foldFallback);
        if (v)
            combine(row.fold, values[index(row.id)], *v);
    }
}

}  // namespace gov::runtime
