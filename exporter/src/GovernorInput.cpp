#include "gov/exporter/GovernorInput.hpp"

#include "gov/core/Plan.hpp"

namespace gov::exporter {

ScrapeInput inputFrom(const core::Governor& governor, std::string version) {
    ScrapeInput in;
    in.fs = &governor.fs();
    for (const auto& c : governor.policy().classes) {
        in.classes.push_back(c.name);
    }
    for (const auto& r : governor.retiredClasses()) {
        in.classes.push_back(r);
    }
    in.workloads = &governor.workloads();
    in.endedTotals = &governor.state().classes;
    in.availableControllers = &governor.availableControllers();
    in.knownControllers = core::managedControllers();
    in.unenforceable = &governor.unenforceable();
    in.policy = &governor.policy();
    in.stats = &governor.stats();
    in.version = std::move(version);
    return in;
}

}  // namespace gov::exporter
