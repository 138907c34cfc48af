#include <gtest/gtest.h>

#include "gov/runtime/Counters.hpp"

namespace gov::runtime {
namespace {

using C = CounterId;

// An ended workload's counters: cpu (with throttling), memory (peak, events), one
// io device, memory pressure.
GroupUsage usage(uint64_t cpu, uint64_t peak, uint64_t oomKill) {
    GroupUsage u;
    u.values.set(C::CpuUsage, cpu);
    u.values.set(C::CpuUser, cpu / 2);
    u.values.set(C::CpuSystem, cpu / 4);
    u.values.set(C::CpuPeriods, 10);
    u.values.set(C::CpuThrottledPeriods, 3);
    u.values.set(C::CpuThrottledTime, 500);
    u.values.set(C::MemoryCurrent, 0);
    u.values.set(C::MemoryPeak, peak);
    u.values.set(C::MemoryEventsOomKill, oomKill);
    u.values.set(C::MemoryEventsMax, 2);
    DeviceValues d{"8:0", {}};
    d.values.set(C::IoReadBytes, 100);
    d.values.set(C::IoWriteBytes, 200);
    d.values.set(C::IoReadOps, 1);
    d.values.set(C::IoWriteOps, 2);
    u.devices.push_back(d);
    u.values.set(C::MemoryPressureSome, 7);
    u.values.set(C::MemoryPressureFull, 3);
    return u;
}

TEST(ClassTotals, FoldSumsCountersAndKeepsTheLargestPeak) {
    ClassTotals t;
    t.fold(usage(1000, 4096, 1));
    t.fold(usage(500, 1024, 0));
    EXPECT_EQ(t.workloadsEnded, 2u);
    EXPECT_EQ(t[C::CpuUsage], 1500u);
    EXPECT_EQ(t[C::CpuUser], 750u);
    EXPECT_EQ(t[C::CpuThrottledPeriods], 6u);
    EXPECT_EQ(t[C::CpuThrottledTime], 1000u);
    EXPECT_EQ(t[C::MemoryPeak], 4096u);
    EXPECT_EQ(t[C::MemoryEventsOomKill], 1u);
    EXPECT_EQ(t[C::MemoryEventsMax], 4u);
    EXPECT_EQ(t.devices.at("8:0")[index(C::IoWriteBytes)], 400u);
    EXPECT_EQ(t.devices.at("8:0")[index(C::IoReadOps)], 2u);
    EXPECT_EQ(t[C::MemoryPressureSome], 14u);
    EXPECT_EQ(t[C::MemoryPressureFull], 6u);
    EXPECT_EQ(t[C::CpuPressureSome], 0u);
}

TEST(ClassTotals, FoldKeepsNoLevelsOrLimits) {
    GroupUsage u;
    u.values.set(C::MemoryCurrent, 123);
    u.values.set(C::MemoryMax, 456);
    u.values.set(C::TasksCurrent, 7);
    u.values.set(C::Populated, 1);
    ClassTotals t;
    t.fold(u);
    for (const auto& row : kCounters) {
        if (row.fold == Fold::None) {
            EXPECT_EQ(t[row.id], 0u) << row.metric;
        }
    }
}

TEST(ClassTotals, PeakFallsBackToTheLevelOnKernelsWithoutPeakFiles) {
    GroupUsage u;
    u.values.set(C::MemoryCurrent, 300);
    u.values.set(C::TasksCurrent, 5);
    ClassTotals t;
    t.fold(u);
    EXPECT_EQ(t[C::MemoryPeak], 300u);
    EXPECT_EQ(t[C::TasksPeak], 5u);
}

TEST(ClassTotals, FoldOfAHybridHostGroupCountsOnlyCpu) {
    GroupUsage u;
    u.values.set(C::CpuUsage, 42);
    u.values.set(C::CpuUser, 40);
    u.values.set(C::CpuSystem, 2);
    ClassTotals t;
    t.fold(u);
    EXPECT_EQ(t.workloadsEnded, 1u);
    EXPECT_EQ(t[C::CpuUsage], 42u);
    EXPECT_EQ(t[C::CpuPeriods], 0u);
    EXPECT_EQ(t[C::MemoryPeak], 0u);
    EXPECT_TRUE(t.devices.empty());
}

TEST(ClassTotals, OomGroupKillsAreSummed) {
    GroupUsage u;
    u.values.set(C::MemoryEventsOomGroupKill, 1);
    ClassTotals t;
    t.fold(u);
    t.fold(u);
    EXPECT_EQ(t[C::MemoryEventsOomGroupKill], 2u);
}

TEST(CounterValues, AbsentCounterHasNoValueAndReadsZero) {
    CounterValues values;
    EXPECT_FALSE(values.has(C::CpuUsage));
    EXPECT_EQ(values.get(C::CpuUsage), std::nullopt);
    EXPECT_EQ(values.valueOr0(C::CpuUsage), 0u);
    values.set(C::CpuUsage, 0);
    EXPECT_EQ(values.get(C::CpuUsage), std::optional<uint64_t>(0));
}

}  // namespace
}  // namespace gov::runtime
