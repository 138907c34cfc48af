#include "gov/core/Governor.hpp"

#include <spdlog/spdlog.h>

namespace gov::core {

Governor::Governor(GovernorConfig config, const Clock& clock, runtime::CgroupFs fs,
                   runtime::EventsWatcher watcher)
    : config_(std::move(config)),
      clock_(clock),
      fs_(std::move(fs)),
      reconciler_(fs_, config_.sysRoot, config_.devRoot, config_.memoryRecursiveProt,
                  config_.rootProtection),
      registry_(fs_, std::move(watcher), config_.stateDir, clock_,
                WorkloadRegistry::Timing{config_.emptyGrace, config_.saveDelay}),
      lastGood_(config_.stateDir) {}

ReloadOutcome Governor::reload() {
    ReloadOutcome out;
    stats_.lastReloadUnixSeconds = unixSeconds(clock_.wallNow());
    stats_.lastReloadOk = false;
    // Until this one is applied, the files on disk are not what is in force.
    stats_.policyFilesInForce = false;
    auto compiled = loadConfiguredPolicy(config_);
    if (!compiled.ok()) {
        ++stats_.reloadsInvalid;
        for (const auto& d : compiled.diagnostics)
            out.messages.push_back(d.format());
        spdlog::error("reload: the new policy is invalid; the previous policy stays in force");
        for (const auto& m : out.messages)
            spdlog::error("  {}", m);
        return out;
    }
    auto applied = reconciler_.applyPolicy(compiled.policy.value(), "reload");
    if (!applied) {
        ++stats_.reloadsFailed;
        out.messages.push_back(applied.error().message());
        spdlog::error(
            "reload: the new policy failed to apply ({}); the previous policy stays in "
            "force",
            applied.error().message());
        return out;
    }
    out.applied = true;
    ++stats_.reloadsApplied;
    stats_.lastReloadOk = true;
    stats_.policyFilesInForce = true;
    keepLastGood(compiled.sources);
    return out;
}

void Governor::handleEvents() {
    afterReap(registry_.handleEvents());
}

void Governor::rescan() {
    registry_.trackAll(TrackOrigin::Found);
    afterReap(registry_.reapAll());
}

void Governor::afterReap(bool ended) {
    if (ended && config_.saveDelay.count() == 0)
        flushEnded();
}

void Governor::flushEnded() {
    if (registry_.flushEnded())
        reconciler_.removeRetiredSlices(registry_.workloads());
}

std::string Governor::statusLine() const {
    size_t frozen = 0;
    for (const auto& [g, w] : workloads())
        frozen += w.frozen ? 1 : 0;
    std::string s = std::to_string(policy().classes.size()) + " classes, " +
                    std::to_string(workloads().size()) + " workload groups";
    if (frozen)
        s += " (" + std::to_string(frozen) + " frozen)";
    if (!unenforceable().empty()) {
        s += ", " + std::to_string(unenforceable().size()) + " limits not enforceable here";
    }
    return s;
}

}  // namespace gov::core
