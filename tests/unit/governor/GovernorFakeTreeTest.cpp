// Governor on fake cgroup trees in temp dirs: plain directories and files standing
// in for cgroupfs. The fake kernel does not create control files on mkdir, so the
// tests create every group the daemon will use beforehand.
#include <gtest/gtest.h>

#include <filesystem>

#include "FakeTree.hpp"
#include "ManualClock.hpp"
#include "gov/core/Governor.hpp"
#include "gov/policies/Knobs.hpp"

namespace gov::core {
namespace {

namespace fs = std::filesystem;
using testsupport::FakeCgroupTree;
using testsupport::readFile;
using testsupport::writeFile;

class FakeTree : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* cls : {"adhoc", "core", "noncore"})
            tree_.makeGroup(std::string(cls) + ".slice");
        // One whole disk, one unattached loop device (size 0: not a disk to limit).
        tree_.addDisk("vda", "254:0", 2097152);
        tree_.addDisk("loop0", "7:0", 0);
        base_ = tree_.base();
        root_ = tree_.root();
        config_.cgroupRoot = root_.string();
        config_.stateDir = (base_ / "state").string();
        config_.moveSelf = false;
        config_.sysRoot = tree_.sysRoot().string();
        config_.devRoot = tree_.devRoot().string();
        config_.emptyGrace = std::chrono::milliseconds(0);
    }

    void makeGroup(const std::string& group, bool populated = false) {
        tree_.makeGroup(group, populated);
    }
    void makeEndedWorkload(const std::string& group, uint64_t cpuUsec) {
        makeGroup(group);
        tree_.write(group + "/cpu.stat",
                    "usage_usec " + std::to_string(cpuUsec) + "\nuser_usec 1\nsystem_usec 2\n");
        tree_.write(group + "/memory.current", "0\n");
        tree_.write(group + "/memory.peak", "8192\n");
    }
    std::string policyFile(const std::string& text) {
        fs::path p = base_ / ("policy-" + std::to_string(policyCounter_++) + ".toml");
        writeFile(p, text);
        return p.string();
    }
    std::string knob(const std::string& group, const std::string& file) {
        return tree_.read(group + "/" + file);
    }

    FakeCgroupTree tree_;
    fs::path base_;
    fs::path root_;
    GovernorConfig config_;
    int policyCounter_ = 0;
};

TEST_F(FakeTree, DefaultPolicyWritesTheExactFleetSplitValues) {
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_EQ(knob("noncore.slice", "memory.max"), "1073741824");
    EXPECT_EQ(knob("noncore.slice", "io.max"), "254:0 rbps=max wbps=1000000 riops=max wiops=max");
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "2147483648");
    EXPECT_EQ(knob("adhoc.slice", "pids.max"), "1000");
    EXPECT_EQ(knob("core.slice", "memory.max"), "max");
    EXPECT_EQ(knob("core.slice", "pids.max"), "max");
    EXPECT_EQ(knob("core.slice", "io.max"), "");
    EXPECT_EQ((*g)->policy(), policies::defaultPolicy());
    EXPECT_TRUE((*g)->unenforceable().empty());
}

TEST_F(FakeTree, AdoptsTheWorkloadGroupsAlreadyThere) {
    makeGroup("adhoc.slice/tcpdump-1.scope", /*populated=*/true);
    makeGroup("core.slice/web.scope", /*populated=*/true);
    makeGroup("core.slice/not-a-workload");  // neither .scope nor ours: left alone
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    const auto& w = (*g)->workloads();
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w.at("adhoc.slice/tcpdump-1.scope").className, "adhoc");
    EXPECT_TRUE(w.at("adhoc.slice/tcpdump-1.scope").seenPopulated);
    EXPECT_EQ(w.at("core.slice/web.scope").className, "core");
    EXPECT_TRUE(fs::exists(root_ / "core.slice/not-a-workload"));
}

TEST_F(FakeTree, EndedWorkloadIsFoldedExactlyOnceAcrossRestarts) {
    makeEndedWorkload("adhoc.slice/job.scope", 5000);
    {
        auto g = Governor::start(config_);
        ASSERT_TRUE(g.ok()) << g.error().message();
        const auto& t = (*g)->state().classes.at("adhoc");
        EXPECT_EQ(t.workloadsEnded, 1u);
        EXPECT_EQ(t[runtime::CounterId::CpuUsage], 5000u);
        EXPECT_EQ(t[runtime::CounterId::MemoryPeak], 8192u);
        // The fake group cannot be removed (it holds regular files): it stays
        // pending, as after a crash between the save and the rmdir.
        ASSERT_EQ((*g)->state().pendingRemoval.size(), 1u);
        EXPECT_EQ((*g)->state().pendingRemoval[0].group, "adhoc.slice/job.scope");
    }
    auto again = Governor::start(config_);
    ASSERT_TRUE(again.ok()) << again.error().message();
    EXPECT_EQ((*again)->state().classes.at("adhoc").workloadsEnded, 1u);
    EXPECT_EQ((*again)->state().classes.at("adhoc")[runtime::CounterId::CpuUsage], 5000u);
    auto persisted = StateStore(config_.stateDir).load();
    EXPECT_EQ(persisted.state.classes.at("adhoc").workloadsEnded, 1u);
}

TEST_F(FakeTree, ANewGroupWithAFoldedGroupsNameIsStillCounted) {
    makeEndedWorkload("adhoc.slice/job.scope", 5000);
    { ASSERT_TRUE(Governor::start(config_).ok()); }
    // Same name, new group (a new cgroup id): counted again. Made before the old one
    // goes so that the fake filesystem cannot reuse the inode number.
    makeEndedWorkload("adhoc.slice/job.next", 700);
    fs::remove_all(root_ / "adhoc.slice/job.scope");
    fs::rename(root_ / "adhoc.slice/job.next", root_ / "adhoc.slice/job.scope");
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ((*g)->state().classes.at("adhoc").workloadsEnded, 2u);
    EXPECT_EQ((*g)->state().classes.at("adhoc")[runtime::CounterId::CpuUsage], 5700u);
}

TEST_F(FakeTree, EmptyGroupNeverSeenPopulatedWaitsForTheGracePeriod) {
    config_.emptyGrace = std::chrono::hours(1);
    makeEndedWorkload("adhoc.slice/being-placed.scope", 1);
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ((*g)->state().classes.count("adhoc"), 0u);
    EXPECT_EQ((*g)->workloads().count("adhoc.slice/being-placed.scope"), 1u);
}

TEST_F(FakeTree, InvalidReloadKeepsThePreviousPolicy) {
    config_.policyFiles = {policyFile("[classes.adhoc]\nmemory.max = \"2GiB\"\n")};
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    const auto before = (*g)->policy();
    writeFile(config_.policyFiles[0], "[classes.adhoc]\nmemory.mx = \"1GiB\"\n");
    auto outcome = (*g)->reload();
    EXPECT_FALSE(outcome.applied);
    ASSERT_FALSE(outcome.messages.empty());
    EXPECT_NE(outcome.messages[0].find("memory.max"), std::string::npos) << outcome.messages[0];
    EXPECT_EQ((*g)->policy(), before);
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "2147483648");
    EXPECT_EQ((*g)->stats().reloadsInvalid, 1u);

    writeFile(config_.policyFiles[0], "[classes.adhoc]\nmemory.max = \"1GiB\"\n");
    outcome = (*g)->reload();
    EXPECT_TRUE(outcome.applied);
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "1073741824");
    EXPECT_EQ((*g)->stats().reloadsApplied, 1u);
}

TEST_F(FakeTree, ReloadThatFailsHalfwayIsRolledBack) {
    config_.policyFiles = {
        policyFile("[classes.adhoc]\nmemory.max = \"2GiB\"\n"
                   "[classes.noncore]\n")};
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    // A control file that reads but refuses writes: the kernel's EINVAL stand-in.
    tree_.refuseWrites("noncore.slice", "pids.max");
    writeFile(config_.policyFiles[0],
              "[classes.adhoc]\nmemory.max = \"1GiB\"\n[classes.noncore]\npids.max = 5\n");
    auto outcome = (*g)->reload();
    EXPECT_FALSE(outcome.applied);
    ASSERT_FALSE(outcome.messages.empty());
    EXPECT_NE(outcome.messages[0].find("pids.max"), std::string::npos) << outcome.messages[0];
    // adhoc's memory.max had been written before the failure: it is back.
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "2147483648");
    EXPECT_EQ((*g)->policy().find("adhoc")->limits.memoryMax->value, 2147483648u);
    EXPECT_EQ((*g)->stats().reloadsFailed, 1u);
}

TEST_F(FakeTree, AnInvalidPolicyAtTheFirstStartRunsTheBuiltInDefault) {
    // Enforcement first: an invalid file at boot used to stop the daemon, leaving
    // the host ungoverned. With no last good policy kept, the built-in default runs.
    config_.policyFiles = {policyFile("[classes.adhoc]\nmemory.mx = \"1GiB\"\npids.max = -1\n")};
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_EQ((*g)->policy(), policies::defaultPolicy());
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "2147483648");
    EXPECT_FALSE((*g)->stats().policyFilesInForce);
    // The default was not what the files say: it is not kept as the last good one.
    EXPECT_FALSE(fs::exists(base_ / "state" / "policy.last-good.json"));
}

TEST_F(FakeTree, TargetsAreClassesOrKnownWorkloadGroups) {
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok());
    for (const std::string bad : {"", "governord", "../etc", "/abs", "nosuchclass"}) {
        auto r = (*g)->control(ControlAction::Freeze, bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().message().find("'" + bad + "'"), std::string::npos)
            << r.error().message();
    }
    auto unknown = (*g)->createWorkloadGroup("nosuchclass", "x");
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message().find("nosuchclass"), std::string::npos);
}

TEST_F(FakeTree, UnenforceableLimitsAreListedWhenControllersAreMissing) {
    tree_.write("cgroup.controllers", "cpu\n");
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_EQ((*g)->unenforceable().size(), 4u);
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "");  // nothing written
    EXPECT_NE((*g)->statusLine().find("4 limits not enforceable"), std::string::npos);
}

}  // namespace
}  // namespace gov::core

namespace gov::core {
namespace {

TEST_F(FakeTree, APolicyFileCreatedAfterTheStartIsPickedUpByTheNextReload) {
    config_.defaultPolicyFile = (base_ / "etc/policy.toml").string();
    config_.defaultPolicyDir = (base_ / "etc/policy.d").string();
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_EQ((*g)->policy(), policies::defaultPolicy());
    writeFile(base_ / "etc/policy.toml", "[classes.adhoc]\npids.max = 1234\n");
    writeFile(base_ / "etc/policy.d/extra.toml", "[classes.core]\n");
    auto outcome = (*g)->reload();
    ASSERT_TRUE(outcome.applied) << (outcome.messages.empty() ? "" : outcome.messages[0]);
    EXPECT_EQ(knob("adhoc.slice", "pids.max"), "1234");
    EXPECT_EQ((*g)->policy().classes.size(), 2u);
}

}  // namespace
}  // namespace gov::core

// Time comes from the Clock given to start(): the tests below move it by hand.
namespace gov::core {
namespace {

using namespace std::chrono_literals;

TEST_F(FakeTree, AGroupNeverSeenPopulatedIsFoldedOnceItStayedEmptyForTheGrace) {
    ManualClock clock;
    config_.emptyGrace = 5s;
    makeEndedWorkload("adhoc.slice/being-placed.scope", 42);
    auto g = Governor::start(config_, clock);
    ASSERT_TRUE(g.ok()) << g.error().message();
    clock.advance(4s);
    (*g)->rescan();
    EXPECT_EQ((*g)->state().classes.count("adhoc"), 0u) << "folded before the grace was over";
    clock.advance(1s);
    (*g)->rescan();
    ASSERT_EQ((*g)->state().classes.count("adhoc"), 1u);
    EXPECT_EQ((*g)->state().classes.at("adhoc")[runtime::CounterId::CpuUsage], 42u);
}

TEST_F(FakeTree, EndedWorkloadsAreSavedWhenTheSaveDelayIsDueNotBefore) {
    ManualClock clock;
    config_.saveDelay = 20ms;
    makeEndedWorkload("adhoc.slice/job.scope", 5000);
    auto g = Governor::start(config_, clock);
    ASSERT_TRUE(g.ok()) << g.error().message();
    // Folded at start, not saved yet: one save for the whole batch, later.
    EXPECT_EQ((*g)->state().classes.at("adhoc").workloadsEnded, 1u);
    EXPECT_TRUE((*g)->flushPending());
    EXPECT_EQ((*g)->flushDueIn(), std::optional<std::chrono::steady_clock::duration>(20ms));
    auto before = StateStore(config_.stateDir).load();
    EXPECT_EQ(before.state.classes.count("adhoc"), 0u);

    clock.advance(15ms);
    EXPECT_EQ((*g)->flushDueIn(), std::optional<std::chrono::steady_clock::duration>(5ms));
    clock.advance(10ms);
    EXPECT_EQ((*g)->flushDueIn(), std::optional<std::chrono::steady_clock::duration>(0ms));
    (*g)->flushEnded();
    auto after = StateStore(config_.stateDir).load();
    EXPECT_EQ(after.state.classes.at("adhoc").workloadsEnded, 1u);
    EXPECT_FALSE((*g)->flushPending());
    EXPECT_EQ((*g)->flushDueIn(), std::nullopt);
}

TEST_F(FakeTree, TheStartAndEveryReloadAreTimedByTheClock) {
    ManualClock clock;
    auto g = Governor::start(config_, clock);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_DOUBLE_EQ((*g)->stats().lastReloadUnixSeconds, 1'700'000'000.0);
    clock.advance(90s);
    EXPECT_TRUE((*g)->reload().applied);
    EXPECT_DOUBLE_EQ((*g)->stats().lastReloadUnixSeconds, 1'700'000'090.0);
}

TEST_F(FakeTree, ARescanTracksAGroupCreatedAfterTheStartLikeTheStartAdoptsOne) {
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_TRUE((*g)->workloads().empty());
    makeGroup("noncore.slice/cron.scope", /*populated=*/true);
    makeGroup("noncore.slice/not-a-workload", /*populated=*/true);
    (*g)->rescan();
    const auto& w = (*g)->workloads();
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w.at("noncore.slice/cron.scope").className, "noncore");
    EXPECT_TRUE(w.at("noncore.slice/cron.scope").seenPopulated);
}

TEST_F(FakeTree, AnExecGroupOfAClassWithNothingToWriteIsOnlyMadeAndTracked) {
    // No workload limits, and the one workload default (memory.oom.group) turned off:
    // the new group needs no write (the fake kernel makes no files on mkdir).
    config_.policyFiles = {policyFile("[classes.adhoc]\nworkload.memory.oom.group = false\n")};
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    auto group = (*g)->createWorkloadGroup("adhoc", "/usr/bin/top");
    ASSERT_TRUE(group.ok()) << group.error().message();
    EXPECT_EQ(*group, "adhoc.slice/_usr_bin_top-" + std::to_string(::getpid()) + "-1.scope");
    // Nothing written: a new group holds the kernel's defaults.
    EXPECT_TRUE(fs::is_empty(root_ / *group));
    ASSERT_EQ((*g)->workloads().count(*group), 1u);
    EXPECT_EQ((*g)->workloads().at(*group).className, "adhoc");
    EXPECT_FALSE((*g)->workloads().at(*group).seenPopulated);

    (*g)->discardWorkloadGroup(*group);
    EXPECT_FALSE(fs::exists(root_ / *group));
    EXPECT_EQ((*g)->workloads().count(*group), 0u);
}

TEST_F(FakeTree, AnExecGroupWhoseWorkloadLimitsCannotBeWrittenIsRemovedAgain) {
    config_.policyFiles = {policyFile("[classes.adhoc]\nworkload.memory.max = \"256MiB\"\n")};
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    // The fake kernel makes no control files on mkdir: the first write fails, as a
    // refused write would on a real one.
    auto group = (*g)->createWorkloadGroup("adhoc", "job");
    ASSERT_FALSE(group.ok());
    EXPECT_NE(group.error().message().find("adhoc.slice/job-"), std::string::npos)
        << group.error().message();
    for (const auto& entry : fs::directory_iterator(root_ / "adhoc.slice"))
        EXPECT_FALSE(entry.is_directory()) << entry.path() << " was left behind";
    EXPECT_TRUE((*g)->workloads().empty());
}

TEST_F(FakeTree, AnInvalidPolicyAtStartRunsTheLastGoodPolicyKeptAtTheLastApply) {
    const std::string good = "[classes.adhoc]\nmemory.max = \"1GiB\"\n[classes.batch]\n";
    const std::string file = policyFile(good);
    config_.policyFiles = {file};
    makeGroup("batch.slice");
    {
        auto g = Governor::start(config_);
        ASSERT_TRUE(g.ok()) << g.error().message();
        EXPECT_TRUE((*g)->stats().policyFilesInForce);
    }
    auto kept = lastGoodFromJson(readFile(base_ / "state" / "policy.last-good.json"));
    ASSERT_TRUE(kept.ok()) << kept.error().message();
    ASSERT_EQ(kept->size(), 1u);
    EXPECT_EQ((*kept)[0].name, file);
    EXPECT_EQ((*kept)[0].text, good);

    // A bad edit, then a restart: the last good policy runs, not the default.
    writeFile(file, "[classes.adhoc]\nmemory.max = \"lots\"\n");
    writeFile(root_ / "adhoc.slice" / "memory.max", "max");
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_FALSE((*g)->stats().policyFilesInForce);
    EXPECT_NE((*g)->policy().find("batch"), nullptr);
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "1073741824");

    // Fixed and reloaded: in force again, and kept.
    writeFile(file, "[classes.adhoc]\nmemory.max = \"2GiB\"\n");
    ASSERT_TRUE((*g)->reload().applied);
    EXPECT_TRUE((*g)->stats().policyFilesInForce);
    EXPECT_EQ((*lastGoodFromJson(readFile(base_ / "state" / "policy.last-good.json")))[0].text,
              "[classes.adhoc]\nmemory.max = \"2GiB\"\n");
    // A failed reload: the files are not in force any more.
    writeFile(file, "[classes.adhoc]\nmemory.mx = 1\n");
    EXPECT_FALSE((*g)->reload().applied);
    EXPECT_FALSE((*g)->stats().policyFilesInForce);
}

TEST_F(FakeTree, ADamagedLastGoodPolicyIsSetAsideAndTheDefaultRuns) {
    writeFile(base_ / "state" / "policy.last-good.json", "{\"version\":1,\"sour");
    config_.policyFiles = {policyFile("[classes.adhoc]\nmemory.mx = 1\n")};
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_EQ((*g)->policy(), policies::defaultPolicy());
    EXPECT_FALSE(fs::exists(base_ / "state" / "policy.last-good.json"));
    bool aside = false;
    for (const auto& e : fs::directory_iterator(base_ / "state"))
        aside |= e.path().filename().string().rfind("policy.last-good.json.damaged-", 0) == 0;
    EXPECT_TRUE(aside);
}

TEST_F(FakeTree, DamagedTotalsAtStartAreResetAndTheDaemonStillGoverns) {
    writeFile(base_ / "state" / "totals.json", "garbage");
    writeFile(base_ / "state" / "totals.json.prev", "garbage");
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_TRUE((*g)->stats().totalsReset);
    EXPECT_EQ(knob("adhoc.slice", "memory.max"), "2147483648");
    EXPECT_TRUE((*g)->state().classes.empty());
}

}  // namespace
}  // namespace gov::core
