#include "gov/runtime/net/Traffic.hpp"

#include <algorithm>

namespace gov::runtime::net {

TrafficCounters sumPerCpu(const gov_net_counters* perCpu, size_t cpus) {
    TrafficCounters sum;
    for (size_t i = 0; i < cpus; ++i) {
        sum.rxBytes += perCpu[i].rx_bytes;
        sum.rxPackets += perCpu[i].rx_packets;
        sum.txBytes += perCpu[i].tx_bytes;
        sum.txPackets += perCpu[i].tx_packets;
    }
    return sum;
}

EgressLimit egressLimitFor(uint64_t bytesPerSecond, EgressMode mode) {
    EgressLimit limit;
    limit.bytesPerSecond = bytesPerSecond;
    limit.mode = mode;
    // Drop: the bucket holds 20 ms of the rate, and never less than 64 KiB (one
    // full-sized GSO packet), so that a TCP sender's burst after an idle moment passes
    // without a drop while the long-run rate stays exact (docs/network.md).
    // Pace: up to 100 ms of the rate may be scheduled ahead of now before packets are
    // refused: a TCP segment waits in fq well below TCP's 200 ms minimum retransmission
    // timeout, and a refused one is retried when a queued one leaves (measured in the
    // VM tier: 0.99-1.00 of the rate, no retransmits; docs/network.md).
    constexpr uint64_t kMinBurst = 64 * 1024;
    if (mode == EgressMode::Drop) {
        limit.burstBytes = std::max(kMinBurst, bytesPerSecond / 50);
    } else {
        limit.burstBytes = std::max(kMinBurst, bytesPerSecond / 10);
    }
    return limit;
}

gov_net_limit limitEntry(const EgressLimit& limit) {
    gov_net_limit entry{};
    entry.rate = limit.bytesPerSecond;
    entry.burst = limit.burstBytes;
    entry.mode = limit.mode == EgressMode::Pace ? GOV_NET_MODE_PACE : GOV_NET_MODE_DROP;
    entry.tokens = static_cast<__s64>(limit.burstBytes);
    entry.last_ns = 0;
    return entry;
}

EgressLimit limitOf(const gov_net_limit& entry) {
    EgressLimit limit;
    limit.bytesPerSecond = entry.rate;
    limit.burstBytes = entry.burst;
    limit.mode = entry.mode == GOV_NET_MODE_PACE ? EgressMode::Pace : EgressMode::Drop;
    return limit;
}

}  // namespace gov::runtime::net
