#include "FixtureDaemon.hpp"

namespace gov::exporter::test {

std::string fixtureTree() {
    return fixtureFile("tree");
}
std::string fixtureFile(const std::string& name) {
    return std::string(GOV_SOURCE_DIR) + "/tests/fixtures/exporter/" + name;
}

Result<std::unique_ptr<FixtureDaemon>> loadFixtureDaemon(const std::string& treePath) {
    auto fs = runtime::CgroupFs::open(treePath);
    if (!fs)
        return std::move(fs).error();
    auto d = std::make_unique<FixtureDaemon>(std::move(*fs));
    ScrapeInput& in = d->snapshot;
    in.classes = {{"adhoc", "adhoc.slice"}, {"core", "core.slice"}, {"noncore", "noncore.slice"}};
    in.workloads = {
        {"adhoc.slice/exec-1.scope", "adhoc"},
        // Tracked, but reaped from the tree between the listing and the read: skipped.
        {"adhoc.slice/gone.scope", "adhoc"},
        {"core.slice/web.scope", "core"},
    };

    using C = runtime::CounterId;
    runtime::ClassTotals adhoc;
    adhoc.workloadsEnded = 7;
    adhoc[C::CpuUsage] = 12500000;
    adhoc[C::CpuUser] = 10000000;
    adhoc[C::CpuSystem] = 2500000;
    adhoc[C::CpuPeriods] = 900;
    adhoc[C::CpuThrottledPeriods] = 12;
    adhoc[C::CpuThrottledTime] = 480000;
    adhoc[C::MemoryPeak] = 1610612736;
    adhoc[C::MemoryEventsHigh] = 3;
    adhoc[C::MemoryEventsMax] = 40;
    adhoc[C::MemoryEventsOom] = 2;
    adhoc[C::MemoryEventsOomKill] = 1;
    adhoc[C::MemoryEventsOomGroupKill] = 1;
    adhoc[C::TasksPeak] = 120;
    adhoc[C::TasksMaxEvents] = 6;
    auto& dev = adhoc.devices["8:16"];
    dev[runtime::index(C::IoReadBytes)] = 4194304;
    dev[runtime::index(C::IoWriteBytes)] = 10485760;
    dev[runtime::index(C::IoReadOps)] = 64;
    dev[runtime::index(C::IoWriteOps)] = 256;
    adhoc[C::CpuPressureSome] = 30000;
    adhoc[C::CpuPressureFull] = 1000;
    adhoc[C::MemoryPressureSome] = 500000;
    adhoc[C::MemoryPressureFull] = 400000;
    adhoc[C::IoPressureSome] = 77;
    adhoc[C::IoPressureFull] = 55;
    in.endedTotals["adhoc"] = adhoc;
    // A class no longer in the policy: its totals stay exported.
    runtime::ClassTotals old;
    old.workloadsEnded = 2;
    old[C::CpuUsage] = 1000000;
    old[C::CpuUser] = 600000;
    old[C::CpuSystem] = 400000;
    in.endedTotals["old"] = old;

    in.availableControllers = {"cpu", "io", "memory", "pids"};
    in.knownControllers = {"cpuset", "cpu", "io", "memory", "pids"};
    in.unenforceable.push_back({"core", "cpuset.cpus", "cpuset"});

    DaemonCounters stats;
    stats.reloadsApplied = 2;
    stats.reloadsInvalid = 1;
    stats.reloadsFailed = 0;
    stats.lastReloadUnixSeconds = 1700000000;
    stats.lastReloadOk = false;
    stats.execs[{"adhoc", "ok"}] = 5;
    stats.execs[{"adhoc", "denied"}] = 1;
    stats.execs[{"core", "not_found"}] = 2;
    in.daemon = stats;
    in.version = "0.0.0-test";
    return d;
}

}  // namespace gov::exporter::test
