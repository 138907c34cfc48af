#include "FixtureDaemon.hpp"

namespace gov::exporter::test {

std::string fixtureTree() {
    return fixtureFile("tree");
}
std::string fixtureFile(const std::string& name) {
    return std::string(GOV_SOURCE_DIR) + "/tests/fixtures/exporter/" + name;
}

ScrapeInput FixtureDaemon::input() const {
    ScrapeInput in;
    in.fs = &fs;
    in.classes = classes;
    in.workloads = &workloads;
    in.endedTotals = &totals;
    in.availableControllers = &available;
    in.knownControllers = {"cpuset", "cpu", "io", "memory", "pids"};
    in.unenforceable = &unenforceable;
    in.stats = &stats;
    in.version = "0.0.0-test";
    return in;
}

Result<std::unique_ptr<FixtureDaemon>> loadFixtureDaemon(const std::string& treePath) {
    auto fs = runtime::CgroupFs::open(treePath);
    if (!fs)
        return std::move(fs).error();
    auto d = std::make_unique<FixtureDaemon>(std::move(*fs));
    d->classes = {"adhoc", "core", "noncore"};
    auto workload = [&](const std::string& cls, const std::string& group) {
        core::Workload w;
        w.className = cls;
        w.group = group;
        w.seenPopulated = true;
        d->workloads[group] = w;
    };
    workload("adhoc", "adhoc.slice/exec-1.scope");
    // Tracked, but reaped from the tree between the listing and the read: skipped.
    workload("adhoc", "adhoc.slice/gone.scope");
    workload("core", "core.slice/web.scope");

    core::ClassTotals adhoc;
    adhoc.workloadsEnded = 7;
    adhoc.cpuUsageUsec = 12500000;
    adhoc.cpuUserUsec = 10000000;
    adhoc.cpuSystemUsec = 2500000;
    adhoc.cpuNrPeriods = 900;
    adhoc.cpuNrThrottled = 12;
    adhoc.cpuThrottledUsec = 480000;
    adhoc.memoryPeakBytes = 1610612736;
    adhoc.memoryEventsHigh = 3;
    adhoc.memoryEventsMax = 40;
    adhoc.memoryEventsOom = 2;
    adhoc.memoryEventsOomKill = 1;
    adhoc.pidsPeak = 120;
    adhoc.pidsEventsMax = 6;
    adhoc.io["8:16"] = {4194304, 10485760, 64, 256};
    adhoc.cpuPressure = {30000, 1000};
    adhoc.memoryPressure = {500000, 400000};
    adhoc.ioPressure = {77, 55};
    d->totals["adhoc"] = adhoc;
    // A class no longer in the policy: its totals stay exported.
    core::ClassTotals old;
    old.workloadsEnded = 2;
    old.cpuUsageUsec = 1000000;
    old.cpuUserUsec = 600000;
    old.cpuSystemUsec = 400000;
    d->totals["old"] = old;

    d->available = {"cpu", "io", "memory", "pids"};
    d->unenforceable.push_back({"core", "cpuset.cpus", "cpuset", false});

    d->stats.reloadsApplied = 2;
    d->stats.reloadsInvalid = 1;
    d->stats.reloadsFailed = 0;
    d->stats.lastReloadUnixSeconds = 1700000000;
    d->stats.lastReloadOk = false;
    d->stats.execs[{"adhoc", "ok"}] = 5;
    d->stats.execs[{"adhoc", "denied"}] = 1;
    d->stats.execs[{"core", "not_found"}] = 2;
    return d;
}

}  // namespace gov::exporter::test
