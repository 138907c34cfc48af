// A daemon-free input for the collector: the fake cgroup tree in
// tests/fixtures/exporter/tree plus fixed workloads, ended totals and daemon stats.
// Used by the golden exposition test and by the fixture metrics server of the live
// Prometheus test (which needs every controller's series, which this host lacks).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Governor.hpp"
#include "gov/exporter/Collector.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::exporter::test {

struct FixtureDaemon {
    explicit FixtureDaemon(runtime::CgroupFs f) : fs(std::move(f)) {}

    runtime::CgroupFs fs;
    std::vector<std::string> classes;
    std::map<std::string, core::Workload> workloads;
    std::map<std::string, core::ClassTotals> totals;
    std::set<std::string> available;
    std::vector<core::Unenforceable> unenforceable;
    core::DaemonStats stats;

    // A view of this object (valid while it lives).
    ScrapeInput input() const;
};

// The fixture daemon over the tree at `treePath` (normally fixtureTree()).
Result<std::unique_ptr<FixtureDaemon>> loadFixtureDaemon(const std::string& treePath);

// <source>/tests/fixtures/exporter/tree
std::string fixtureTree();
// <source>/tests/fixtures/exporter/<name>
std::string fixtureFile(const std::string& name);

}  // namespace gov::exporter::test
