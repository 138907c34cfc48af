// The userspace side of the cgroup network programs' maps (gov_net.h) and the rate
// maths of their egress limiter, whose decision function (gov_net_limit_decide) is
// the very code the BPF program runs, driven here with simulated traffic.
#include <gtest/gtest.h>

#include <vector>

#include "gov/runtime/net/NetPrograms.hpp"
#include "gov/runtime/net/Traffic.hpp"

namespace gov::runtime::net {
namespace {

constexpr uint64_t kSec = 1000000000ULL;

TEST(Traffic, SumsPerCpuValues) {
    std::vector<gov_net_counters> perCpu = {{100, 1, 200, 2}, {1000, 10, 2000, 20}, {0, 0, 0, 0}};
    TrafficCounters sum = sumPerCpu(perCpu.data(), perCpu.size());
    EXPECT_EQ(sum, (TrafficCounters{1100, 11, 2200, 22}));
    EXPECT_EQ(sumPerCpu(perCpu.data(), 0), TrafficCounters{});
}

TEST(Traffic, CountersAddUp) {
    TrafficCounters a{1, 2, 3, 4};
    a += TrafficCounters{10, 20, 30, 40};
    EXPECT_EQ(a, (TrafficCounters{11, 22, 33, 44}));
}

TEST(Traffic, MapValuesHaveTheLayoutTheProgramsUse) {
    // The per-CPU values are read as arrays of 8-byte-aligned structs.
    static_assert(sizeof(gov_net_counters) == 32);
    static_assert(sizeof(gov_net_counters) % 8 == 0);
    // rate, burst, mode, tokens, last_ns, throttled and the lock.
    EXPECT_EQ(sizeof(gov_net_limit), 48u);
}

TEST(Traffic, LimitEntryStartsWithAFullBucketAndRoundTrips) {
    EgressLimit limit{1000000, 65536, EgressMode::Drop};
    gov_net_limit entry = limitEntry(limit);
    EXPECT_EQ(entry.rate, 1000000u);
    EXPECT_EQ(entry.burst, 65536u);
    EXPECT_EQ(entry.tokens, 65536);
    EXPECT_EQ(entry.mode, static_cast<__u32>(GOV_NET_MODE_DROP));
    EXPECT_EQ(limitOf(entry), limit);
    EgressLimit pace{5000000, 10000000, EgressMode::Pace};
    EXPECT_EQ(limitOf(limitEntry(pace)), pace);
}

TEST(Traffic, BurstIsAtLeastOneGsoPacketAndTwentyMillisecondsOfTheRate) {
    EXPECT_EQ(egressLimitFor(1000, EgressMode::Drop).burstBytes, 65536u);
    EXPECT_EQ(egressLimitFor(1000000, EgressMode::Drop).burstBytes, 65536u);  // 20 ms < 64 KiB
    EXPECT_EQ(egressLimitFor(100000000, EgressMode::Drop).burstBytes, 2000000u);
}

TEST(Traffic, PaceHorizonIsATenthOfASecondOfTheRateAndAtLeastOneGsoPacket) {
    EXPECT_EQ(egressLimitFor(100000000, EgressMode::Pace).burstBytes, 10000000u);  // 100 ms
    EXPECT_EQ(egressLimitFor(100000, EgressMode::Pace).burstBytes, 65536u);
}

// Offers `packet`-byte packets every `gapNs` for `seconds`, retrying a dropped one
// at the next opportunity (as TCP keeps an unsent segment queued); returns the bytes
// that passed.
uint64_t simulateDrop(gov_net_limit& l, uint64_t packet, uint64_t gapNs, uint64_t seconds,
                      uint64_t start = kSec) {
    uint64_t passed = 0;
    for (uint64_t t = start; t < start + seconds * kSec; t += gapNs) {
        __u64 departure = 0;
        if (gov_net_limit_decide(&l, packet, t, &departure) == 0)
            passed += packet;
    }
    return passed;
}

TEST(Traffic, DropModeHoldsAnOverloadingSenderToTheRate) {
    // 1 MB/s against an offer of ~14.5 MB/s (1448-byte packets every 100 us).
    gov_net_limit l = limitEntry(egressLimitFor(1000000, EgressMode::Drop));
    uint64_t passed = simulateDrop(l, 1448, 100000, 10);
    // The long-run rate is exact to a packet and the burst.
    EXPECT_NEAR(static_cast<double>(passed), 10.0 * 1000000, 65536 + 2 * 1448);
    EXPECT_GT(l.throttled, 0u);
}

TEST(Traffic, DropModeLetsGsoPacketsLargerThanTheBucketThrough) {
    // 64 KiB packets through a 100 kB/s limit whose bucket is 64 KiB: every packet
    // may take the bucket below zero, so they pass at the rate rather than never.
    gov_net_limit l = limitEntry(egressLimitFor(100000, EgressMode::Drop));
    uint64_t passed = simulateDrop(l, 65536, 1000000, 20);
    EXPECT_NEAR(static_cast<double>(passed), 20.0 * 100000, 2 * 65536);
}

TEST(Traffic, DropModePassesEverythingBelowTheRate) {
    gov_net_limit l = limitEntry(egressLimitFor(1000000, EgressMode::Drop));
    // 1000-byte packets every 2 ms: 500 kB/s.
    uint64_t passed = simulateDrop(l, 1000, 2000000, 5);
    EXPECT_EQ(passed, 5u * 500 * 1000);
    EXPECT_EQ(l.throttled, 0u);
}

TEST(Traffic, DropModeRefillsAtMostTheBurstAfterIdleness) {
    gov_net_limit l = limitEntry(egressLimitFor(1000000, EgressMode::Drop));  // 64 KiB bucket
    simulateDrop(l, 1448, 100000, 1);
    // 10 s idle, then a flood: the first 10 ms pass at most bucket + one packet.
    uint64_t passed = 0;
    for (uint64_t t = 12 * kSec; t < 12 * kSec + 10000000; t += 10000) {
        __u64 d = 0;
        if (gov_net_limit_decide(&l, 1448, t, &d) == 0)
            passed += 1448;
    }
    EXPECT_LE(passed, 65536u + 1448u + 10000u);  // bucket, one over, 10 ms of refill
    EXPECT_GE(passed, 65536u);
}

TEST(Traffic, PaceModeSpacesDeparturesAtTheRateAfterItsCredit) {
    // 1 MB/s: a 1000-byte packet every 1 ms of departure time, once the 10 ms of
    // credit a fresh (or idle) limit has are spent.
    gov_net_limit l = limitEntry(egressLimitFor(1000000, EgressMode::Pace));
    const uint64_t now = 5 * kSec;
    std::vector<uint64_t> departures;
    for (int i = 0; i < 30; ++i) {
        __u64 d = 0;
        ASSERT_EQ(gov_net_limit_decide(&l, 1000, now, &d), 0);
        departures.push_back(d == 0 ? now : d);
    }
    // 10 ms of credit: packets 0..10 may leave at once (the 11th is due exactly now).
    for (size_t i = 0; i <= 10; ++i) {
        EXPECT_EQ(departures[i], now) << i;
    }
    for (size_t i = 11; i < departures.size(); ++i) {
        EXPECT_EQ(departures[i] - departures[i - 1], 1000000u) << i;
    }
    EXPECT_EQ(l.throttled, 19u);
}

TEST(Traffic, PaceModeHoldsAStreamToItsRateOverTime) {
    // A sender offering 5x the rate, whose packets leave when stamped (as fq does):
    // what is scheduled over 10 s is the rate, to the horizon.
    gov_net_limit l = limitEntry(egressLimitFor(2000000, EgressMode::Pace));
    uint64_t accepted = 0;
    for (uint64_t t = kSec; t < 11 * kSec; t += 100000) {  // 1000 bytes every 100 us
        __u64 d = 0;
        if (gov_net_limit_decide(&l, 1000, t, &d) == 0)
            accepted += 1000;
    }
    const double horizonBytes = 200000;  // 100 ms at 2 MB/s
    EXPECT_NEAR(static_cast<double>(accepted), 10.0 * 2000000, horizonBytes + 20000 + 1000);
}

TEST(Traffic, PaceModeRefusesBeyondTheHorizon) {
    // 100 ms of 1 MB/s may be scheduled ahead of now (plus the 10 ms of credit):
    // 111 packets of 1000 bytes, then refusal.
    gov_net_limit l = limitEntry(egressLimitFor(1000000, EgressMode::Pace));
    int accepted = 0;
    for (int i = 0; i < 300; ++i) {
        __u64 d = 0;
        if (gov_net_limit_decide(&l, 1000, kSec, &d) == 0)
            ++accepted;
    }
    EXPECT_EQ(accepted, 111);
}

TEST(Traffic, PaceModeForgetsIdlenessBeyondItsCredit) {
    gov_net_limit l = limitEntry(egressLimitFor(1000000, EgressMode::Pace));
    __u64 d = 0;
    ASSERT_EQ(gov_net_limit_decide(&l, 1000, kSec, &d), 0);
    // 10 s idle: no 10 s of catch-up, only the 10 ms credit.
    int immediate = 0;
    for (int i = 0; i < 100; ++i) {
        d = 0;
        ASSERT_EQ(gov_net_limit_decide(&l, 1000, 11 * kSec, &d), 0);
        if (d == 0)
            ++immediate;
    }
    EXPECT_EQ(immediate, 11);
}

TEST(CgroupLevel, CountsComponentsBelowTheMount) {
    EXPECT_EQ(*cgroupLevel("/sys/fs/cgroup", "/sys/fs/cgroup"), 0u);
    EXPECT_EQ(*cgroupLevel("/sys/fs/cgroup", "/sys/fs/cgroup/governor"), 1u);
    EXPECT_EQ(*cgroupLevel("/sys/fs/cgroup/unified/", "/sys/fs/cgroup/unified/a/b.slice/c.scope/"),
              3u);
    EXPECT_FALSE(cgroupLevel("/sys/fs/cgroup", "/sys/fs/cgroupx/a").ok());
    EXPECT_FALSE(cgroupLevel("/sys/fs/cgroup", "/sys/fs/cgroup/a//b").ok());
    EXPECT_FALSE(cgroupLevel("/sys/fs/cgroup", "/sys/fs/cgroup/../etc").ok());
}

}  // namespace
}  // namespace gov::runtime::net
