#include <gtest/gtest.h>

#include <algorithm>

#include "gov/core/Plan.hpp"
#include "gov/policies/Compile.hpp"
#include "gov/policies/Knobs.hpp"

namespace gov::core {
namespace {

const std::set<std::string> kAll = {"cpuset", "cpu", "io", "memory", "pids"};

policies::DeviceTable twoDisks() {
    policies::DeviceTable d;
    d.wholeDisks = {"8:0", "259:0"};
    d.resolved = {{"/dev/nvme0n1", "259:0"}, {"8:0", "8:0"}};
    return d;
}

policies::Policy compile(const std::string& text) {
    auto r = policies::compileText(text, "test.toml");
    EXPECT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].format());
    return r.policy.value_or(policies::Policy{});
}

// Applies a plan to an observed tree the way the kernel would, so a second plan()
// can be checked to be empty.
void simulate(ObservedTree& tree, const Plan& plan) {
    for (const auto& a : plan.actions) {
        std::string slice = a.group.substr(0, a.group.find('/'));
        std::string cls = classOfSlice(slice);
        ObservedGroup* g = nullptr;
        if (a.group.empty()) {
            if (a.kind == ActionKind::EnableControllers) {
                tree.rootSubtree.insert(a.controllers.begin(), a.controllers.end());
            }
            continue;
        }
        if (a.kind == ActionKind::MakeGroup) {
            tree.slices[cls];
            continue;
        }
        if (a.kind == ActionKind::RemoveGroup) {
            tree.slices.erase(cls);
            continue;
        }
        auto& s = tree.slices[cls];
        g = a.group == slice ? &s.group : &s.scopes[a.group.substr(slice.size() + 1)];
        if (a.kind == ActionKind::EnableControllers) {
            g->subtreeControl.insert(a.controllers.begin(), a.controllers.end());
        } else if (a.file == "io.max") {
            // io.max holds one line per device; a write replaces that device's line.
            std::string dev = a.value.substr(0, a.value.find(' '));
            std::string out;
            std::string& cur = g->knobs["io.max"];
            size_t pos = 0;
            while (pos < cur.size()) {
                size_t nl = cur.find('\n', pos);
                std::string line = cur.substr(pos, nl - pos);
                if (line.substr(0, line.find(' ')) != dev)
                    out += line + "\n";
                pos = nl + 1;
            }
            if (a.value != policies::ioResetLine(dev))
                out += a.value + "\n";
            cur = out;
        } else {
            g->knobs[a.file] = a.value + "\n";
        }
    }
}

std::vector<std::string> described(const Plan& p) {
    std::vector<std::string> out;
    for (const auto& a : p.actions)
        out.push_back(describe(a));
    return out;
}

TEST(Plan, DefaultPolicyOnEmptyTreeWritesExactlyTheFleetSplit) {
    ObservedTree tree;
    tree.available = kAll;
    auto p = plan(policies::defaultPolicy(), twoDisks(), tree);
    ASSERT_TRUE(p.ok()) << p.error().message();
    auto got = described(*p);
    ASSERT_GE(got.size(), 2u);
    // The root's controllers come first, before any slice exists.
    EXPECT_EQ(got[0], "write <root>/cgroup.subtree_control: +cpuset +cpu +io +memory +pids");
    EXPECT_EQ(got[1], "mkdir adhoc.slice");

    auto valueOf = [&](const std::string& group, const std::string& file) {
        std::vector<std::string> values;
        for (const auto& a : p->actions) {
            if (a.kind == ActionKind::Write && a.group == group && a.file == file) {
                values.push_back(a.value);
            }
        }
        return values;
    };
    EXPECT_EQ(valueOf("adhoc.slice", "memory.max"), std::vector<std::string>{"2147483648"});
    EXPECT_EQ(valueOf("adhoc.slice", "pids.max"), std::vector<std::string>{"1000"});
    EXPECT_EQ(valueOf("noncore.slice", "memory.max"), std::vector<std::string>{"1073741824"});
    EXPECT_EQ(valueOf("noncore.slice", "io.max"),
              (std::vector<std::string>{"8:0 rbps=max wbps=1000000 riops=max wiops=max",
                                        "259:0 rbps=max wbps=1000000 riops=max wiops=max"}));
    EXPECT_EQ(valueOf("core.slice", "memory.max"), std::vector<std::string>{"max"});
    EXPECT_EQ(valueOf("core.slice", "pids.max"), std::vector<std::string>{"max"});
    EXPECT_TRUE(valueOf("core.slice", "io.max").empty());
    EXPECT_TRUE(p->unenforceable.empty());
}

TEST(Plan, EachSliceEnablesControllersForItsWorkloadsAfterItsOwnLimits) {
    ObservedTree tree;
    tree.available = kAll;
    auto p = plan(policies::defaultPolicy(), twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    for (const std::string slice : {"adhoc.slice", "core.slice", "noncore.slice"}) {
        size_t mk = SIZE_MAX, lastWrite = 0, enable = SIZE_MAX;
        for (size_t i = 0; i < p->actions.size(); ++i) {
            const auto& a = p->actions[i];
            if (a.group != slice)
                continue;
            if (a.kind == ActionKind::MakeGroup)
                mk = i;
            if (a.kind == ActionKind::Write)
                lastWrite = i;
            if (a.kind == ActionKind::EnableControllers) {
                enable = i;
                EXPECT_EQ(a.value, "+cpuset +cpu +io +memory +pids");
            }
        }
        EXPECT_LT(mk, lastWrite) << slice;
        EXPECT_LT(lastWrite, enable) << slice;
        EXPECT_NE(enable, SIZE_MAX) << slice;
    }
}

TEST(Plan, IsIdempotentOnceApplied) {
    ObservedTree tree;
    tree.available = kAll;
    auto first = plan(policies::defaultPolicy(), twoDisks(), tree);
    ASSERT_TRUE(first.ok());
    simulate(tree, *first);
    auto second = plan(policies::defaultPolicy(), twoDisks(), tree);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(described(*second), std::vector<std::string>{});
}

TEST(Plan, ChangedLimitIsOneWriteWithItsOldValue) {
    ObservedTree tree;
    tree.available = kAll;
    auto first = plan(policies::defaultPolicy(), twoDisks(), tree);
    ASSERT_TRUE(first.ok());
    simulate(tree, *first);
    auto changed = compile(R"(
[classes.core]
[classes.noncore]
memory.max = "512MiB"
io.write_bps = "1MB/s"
[classes.adhoc]
memory.max = "2GiB"
pids.max = 1000
)");
    auto p = plan(changed, twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(described(*p),
              std::vector<std::string>{"write noncore.slice/memory.max: 1073741824 -> 536870912"});
}

TEST(Plan, RemovedLimitsAreLiftedAndUnnamedDevicesReset) {
    ObservedTree tree;
    tree.available = kAll;
    auto withDevice = compile(R"(
[classes.batch]
pids.max = 50
io.device."/dev/nvme0n1".read_iops = 100
)");
    auto first = plan(withDevice, twoDisks(), tree);
    ASSERT_TRUE(first.ok()) << first.error().message();
    simulate(tree, *first);
    auto without = compile("[classes.batch]\n");
    auto p = plan(without, twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(described(*p),
              (std::vector<std::string>{
                  "write batch.slice/pids.max: 50 -> max",
                  "write batch.slice/io.max: 259:0 rbps=max wbps=max riops=100 wiops=max -> "
                  "259:0 rbps=max wbps=max riops=max wiops=max"}));
}

TEST(Plan, IoMaxIsComparedAsLimitsNotAsText) {
    // The same limits in another order of keys, with other spacing, are in force
    // already; a line that does not parse is rewritten; an unnamed device without
    // limits is left alone.
    ObservedTree tree;
    tree.available = kAll;
    auto policy = compile(R"(
[classes.batch]
io.device."/dev/nvme0n1".read_iops = 100
io.device."8:0".write_bps = "1MB/s"
)");
    auto first = plan(policy, twoDisks(), tree);
    ASSERT_TRUE(first.ok()) << first.error().message();
    simulate(tree, *first);
    tree.slices["batch"].group.knobs["io.max"] =
        "259:0  wiops=max riops=100 wbps=max rbps=max\n"
        "8:0 rbps=max wbps=1000000 riops=max wiops=max\n"
        "7:0 rbps=max wbps=max riops=max wiops=max\n";
    auto same = plan(policy, twoDisks(), tree);
    ASSERT_TRUE(same.ok());
    EXPECT_TRUE(described(*same).empty());

    tree.slices["batch"].group.knobs["io.max"] = "259:0 riops=garbage\n";
    auto broken = plan(policy, twoDisks(), tree);
    ASSERT_TRUE(broken.ok());
    EXPECT_EQ(described(*broken),
              (std::vector<std::string>{
                  "write batch.slice/io.max: 8:0 rbps=max wbps=max riops=max wiops=max -> "
                  "8:0 rbps=max wbps=1000000 riops=max wiops=max",
                  "write batch.slice/io.max: 259:0 rbps=max wbps=max riops=max wiops=max -> "
                  "259:0 rbps=max wbps=max riops=100 wiops=max"}));
}

TEST(Plan, MissingControllersWriteNothingAndReportEachLimit) {
    ObservedTree tree;  // the hybrid development host: no controllers at all
    auto p = plan(policies::defaultPolicy(), twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(described(*p), (std::vector<std::string>{"mkdir adhoc.slice", "mkdir core.slice",
                                                       "mkdir noncore.slice"}));
    std::vector<std::string> reported;
    for (const auto& u : p->unenforceable) {
        reported.push_back(u.className + " " + u.key + " " + u.controller);
    }
    EXPECT_EQ(reported,
              (std::vector<std::string>{"adhoc memory.max memory", "adhoc pids.max pids",
                                        "noncore memory.max memory", "noncore io.write_bps io"}));
}

TEST(Plan, RetiredClassIsKeptWhileItHasWorkloadsAndRemovedWhenEmpty) {
    ObservedTree tree;
    tree.available = kAll;
    tree.slices["old"].scopes["job-1.scope"];
    tree.slices["empty"];
    auto p = plan(compile("[classes.core]\n"), twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->retiredClasses, std::vector<std::string>{"old"});
    bool removesEmpty = false, removesOld = false;
    for (const auto& a : p->actions) {
        if (a.kind == ActionKind::RemoveGroup) {
            removesEmpty |= a.group == "empty.slice";
            removesOld |= a.group == "old.slice";
        }
    }
    EXPECT_TRUE(removesEmpty);
    EXPECT_FALSE(removesOld);
}

TEST(Plan, WorkloadLimitsGoOnEveryExistingScope) {
    ObservedTree tree;
    tree.available = kAll;
    tree.slices["adhoc"].scopes["a.scope"];
    tree.slices["adhoc"].scopes["b.scope"].knobs["memory.max"] = "268435456\n";
    auto p = plan(compile("[classes.adhoc]\nworkload.memory.max = \"256MiB\"\n"), twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    std::vector<std::string> scopeWrites;
    for (const auto& a : p->actions) {
        if (a.kind == ActionKind::Write && a.file == "memory.max" && a.group != "adhoc.slice") {
            scopeWrites.push_back(a.group + "=" + a.value);
        }
    }
    EXPECT_EQ(scopeWrites, std::vector<std::string>{"adhoc.slice/a.scope=268435456"});
}

TEST(Plan, WorkloadGroupsGetMemoryOomGroupByDefaultAndTheClassDoesNot) {
    ObservedTree tree;
    tree.available = kAll;
    tree.slices["adhoc"].group.knobs["memory.oom.group"] = "0\n";
    tree.slices["adhoc"].scopes["a.scope"].knobs["memory.oom.group"] = "0\n";
    tree.slices["off"].scopes["b.scope"].knobs["memory.oom.group"] = "1\n";
    auto p = plan(compile("[classes.adhoc]\n[classes.off]\nworkload.memory.oom.group = false\n"),
                  twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    std::vector<std::string> writes;
    for (const auto& a : p->actions) {
        if (a.kind == ActionKind::Write && a.file == "memory.oom.group")
            writes.push_back(describe(a));
    }
    EXPECT_EQ(writes,
              (std::vector<std::string>{"write adhoc.slice/a.scope/memory.oom.group: 0 -> 1",
                                        "write off.slice/memory.oom.group: (new) -> 0",
                                        "write off.slice/b.scope/memory.oom.group: 1 -> 0"}));
}

// The kernel refuses cpu.max.burst above the quota at any moment.
TEST(Plan, TheBurstComesDownBeforeAShrinkingQuotaAndGoesUpAfterAGrowingOne) {
    auto writesOf = [](const Plan& p) {
        std::vector<std::string> out;
        for (const auto& a : p.actions) {
            if (a.kind == ActionKind::Write && a.group == "batch.slice" &&
                a.file.rfind("cpu.max", 0) == 0)
                out.push_back(a.file + "=" + a.value);
        }
        return out;
    };
    ObservedTree tree;
    tree.available = kAll;
    tree.slices["batch"].group.knobs["cpu.max"] = "50000 100000\n";
    tree.slices["batch"].group.knobs["cpu.max.burst"] = "40000\n";
    auto shrink = plan(compile("[classes.batch]\ncpu.max = \"20%\"\ncpu.burst = \"10ms\"\n"),
                       twoDisks(), tree);
    ASSERT_TRUE(shrink.ok());
    EXPECT_EQ(writesOf(*shrink),
              (std::vector<std::string>{"cpu.max.burst=10000", "cpu.max=20000 100000"}));

    tree.slices["batch"].group.knobs["cpu.max"] = "20000 100000\n";
    tree.slices["batch"].group.knobs["cpu.max.burst"] = "10000\n";
    auto grow = plan(compile("[classes.batch]\ncpu.max = \"50%\"\ncpu.burst = \"40ms\"\n"),
                     twoDisks(), tree);
    ASSERT_TRUE(grow.ok());
    EXPECT_EQ(writesOf(*grow),
              (std::vector<std::string>{"cpu.max=50000 100000", "cpu.max.burst=40000"}));
}

TEST(Plan, KnobsThisKernelLacksAreNotWrittenAndTheOnesThePolicySetsAreReported) {
    // The root has the memory controller's files but no memory.zswap.max (a
    // kernel before 5.19): the knob is absent, the others are there.
    ObservedTree tree;
    tree.available = kAll;
    for (const auto& k : policies::knobs()) {
        if (k.controller == "memory" && k.file != "memory.zswap.max")
            tree.root.knobs[std::string(k.file)] = std::string(k.kernelDefault) + "\n";
    }
    auto p = plan(compile("[classes.a]\nmemory.zswap.max = 0\nmemory.swap.max = 0\n"
                          "[classes.b]\n"),
                  twoDisks(), tree);
    ASSERT_TRUE(p.ok());
    for (const auto& a : p->actions)
        EXPECT_NE(a.file, "memory.zswap.max") << describe(a);
    ASSERT_EQ(p->unenforceable.size(), 1u);
    EXPECT_EQ(p->unenforceable[0].key, "memory.zswap.max");
    EXPECT_EQ(p->unenforceable[0].reason(), "this kernel has no memory.zswap.max");
    // A root with no file of a controller (the hierarchy's root) tells nothing.
    ObservedTree bare;
    bare.available = kAll;
    auto q = plan(compile("[classes.a]\nmemory.zswap.max = 0\n"), twoDisks(), bare);
    ASSERT_TRUE(q.ok());
    EXPECT_TRUE(q->unenforceable.empty());
}

TEST(Plan, TheRootHoldsTheSumOfTheClassesProtectionsWhenItIsTheDaemons) {
    ObservedTree tree;
    tree.available = kAll;
    tree.root.knobs["memory.min"] = "0\n";
    tree.root.knobs["memory.low"] = "0\n";
    const auto policy = compile(
        "[classes.a]\nmemory.low = \"100MiB\"\nmemory.min = \"10MiB\"\n"
        "[classes.b]\nmemory.low = \"50MiB\"\n[classes.c]\n");
    auto owned = [&](bool rootProtection) {
        tree.rootProtection = rootProtection;
        auto p = plan(policy, twoDisks(), tree);
        EXPECT_TRUE(p.ok());
        std::vector<std::string> root;
        for (const auto& a : p->actions) {
            if (a.kind == ActionKind::Write && a.group.empty())
                root.push_back(describe(a));
        }
        return root;
    };
    EXPECT_EQ(owned(true), (std::vector<std::string>{"write <root>/memory.low: 0 -> 157286400",
                                                     "write <root>/memory.min: 0 -> 10485760"}));
    EXPECT_TRUE(owned(false).empty());  // under systemd: the service's MemoryLow=
}

TEST(Plan, WithoutRecursiveprotAClasssProtectionIsWrittenOnItsWorkloadGroups) {
    auto writesOn = [](bool recursiveprot, const std::string& policyText) {
        ObservedTree tree;
        tree.available = kAll;
        tree.memoryRecursiveProt = recursiveprot;
        tree.slices["a"].scopes["w.scope"].knobs["memory.low"] = "0\n";
        tree.slices["a"].scopes["w.scope"].knobs["memory.min"] = "0\n";
        auto p = plan(compile(policyText), twoDisks(), tree);
        EXPECT_TRUE(p.ok());
        std::vector<std::string> out;
        for (const auto& a : p->actions) {
            if (a.group == "a.slice/w.scope" && (a.file == "memory.low" || a.file == "memory.min"))
                out.push_back(a.file + "=" + a.value);
        }
        return out;
    };
    const std::string classOnly = "[classes.a]\nmemory.low = \"1MiB\"\n";
    EXPECT_EQ(writesOn(false, classOnly), std::vector<std::string>{"memory.low=1048576"});
    EXPECT_TRUE(writesOn(true, classOnly).empty());
    // The workload's own value wins.
    EXPECT_EQ(writesOn(false, classOnly + "workload.memory.low = \"2MiB\"\n"),
              std::vector<std::string>{"memory.low=2097152"});
}

TEST(Plan, LimitPlacementsNameWhereEachLimitOfAClassIsAndWhatIsNotEnforced) {
    const auto policy = compile(
        "[classes.adhoc]\nmemory.max = \"2GiB\"\nmemory.low = \"1GiB\"\npids.max = 1000\n"
        "io.device.\"/dev/nvme0n1\".write_bps = \"1MB/s\"\nworkload.pids.max = 10\n");
    const auto& cls = *policy.find("adhoc");
    std::vector<Unenforceable> missing = {{"adhoc", "pids.max", "pids", false, ""}};
    auto rows = [](const std::vector<LimitPlacement>& ps) {
        std::vector<std::string> out;
        for (const auto& p : ps) {
            out.push_back(p.key + "=" + p.value + " on " + p.group + " [" + p.source + "]" +
                          (p.enforced ? "" : " NOT: " + p.reason));
        }
        return out;
    };
    EXPECT_EQ(
        rows(limitPlacements(cls, missing, {"memory", "io"}, false)),
        (std::vector<std::string>{
            "memory.max=2 GiB on adhoc.slice [policy]", "memory.low=1 GiB on adhoc.slice [policy]",
            "pids.max=1000 on adhoc.slice [policy] NOT: the pids controller is not available",
            "io.device.\"/dev/nvme0n1\".write_bps=1 MB/s on adhoc.slice [policy]",
            "memory.low=1 GiB on adhoc.slice/*.scope [the class's, on each workload group "
            "(cgroup2 without memory_recursiveprot)]",
            "workload.memory.oom.group=true on adhoc.slice/*.scope [default for workload "
            "groups]",
            "workload.pids.max=10 on adhoc.slice/*.scope [policy]"}));
    auto shared = limitPlacements(cls, {}, {"memory", "io", "pids"}, true);
    EXPECT_EQ(shared[1].source, "policy; shared by the workload groups (memory_recursiveprot)");
    EXPECT_EQ(shared.size(), 6u);  // no per-workload copy of the protection
    // Without the memory controller, the workload default is not enforced either.
    auto noMemory = limitPlacements(cls, {}, {"pids"}, true);
    EXPECT_FALSE(noMemory[4].enforced) << noMemory[4].key;
}

TEST(Plan, UnknownDeviceIsAnErrorNamingIt) {
    ObservedTree tree;
    tree.available = kAll;
    auto p = plan(compile("[classes.x]\nio.device.\"/dev/sdz\".write_bps = \"1MB/s\"\n"),
                  twoDisks(), tree);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message().find("/dev/sdz"), std::string::npos) << p.error().message();
}

TEST(Plan, SliceNamesRoundTrip) {
    EXPECT_EQ(sliceGroup("adhoc"), "adhoc.slice");
    EXPECT_EQ(classOfSlice("adhoc.slice"), "adhoc");
    EXPECT_EQ(classOfSlice(".slice"), "");
    EXPECT_EQ(classOfSlice("governord"), "");
    EXPECT_EQ(classOfSlice("x.scope"), "");
}

TEST(PlanNewWorkloadGroup, IsMadeThenGetsEachWorkloadLimitOfItsClass) {
    auto policy = compile(
        "[classes.adhoc]\nmemory.max = \"2GiB\"\nworkload.memory.max = \"256MiB\"\n"
        "workload.pids.max = 50\nworkload.io.write_bps = \"1MB/s\"\n");
    const std::string group = "adhoc.slice/sh-1-1.scope";
    auto p = planNewWorkloadGroup(*policy.find("adhoc"), twoDisks(), kAll, {}, false, group);
    ASSERT_TRUE(p.ok()) << p.error().message();
    auto got = described(*p);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0], "mkdir " + group);
    for (size_t i = 1; i < p->actions.size(); ++i) {
        EXPECT_EQ(p->actions[i].kind, ActionKind::Write) << got[i];
        EXPECT_EQ(p->actions[i].group, group) << got[i];
    }
    auto has = [&](const std::string& line) {
        return std::find(got.begin(), got.end(), line) != got.end();
    };
    // The workload's own limits, as plan() writes them on an existing scope.
    EXPECT_TRUE(has("write " + group + "/memory.max: max -> 268435456"));
    EXPECT_TRUE(has("write " + group + "/pids.max: max -> 50"));
    EXPECT_TRUE(has("write " + group +
                    "/io.max: 8:0 rbps=max wbps=max riops=max wiops=max -> "
                    "8:0 rbps=max wbps=1000000 riops=max wiops=max"));
    // Not the class's limit: that one bounds the slice.
    EXPECT_FALSE(has("write " + group + "/memory.max: max -> 2147483648"));
    EXPECT_TRUE(p->unenforceable.empty());
}

TEST(PlanNewWorkloadGroup, OfAClassWithoutWorkloadLimitsIsTheMkdirAndMemoryOomGroup) {
    auto p = planNewWorkloadGroup(*policies::defaultPolicy().find("adhoc"), twoDisks(), kAll, {},
                                  false, "adhoc.slice/top-1-1.scope");
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(described(*p), (std::vector<std::string>{
                                 "mkdir adhoc.slice/top-1-1.scope",
                                 "write adhoc.slice/top-1-1.scope/memory.oom.group: 0 -> 1"}));
}

TEST(PlanNewWorkloadGroup, WritesNoKernelDefaultTheNewGroupHoldsAlready) {
    auto policy = compile(
        "[classes.adhoc]\nworkload.pids.max = 50\n"
        "workload.memory.oom.group = false\n");
    auto p = planNewWorkloadGroup(*policy.find("adhoc"), twoDisks(), kAll, {}, false,
                                  "adhoc.slice/sh-1-1.scope");
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(described(*p), (std::vector<std::string>{"mkdir adhoc.slice/sh-1-1.scope",
                                                       "write adhoc.slice/sh-1-1.scope/pids.max: "
                                                       "max -> 50"}));
}

TEST(PlanNewWorkloadGroup, GetsItsClassProtectionOnlyWithoutMemoryRecursiveprot) {
    auto policy = compile("[classes.prot]\nmemory.low = \"192MiB\"\n");
    const std::string group = "prot.slice/sh-1-1.scope";
    auto without = planNewWorkloadGroup(*policy.find("prot"), twoDisks(), kAll, {}, false, group);
    ASSERT_TRUE(without.ok()) << without.error().message();
    auto got = described(*without);
    EXPECT_NE(std::find(got.begin(), got.end(), "write " + group + "/memory.low: 0 -> 201326592"),
              got.end());
    auto with = planNewWorkloadGroup(*policy.find("prot"), twoDisks(), kAll, {}, true, group);
    ASSERT_TRUE(with.ok()) << with.error().message();
    for (const auto& a : with->actions)
        EXPECT_NE(a.file, "memory.low") << describe(a);
}

TEST(PlanNewWorkloadGroup, WritesNoKnobFileThisKernelLacks) {
    auto policy = compile("[classes.adhoc]\nworkload.cpu.idle = true\nworkload.pids.max = 50\n");
    auto p = planNewWorkloadGroup(*policy.find("adhoc"), twoDisks(), kAll, {"cpu.idle"}, false,
                                  "adhoc.slice/sh-1-1.scope");
    ASSERT_TRUE(p.ok()) << p.error().message();
    for (const auto& a : p->actions)
        EXPECT_NE(a.file, "cpu.idle") << describe(a);
    EXPECT_EQ(p->actions.size(), 3u);  // mkdir, memory.oom.group, pids.max
}

TEST(PlanNewWorkloadGroup, WritesNoFileOfAMissingController) {
    auto policy =
        compile("[classes.adhoc]\nworkload.memory.max = \"256MiB\"\nworkload.cpu.weight = 50\n");
    auto p = planNewWorkloadGroup(*policy.find("adhoc"), twoDisks(), {"cpu"}, {}, false,
                                  "adhoc.slice/sh-1-1.scope");
    ASSERT_TRUE(p.ok()) << p.error().message();
    ASSERT_GE(p->actions.size(), 2u);
    for (size_t i = 1; i < p->actions.size(); ++i)
        EXPECT_EQ(p->actions[i].file.rfind("cpu.", 0), 0u) << describe(p->actions[i]);
}

}  // namespace
}  // namespace gov::core
