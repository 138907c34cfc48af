#include "gov/exporter/DaemonSnapshot.hpp"

#include "gov/core/Plan.hpp"
#include "gov/exporter/PolicyLimits.hpp"

namespace gov::exporter {

ScrapeInput snapshotOf(const core::Governor& governor, std::string version) {
    ScrapeInput in;
    in.fs = &governor.fs();
    for (const auto& c : governor.policy().classes)
        in.classes.push_back({c.name, core::sliceGroup(c.name)});
    for (const auto& r : governor.retiredClasses())
        in.classes.push_back({r, core::sliceGroup(r)});
    in.workloads.reserve(governor.workloads().size());
    for (const auto& [group, w] : governor.workloads())
        in.workloads.push_back({group, w.className});
    in.endedTotals = governor.state().classes;
    in.availableControllers = governor.availableControllers();
    in.knownControllers = core::managedControllers();
    for (const auto& u : governor.unenforceable())
        in.unenforceable.push_back({u.className, u.key, u.controller});
    in.policyLimits = policyLimits(governor.policy());
    const auto& s = governor.stats();
    in.daemon = DaemonCounters{s.reloadsApplied,        s.reloadsInvalid, s.reloadsFailed,
                               s.lastReloadUnixSeconds, s.lastReloadOk,   s.execs};
    in.version = std::move(version);
    return in;
}

}  // namespace gov::exporter
