// snapshotOf() over a Governor started on a fake cgroup tree: the snapshot is a copy
// of what the collector needs, and only that.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "gov/core/Plan.hpp"
#include "gov/exporter/DaemonSnapshot.hpp"
#include "gov/exporter/PolicyLimits.hpp"

namespace gov::exporter {
namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// A tree like this host's (no controllers), with one running workload in adhoc and
// one that ended before the start (folded at start).
class SnapshotOfGovernor : public ::testing::Test {
  protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() / ("gov-snapshot-" + std::to_string(::getpid()));
        fs::remove_all(base_);
        const fs::path root = base_ / "cgroup";
        writeFile(root / "cgroup.controllers", "");
        writeFile(root / "cgroup.subtree_control", "");
        writeFile(root / "cgroup.events", "populated 1\nfrozen 0\n");
        for (const char* group : {"adhoc.slice", "core.slice", "noncore.slice"}) {
            writeFile(root / group / "cgroup.events", "populated 1\nfrozen 0\n");
            writeFile(root / group / "cgroup.subtree_control", "");
        }
        for (const char* scope : {"adhoc.slice/run.scope", "adhoc.slice/done.scope"})
            writeFile(root / scope / "cgroup.subtree_control", "");
        writeFile(root / "adhoc.slice/run.scope/cgroup.events", "populated 1\nfrozen 0\n");
        writeFile(root / "adhoc.slice/done.scope/cgroup.events", "populated 0\nfrozen 0\n");
        writeFile(root / "adhoc.slice/done.scope/cpu.stat",
                  "usage_usec 700\nuser_usec 600\nsystem_usec 100\n");
        fs::create_directories(base_ / "sys/block");
        fs::create_directories(base_ / "dev");
        config_.cgroupRoot = root.string();
        config_.stateDir = (base_ / "state").string();
        config_.moveSelf = false;
        config_.sysRoot = (base_ / "sys").string();
        config_.devRoot = (base_ / "dev").string();
        config_.emptyGrace = std::chrono::milliseconds(0);
    }
    void TearDown() override { fs::remove_all(base_); }

    fs::path base_;
    core::GovernorConfig config_;
};

TEST_F(SnapshotOfGovernor, CopiesClassesWorkloadsTotalsLimitsAndCounters) {
    auto g = core::Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    (*g)->stats().execs[{"adhoc", "ok"}] = 3;
    ScrapeInput in = snapshotOf(**g, "1.2.3");

    EXPECT_EQ(in.fs, &(*g)->fs());
    std::vector<ClassGroup> classes;
    for (const auto& c : (*g)->policy().classes)
        classes.push_back({c.name, c.name + ".slice"});
    EXPECT_EQ(in.classes, classes);
    // Every group the daemon tracks (done.scope too: its fake directory cannot be
    // removed, so it stays tracked until its removal succeeds), sorted by group.
    std::vector<WorkloadGroup> workloads;
    for (const auto& [group, w] : (*g)->workloads())
        workloads.push_back({group, w.className});
    EXPECT_EQ(in.workloads, workloads);
    EXPECT_NE(std::find(in.workloads.begin(), in.workloads.end(),
                        WorkloadGroup{"adhoc.slice/run.scope", "adhoc"}),
              in.workloads.end());
    ASSERT_EQ(in.endedTotals.count("adhoc"), 1u);
    EXPECT_EQ(in.endedTotals.at("adhoc").workloadsEnded, 1u);
    EXPECT_EQ(in.endedTotals.at("adhoc")[runtime::CounterId::CpuUsage], 700u);
    EXPECT_TRUE(in.availableControllers.empty());
    EXPECT_EQ(in.knownControllers, core::managedControllers());
    EXPECT_EQ(in.unenforceable.size(), (*g)->unenforceable().size());
    EXPECT_FALSE(in.unenforceable.empty());  // no controller here: every limit
    EXPECT_EQ(in.policyLimits, policyLimits((*g)->policy()));
    ASSERT_TRUE(in.daemon.has_value());
    EXPECT_EQ(in.daemon->execs.at({"adhoc", "ok"}), 3u);
    EXPECT_EQ(in.version, "1.2.3");

    // A copy: later changes of the daemon do not reach a snapshot already taken.
    (*g)->stats().execs[{"adhoc", "ok"}] = 4;
    EXPECT_EQ(in.daemon->execs.at({"adhoc", "ok"}), 3u);
}

}  // namespace
}  // namespace gov::exporter
