#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "TestUtil.hpp"
#include "gov/runtime/Accounting.hpp"

namespace gov::runtime {
namespace {

using test::TempDir;
using test::writeFile;
using C = CounterId;

CgroupFs fixtureTree() {
    auto fs = CgroupFs::open(test::fixturePath(""));
    EXPECT_TRUE(fs.ok());
    return std::move(*fs);
}

std::optional<uint64_t> v(uint64_t x) {
    return x;
}

TEST(ReadUsage, HybridGroupHasOnlyCpuUsageEventsAndPressure) {
    CgroupFs fs = fixtureTree();
    auto u = readUsage(fs, "hybrid-group");
    ASSERT_TRUE(u.ok()) << u.error().message();
    EXPECT_TRUE(u->populated());
    EXPECT_FALSE(u->frozen());
    EXPECT_EQ(u->values.get(C::CpuUsage), v(532179));
    EXPECT_EQ(u->values.get(C::CpuUser), v(531219));
    EXPECT_EQ(u->values.get(C::CpuSystem), v(959));
    EXPECT_FALSE(u->values.has(C::CpuThrottledPeriods));
    EXPECT_FALSE(u->values.has(C::MemoryCurrent));
    EXPECT_FALSE(u->filesRead.test(index(C::MemoryCurrent)));
    EXPECT_TRUE(u->devices.empty());
    EXPECT_FALSE(u->values.has(C::TasksCurrent));
    EXPECT_EQ(u->values.get(C::CpuPressureSome), v(353176));
    EXPECT_TRUE(u->values.has(C::MemoryPressureSome));
    EXPECT_TRUE(u->values.has(C::IoPressureFull));
    EXPECT_TRUE(u->filesRead.test(index(C::IoPressureFull)));
}

TEST(ReadUsage, FullV2GroupFillsEveryCounter) {
    CgroupFs fs = fixtureTree();
    auto u = readUsage(fs, "v2-group");
    ASSERT_TRUE(u.ok()) << u.error().message();
    EXPECT_EQ(u->values.get(C::CpuUsage), v(8123456));
    EXPECT_EQ(u->values.get(C::CpuThrottledPeriods), v(37));
    EXPECT_EQ(u->values.get(C::CpuThrottledTime), v(912345));
    EXPECT_EQ(u->values.get(C::MemoryCurrent), v(1803546624));
    EXPECT_EQ(u->values.get(C::MemoryPeak), v(2147483648));
    EXPECT_EQ(u->values.get(C::MemoryMax), v(2147483648));
    // memory.high reads "max": a limit that is not set has no value.
    EXPECT_FALSE(u->values.has(C::MemoryHigh));
    EXPECT_TRUE(u->filesRead.test(index(C::MemoryHigh)));
    EXPECT_EQ(u->values.get(C::MemoryEventsMax), v(152));
    EXPECT_EQ(u->values.get(C::MemoryEventsOom), v(3));
    EXPECT_EQ(u->values.get(C::MemoryEventsOomKill), v(2));
    EXPECT_EQ(u->values.get(C::MemoryEventsOomGroupKill), v(0));
    EXPECT_EQ(u->values.get(C::MemoryAnon), v(1561313280));
    EXPECT_EQ(u->values.get(C::MemoryFile), v(201326592));
    EXPECT_EQ(u->values.get(C::MemoryKernel), v(33554432));
    EXPECT_EQ(u->values.get(C::MemorySock), v(4096));
    ASSERT_EQ(u->devices.size(), 2u);
    EXPECT_EQ(u->devices[0].device, "254:0");
    EXPECT_EQ(u->devices[0].values.get(C::IoReadOps), v(3300));
    EXPECT_EQ(u->devices[1].device, "8:16");
    EXPECT_EQ(u->devices[1].values.get(C::IoWriteBytes), v(314773504));
    EXPECT_EQ(u->sumOverDevices(C::IoReadBytes), 90430464u + 1459200u);
    EXPECT_EQ(u->values.get(C::TasksCurrent), v(12));
    EXPECT_EQ(u->values.get(C::TasksPeak), v(57));
    EXPECT_EQ(u->values.get(C::TasksMax), v(1000));
    EXPECT_EQ(u->values.get(C::TasksMaxEvents), v(4));
    EXPECT_EQ(u->values.get(C::IoPressureFull), v(88817254));
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
    EXPECT_TRUE(u->frozen());
    EXPECT_FALSE(u->populated());
    EXPECT_EQ(u->values.get(C::MemoryCurrent), v(4096));
    EXPECT_FALSE(u->values.has(C::MemoryPeak));
    EXPECT_FALSE(u->values.has(C::MemoryMax));
    EXPECT_EQ(u->values.get(C::TasksCurrent), v(3));
    EXPECT_FALSE(u->values.has(C::TasksPeak));
    EXPECT_FALSE(u->values.has(C::CpuUsage));
    EXPECT_FALSE(u->values.has(C::CpuPressureSome));
}

TEST(ReadUsage, FilesOfAControllerAreNotReadWithoutItsMarkerFile) {
    // memory.peak exists but memory.current does not: the memory controller is off
    // (a stale file in a fake tree; the kernel never has one without the other).
    TempDir dir;
    writeFile(dir / "g/cgroup.events", "populated 1\nfrozen 0\n");
    writeFile(dir / "g/memory.peak", "4096\n");
    writeFile(dir / "g/pids.max", "garbage that would not parse\n");
    auto fs = CgroupFs::open(dir.path());
    ASSERT_TRUE(fs.ok());
    auto u = readUsage(*fs, "g");
    ASSERT_TRUE(u.ok()) << u.error().message();
    EXPECT_FALSE(u->values.has(C::MemoryPeak));
    EXPECT_FALSE(u->filesRead.test(index(C::MemoryPeak)));
}

TEST(CounterFiles, PresenceFileComesFirstAndMarkersBeforeTheFilesThatNeedThem) {
    const auto& files = counterFiles();
    ASSERT_FALSE(files.empty());
    EXPECT_STREQ(files.front().name, kPresenceFile);
    std::set<std::string> before;
    for (const auto& f : files) {
        EXPECT_TRUE(before.insert(f.name).second) << f.name << " listed twice";
        if (f.readIf != nullptr) {
            EXPECT_TRUE(before.count(f.readIf)) << f.name << " needs " << f.readIf;
        }
    }
    // cgroup.stat and memory.swap.current have no row: never read.
    EXPECT_FALSE(before.count("cgroup.stat"));
    EXPECT_FALSE(before.count("memory.swap.current"));
}

TEST(CounterTable, RowsOfOneFileAgreeOnItsShapeAndMarker) {
    for (const auto& a : kCounters) {
        for (const auto& b : kCounters) {
            if (std::strcmp(a.file, b.file) != 0)
                continue;
            EXPECT_EQ(a.source, b.source) << a.metric << " / " << b.metric;
            EXPECT_EQ(a.readIf == nullptr, b.readIf == nullptr) << a.metric << " / " << b.metric;
            if (a.readIf && b.readIf) {
                EXPECT_STREQ(a.readIf, b.readIf);
            }
        }
    }
}

TEST(CounterTable, EveryFoldedRowHasAJsonNameAndEndedHelpAndNamesAreUnique) {
    std::set<std::string> metrics, json;
    for (const auto& row : kCounters) {
        EXPECT_TRUE(metrics.insert(row.metric).second) << row.metric;
        EXPECT_NE(std::string(row.help), "") << row.metric;
        if (row.fold == Fold::None) {
            EXPECT_EQ(row.json, nullptr) << row.metric;
            continue;
        }
        ASSERT_NE(row.json, nullptr) << row.metric;
        ASSERT_NE(row.endedHelp, nullptr) << row.metric;
        EXPECT_TRUE(json.insert(row.json).second) << row.json;
        if (row.endedGate == EndedGate::Controller) {
            EXPECT_NE(row.controller, nullptr) << row.metric;
        }
        // A counter's name ends in _total (Prometheus conventions); gauges do not.
        std::string m = row.metric;
        bool total = m.size() > 6 && m.compare(m.size() - 6, 6, "_total") == 0;
        EXPECT_EQ(total, row.type == ExportType::Counter) << m;
    }
}

TEST(ParseCounterFile, MemoryStatFallsBackToStackPlusSlabWithoutKernelKey) {
    GroupUsage u;
    ASSERT_TRUE(parseCounterFile("memory.stat", "anon 1\nkernel_stack 100\nslab 50\n", u).ok());
    EXPECT_EQ(u.values.get(C::MemoryKernel), v(150));
    EXPECT_EQ(u.values.get(C::MemoryAnon), v(1));
    EXPECT_FALSE(u.values.has(C::MemoryFile));  // no key, no value

    GroupUsage both;
    ASSERT_TRUE(
        parseCounterFile("memory.stat", "kernel 7\nkernel_stack 100\nslab 50\n", both).ok());
    EXPECT_EQ(both.values.get(C::MemoryKernel), v(7));
}

TEST(ParseCounterFile, CpuStatKeepsThrottlingOnlyWhenPresent) {
    GroupUsage hybrid;
    ASSERT_TRUE(parseCounterFile("cpu.stat",
                                 test::readFile(test::fixturePath("hybrid-group/cpu.stat")), hybrid)
                    .ok());
    EXPECT_EQ(hybrid.values.get(C::CpuUsage), v(532179));
    EXPECT_FALSE(hybrid.values.has(C::CpuThrottledPeriods));
    EXPECT_TRUE(hybrid.filesRead.test(index(C::CpuThrottledPeriods)));
}

TEST(ParseCounterFile, IoStatIgnoresUnknownFieldsEvenNonNumericOnesAndDefaultsMissingOnes) {
    GroupUsage u;
    ASSERT_TRUE(
        parseCounterFile("io.stat", "8:0 rbytes=10 wbytes=20 cost.vrate=100.00\n9:1 rios=4\n", u)
            .ok());
    ASSERT_EQ(u.devices.size(), 2u);
    EXPECT_EQ(u.devices[0].values.get(C::IoReadBytes), v(10));
    EXPECT_EQ(u.devices[0].values.get(C::IoWriteOps), v(0));
    EXPECT_EQ(u.devices[1].device, "9:1");
    EXPECT_EQ(u.devices[1].values.get(C::IoReadOps), v(4));
}

TEST(ParseCounterFile, IoStatRejectsBadDevicesAndNumbers) {
    for (const char* bad : {"sda rbytes=1\n", "8: rbytes=1\n", "8:0 rbytes=1x\n", "8:0 rbytes\n"}) {
        GroupUsage u;
        EXPECT_FALSE(parseCounterFile("io.stat", bad, u).ok()) << bad;
    }
    GroupUsage u;
    auto r = parseCounterFile("io.stat", "8:0 rbytes=1\n8:1 wios=x\n", u);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "line 2: bad number 'x' for 'wios'");
    GroupUsage empty;
    EXPECT_TRUE(parseCounterFile("io.stat", "", empty).ok());
    EXPECT_TRUE(empty.devices.empty());
}

TEST(ParseCounterFile, PressureWithoutFullLineHasOnlySome) {
    GroupUsage u;
    ASSERT_TRUE(parseCounterFile("cpu.pressure",
                                 test::readFile(test::fixturePath("cpu.pressure-no-full")), u)
                    .ok());
    EXPECT_TRUE(u.values.has(C::CpuPressureSome));
    EXPECT_FALSE(u.values.has(C::CpuPressureFull));
    EXPECT_TRUE(u.filesRead.test(index(C::CpuPressureFull)));
}

TEST(ParseCounterFile, LimitThatReadsMaxHasNoValue) {
    GroupUsage u;
    ASSERT_TRUE(parseCounterFile("pids.max", "max\n", u).ok());
    EXPECT_FALSE(u.values.has(C::TasksMax));
    ASSERT_TRUE(parseCounterFile("pids.max", "1000\n", u).ok());
    EXPECT_EQ(u.values.get(C::TasksMax), v(1000));
}

TEST(ParseCounterFile, MalformedFilesAndFilesOutsideTheTableAreErrors) {
    GroupUsage u;
    EXPECT_FALSE(parseCounterFile("memory.events", "oom many\n", u).ok());
    EXPECT_FALSE(parseCounterFile("memory.current", "12 13\n", u).ok());
    EXPECT_FALSE(parseCounterFile("cgroup.stat", "nr_descendants 1\n", u).ok());
    EXPECT_FALSE(parseCgroupEvents("populated yes\n").ok());
}

TEST(ReadEvents, ReadsPopulatedAndFrozen) {
    CgroupFs fs = fixtureTree();
    auto ev = readEvents(fs, "hybrid-group");
    ASSERT_TRUE(ev.ok());
    EXPECT_EQ(*ev, (CgroupEvents{true, false}));
}

}  // namespace
}  // namespace gov::runtime
