#include <gtest/gtest.h>

#include <filesystem>

#include "TestUtil.hpp"
#include "gov/runtime/Accounting.hpp"

namespace gov::runtime {
namespace {

using test::TempDir;
using test::writeFile;

CgroupFs fixtureTree() {
    auto fs = CgroupFs::open(test::fixturePath(""));
    EXPECT_TRUE(fs.ok());
    return std::move(*fs);
}

TEST(ReadUsage, HybridGroupHasOnlyCpuStatEventsStatAndPressure) {
    CgroupFs fs = fixtureTree();
    auto u = readUsage(fs, "hybrid-group");
    ASSERT_TRUE(u.ok()) << u.error().message();
    EXPECT_TRUE(u->populated);
    EXPECT_FALSE(u->frozen);
    ASSERT_TRUE(u->cpu.has_value());
    EXPECT_EQ(u->cpu->usageUsec, 532179u);
    EXPECT_EQ(u->cpu->userUsec, 531219u);
    EXPECT_EQ(u->cpu->systemUsec, 959u);
    EXPECT_FALSE(u->cpu->nrThrottled.has_value());
    EXPECT_FALSE(u->memory.has_value());
    EXPECT_FALSE(u->io.has_value());
    EXPECT_FALSE(u->pids.has_value());
    ASSERT_TRUE(u->cpuPressure.has_value());
    EXPECT_EQ(u->cpuPressure->some.totalUsec, 353176u);
    EXPECT_TRUE(u->memoryPressure.has_value());
    EXPECT_TRUE(u->ioPressure.has_value());
    EXPECT_EQ(u->nrDescendants, 0u);
}

TEST(ReadUsage, FullV2GroupFillsEveryField) {
    CgroupFs fs = fixtureTree();
    auto u = readUsage(fs, "v2-group");
    ASSERT_TRUE(u.ok()) << u.error().message();
    ASSERT_TRUE(u->cpu.has_value());
    EXPECT_EQ(u->cpu->usageUsec, 8123456u);
    EXPECT_EQ(u->cpu->nrThrottled, std::optional<uint64_t>(37));
    ASSERT_TRUE(u->memory.has_value());
    EXPECT_EQ(u->memory->current, 1803546624u);
    EXPECT_EQ(u->memory->peak, std::optional<uint64_t>(2147483648u));
    EXPECT_EQ(u->memory->max, std::optional<MaxOr>(MaxOr::of(2147483648u)));
    EXPECT_EQ(u->memory->high, std::optional<MaxOr>(MaxOr::max()));
    EXPECT_EQ(u->memory->swapCurrent, std::optional<uint64_t>(0));
    EXPECT_EQ(u->memory->events, (MemoryEvents{0, 0, 152, 3, 2, 0}));
    EXPECT_EQ(u->memory->stat.anon, 1561313280u);
    ASSERT_TRUE(u->io.has_value());
    ASSERT_EQ(u->io->size(), 2u);
    EXPECT_EQ((*u->io)[1].wbytes, 314773504u);
    ASSERT_TRUE(u->pids.has_value());
    EXPECT_EQ(u->pids->current, 12u);
    EXPECT_EQ(u->pids->peak, std::optional<uint64_t>(57));
    EXPECT_EQ(u->pids->max, std::optional<MaxOr>(MaxOr::of(1000)));
    EXPECT_EQ(u->pids->eventsMax, 4u);
    ASSERT_TRUE(u->ioPressure.has_value());
    ASSERT_TRUE(u->ioPressure->full.has_value());
    EXPECT_EQ(u->ioPressure->full->totalUsec, 88817254u);
    EXPECT_EQ(u->nrDescendants, 2u);
    EXPECT_EQ(u->nrDyingDescendants, 1u);
}

TEST(ReadUsage, MissingGroupIsAnError) {
    CgroupFs fs = fixtureTree();
    auto u = readUsage(fs, "no-such-group");
    ASSERT_FALSE(u.ok());
    EXPECT_EQ(u.error().message(),
              "read cgroup.events in no-such-group: No such file or directory");
}

TEST(ReadUsage, MalformedFileIsAnErrorNamingFileAndGroup) {
    TempDir dir;
    writeFile(dir / "g/cgroup.events", "populated 0\nfrozen 0\n");
    writeFile(dir / "g/memory.current", "12\n");
    writeFile(dir / "g/memory.events", "oom lots\n");
    auto fs = CgroupFs::open(dir.path());
    ASSERT_TRUE(fs.ok());
    auto u = readUsage(*fs, "g");
    ASSERT_FALSE(u.ok());
    EXPECT_EQ(u.error().message(),
              "parse memory.events in g: line 1: bad number 'lots' for key 'oom'");
}

TEST(ReadUsage, MemoryWithoutOptionalFilesLeavesThemEmpty) {
    TempDir dir;
    writeFile(dir / "g/cgroup.events", "populated 0\nfrozen 1\n");
    writeFile(dir / "g/memory.current", "4096\n");
    writeFile(dir / "g/pids.current", "3\n");
    auto fs = CgroupFs::open(dir.path());
    ASSERT_TRUE(fs.ok());
    auto u = readUsage(*fs, "g");
    ASSERT_TRUE(u.ok()) << u.error().message();
    EXPECT_TRUE(u->frozen);
    EXPECT_FALSE(u->populated);
    ASSERT_TRUE(u->memory.has_value());
    EXPECT_EQ(u->memory->current, 4096u);
    EXPECT_FALSE(u->memory->peak.has_value());
    EXPECT_FALSE(u->memory->max.has_value());
    ASSERT_TRUE(u->pids.has_value());
    EXPECT_FALSE(u->pids->peak.has_value());
    EXPECT_FALSE(u->cpu.has_value());
    EXPECT_FALSE(u->cpuPressure.has_value());
}

TEST(ReadEvents, ReadsPopulatedAndFrozen) {
    CgroupFs fs = fixtureTree();
    auto ev = readEvents(fs, "hybrid-group");
    ASSERT_TRUE(ev.ok());
    EXPECT_EQ(*ev, (CgroupEvents{true, false}));
}

}  // namespace
}  // namespace gov::runtime
