#include <gtest/gtest.h>

#include "StatusFormat.hpp"

namespace gov::govctl {
namespace {

GroupRow row(const std::string& group, uint64_t cpu, uint64_t mem = 0, uint64_t rd = 0,
             uint64_t wr = 0, uint32_t tasks = 0) {
    GroupRow r;
    r.group = group;
    r.className = group.substr(0, group.find('.'));
    r.cpuUsageUsec = cpu;
    r.memoryBytes = mem;
    r.ioReadBytes = rd;
    r.ioWriteBytes = wr;
    r.tasks = tasks;
    return r;
}

TEST(StatusFormat, HumanBytesAre1024BasedWithOneDecimal) {
    EXPECT_EQ(humanBytes(0), "0");
    EXPECT_EQ(humanBytes(1023), "1023");
    EXPECT_EQ(humanBytes(1024), "1.0K");
    EXPECT_EQ(humanBytes(1536), "1.5K");
    EXPECT_EQ(humanBytes(123456789), "117.7M");
    EXPECT_EQ(humanBytes(3ull << 30), "3.0G");
}

TEST(StatusFormat, HumanCpuTimeShowsMinutesAndHoursWhenLong) {
    EXPECT_EQ(humanCpuTime(0), "0");
    EXPECT_EQ(humanCpuTime(1500000), "1.500s");
    EXPECT_EQ(humanCpuTime(61000000), "1min 1.000s");
    EXPECT_EQ(humanCpuTime(3723000000), "1h 2min 3.000s");
}

TEST(StatusFormat, StateSaysKilledBeforeFrozen) {
    GroupRow r = row("adhoc.slice", 0);
    EXPECT_EQ(groupState(r), "running");
    r.frozen = true;
    EXPECT_EQ(groupState(r), "frozen");
    r.killed = true;
    EXPECT_EQ(groupState(r), "killed");
}

TEST(StatusFormat, GroupsTableHasAHeaderAndAlignedColumns) {
    auto text = formatGroupsTable({row("adhoc.slice", 2000000, 1024, 0, 0, 3),
                                   row("adhoc.slice/sh-1-2.scope", 1000000, 0, 0, 0, 1)});
    EXPECT_EQ(text,
              "GROUP                     CLASS  STATE    TASKS  CPU     MEMORY  IO-READ  IO-WRITE\n"
              "adhoc.slice               adhoc  running  3      2.000s  1.0K    0        0\n"
              "adhoc.slice/sh-1-2.scope  adhoc  running  1      1.000s  0       0        0\n");
}

TEST(StatusFormat, GroupJsonKeepsExactNumbers) {
    auto j = groupsToJson({row("core.slice", 123, 456, 7, 8, 9)});
    ASSERT_EQ(j["groups"].size(), 1u);
    EXPECT_EQ(j["groups"][0]["cpu_usage_usec"], 123);
    EXPECT_EQ(j["groups"][0]["memory_bytes"], 456);
    EXPECT_EQ(j["groups"][0]["io_read_bytes"], 7);
    EXPECT_EQ(j["groups"][0]["io_write_bytes"], 8);
    EXPECT_EQ(j["groups"][0]["tasks"], 9);
    EXPECT_EQ(j["groups"][0]["state"], "running");
}

TEST(StatusFormat, ClassesTableShowsDashForNoNamespaces) {
    ClassRow a{"adhoc", "debugging", {"pid", "mount"}, 2, false};
    ClassRow c{"core", "", {}, 0, true};
    EXPECT_EQ(formatClassesTable({a, c}),
              "CLASS  WORKLOADS  STATE    NAMESPACES  DESCRIPTION\n"
              "adhoc  2          running  pid,mount   debugging\n"
              "core   0          frozen   -           -\n");
}

TEST(StatusFormat, GroupDetailListsThePids) {
    auto text = formatGroupDetail(row("adhoc.slice/x.scope", 5), {10, 11});
    EXPECT_NE(text.find("group:    adhoc.slice/x.scope\n"), std::string::npos);
    EXPECT_NE(text.find("pids:     10 11\n"), std::string::npos);
    EXPECT_NE(formatGroupDetail(row("a.slice", 0), {}).find("pids:     -\n"), std::string::npos);
    EXPECT_EQ(groupDetailToJson(row("a.slice", 0), {7})["pids"][0], 7);
}

TEST(StatusFormat, ClassLimitsSayWhereEachIsEnforcedAndWhichCannotBe) {
    std::vector<LimitRow> rows = {
        {"memory.max", "2 GiB", "memory.max", "adhoc.slice", "policy", false,
         "the memory controller is not available"},
        {"pids.max", "1000", "pids.max", "adhoc.slice", "policy", true, ""},
        {"workload.memory.oom.group", "true", "memory.oom.group", "adhoc.slice/*.scope",
         "default for workload groups", true, ""},
    };
    EXPECT_EQ(formatClassLimits(rows),
              "limits:\n"
              "LIMIT                      VALUE  ON                          SOURCE\n"
              "memory.max                 2 GiB  adhoc.slice (NOT ENFORCED)  policy\n"
              "pids.max                   1000   adhoc.slice                 policy\n"
              "workload.memory.oom.group  true   adhoc.slice/*.scope         default for "
              "workload groups\n"
              "not enforceable on this host:\n"
              "  memory.max on adhoc.slice: the memory controller is not available\n");
    EXPECT_EQ(formatClassLimits({}), "limits:   none (every knob at the kernel's default)\n");
    auto j = classLimitsToJson(rows);
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[0]["enforced"], false);
    EXPECT_EQ(j[0]["reason"], "the memory controller is not available");
    EXPECT_EQ(j[2]["group"], "adhoc.slice/*.scope");
}

TEST(StatusFormat, DiffListsOperationsAndSaysWhenThereIsNothingToDo) {
    EXPECT_EQ(formatDiff({}, {}), "no changes: the policy is already in force\n");
    DiffRow mk{"mkdir", "extra.slice", "", "", "", "mkdir extra.slice"};
    DiffRow wr{"write", "adhoc.slice", "memory.max",
               "max",   "1024",        "write adhoc.slice/memory.max: max -> 1024"};
    EXPECT_EQ(formatDiff({mk, wr}, {"class adhoc: memory.max needs the memory controller"}),
              "mkdir extra.slice\n"
              "write adhoc.slice/memory.max: max -> 1024\n"
              "2 cgroup operations\n"
              "note: class adhoc: memory.max needs the memory controller\n");
    auto j = diffToJson({wr}, {});
    EXPECT_EQ(j["actions"][0]["old"], "max");
    EXPECT_EQ(j["actions"][0]["new"], "1024");
    EXPECT_EQ(j["actions"][0]["file"], "memory.max");
}

TEST(StatusFormat, TopComputesRatesBetweenSamplesAndSortsByCpu) {
    std::vector<GroupRow> before = {row("a.slice", 1000000, 0, 0, 0), row("b.slice", 0, 0, 0, 0)};
    std::vector<GroupRow> now = {row("a.slice", 1500000, 0, 4096, 0),
                                 row("b.slice", 2000000, 0, 0, 2048), row("c.slice", 5000000)};
    auto rows = topRows(before, now, 2.0, TopOrder::Cpu);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].now.group, "b.slice");  // 2 s of CPU in 2 s: 100%
    ASSERT_TRUE(rows[0].cpuPercent);
    EXPECT_DOUBLE_EQ(*rows[0].cpuPercent, 100.0);
    EXPECT_DOUBLE_EQ(*rows[0].ioWritePerSec, 1024.0);
    EXPECT_EQ(rows[1].now.group, "a.slice");
    EXPECT_DOUBLE_EQ(*rows[1].cpuPercent, 25.0);
    EXPECT_DOUBLE_EQ(*rows[1].ioReadPerSec, 2048.0);
    EXPECT_EQ(rows[2].now.group, "c.slice");  // new: no rate yet, sorted last
    EXPECT_FALSE(rows[2].cpuPercent);
}

TEST(StatusFormat, TopGivesNoRateWhenACounterWentBackwards) {
    auto rows = topRows({row("a.slice", 5000)}, {row("a.slice", 10)}, 1.0, TopOrder::Cpu);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_FALSE(rows[0].cpuPercent);
    EXPECT_NE(formatTopTable(rows).find("a.slice  0      -"), std::string::npos)
        << formatTopTable(rows);
}

TEST(StatusFormat, TopOrdersByMemoryTasksOrName) {
    std::vector<GroupRow> now = {row("a.slice", 0, 10, 0, 0, 5), row("b.slice", 0, 20, 0, 0, 1)};
    EXPECT_EQ(topRows(now, now, 1, TopOrder::Memory)[0].now.group, "b.slice");
    EXPECT_EQ(topRows(now, now, 1, TopOrder::Tasks)[0].now.group, "a.slice");
    EXPECT_EQ(topRows(now, now, 1, TopOrder::Group)[0].now.group, "a.slice");
    EXPECT_EQ(topOrderFromName("io"), TopOrder::Io);
    EXPECT_FALSE(topOrderFromName("bogus"));
}

}  // namespace
}  // namespace gov::govctl
