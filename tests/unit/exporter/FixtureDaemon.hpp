// A daemon-free input for the collector: the fake cgroup tree in
// tests/fixtures/exporter/tree plus fixed workloads, ended totals and daemon
// counters. Used by the golden exposition test and by the fixture metrics server of
// the live Prometheus test (which needs every controller's series, which this host
// lacks).
#pragma once

#include <memory>
#include <string>

#include "gov/Result.hpp"
#include "gov/exporter/ScrapeInput.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::exporter::test {

struct FixtureDaemon {
    explicit FixtureDaemon(runtime::CgroupFs f) : fs(std::move(f)) {}
    FixtureDaemon(const FixtureDaemon&) = delete;
    FixtureDaemon& operator=(const FixtureDaemon&) = delete;

    runtime::CgroupFs fs;
    ScrapeInput snapshot;  // everything but fs

    // The snapshot reading this object's tree (valid while it lives).
    ScrapeInput input() const {
        ScrapeInput in = snapshot;
        in.fs = &fs;
        return in;
    }
};

// The fixture daemon over the tree at `treePath` (normally fixtureTree()).
Result<std::unique_ptr<FixtureDaemon>> loadFixtureDaemon(const std::string& treePath);

// <source>/tests/fixtures/exporter/tree
std::string fixtureTree();
// <source>/tests/fixtures/exporter/<name>
std::string fixtureFile(const std::string& name);

}  // namespace gov::exporter::test
