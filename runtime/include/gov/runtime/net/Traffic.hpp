// Network traffic of a cgroup as the cgroup network programs count it, and the
// egress limits they enforce: plain values, and the pure conversions between them
// and the BPF maps' layout (gov_net.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gov/runtime/net/gov_net.h"

namespace gov::runtime::net {

// Bytes and packets received and sent by the sockets of a cgroup's subtree. Bytes
// are IP-layer lengths (one IP and transport header per GSO/GRO packet, so a little
// below the wire's count for TCP over a 1500-byte MTU); packets are wire segments.
struct TrafficCounters {
    uint64_t rxBytes = 0;
    uint64_t rxPackets = 0;
    uint64_t txBytes = 0;
    uint64_t txPackets = 0;

    TrafficCounters& operator+=(const TrafficCounters& o) {
        rxBytes += o.rxBytes;
        rxPackets += o.rxPackets;
        txBytes += o.txBytes;
        txPackets += o.txPackets;
        return *this;
    }
    bool operator==(const TrafficCounters&) const = default;
};

// The sum of a per-CPU map value (`cpus` consecutive gov_net_counters, as
// bpf_map_lookup_elem returns a BPF_MAP_TYPE_PERCPU_HASH value).
TrafficCounters sumPerCpu(const gov_net_counters* perCpu, size_t cpus);

// How an egress limit holds a group to its rate (docs/network.md says which the
// daemon uses, and why).
enum class EgressMode {
    // A token bucket on the cgroup egress hook: a packet over the rate is dropped
    // and the sender told of congestion (TCP keeps it queued and slows down).
    Drop,
    // Earliest departure time: each packet is stamped with the time it may leave
    // (skb->tstamp) and the fq qdisc of the egress interface holds it until then.
    // Without fq on that interface nothing is held back.
    Pace,
};

struct EgressLimit {
    uint64_t bytesPerSecond = 0;  // > 0
    // Drop: what the bucket holds (the largest burst above the rate). Pace: how much
    // may be scheduled ahead of now before packets are refused (the horizon).
    uint64_t burstBytes = 0;
    EgressMode mode = EgressMode::Pace;
    bool operator==(const EgressLimit&) const = default;
};

// The limit Governor sets for a rate: its burst from the rate (see Traffic.cpp for
// the figures behind it) and the mode (Pace, the daemon's: docs/network.md).
EgressLimit egressLimitFor(uint64_t bytesPerSecond, EgressMode mode = EgressMode::Pace);

// The map entry for a new limit (a full bucket, nothing scheduled) and back.
gov_net_limit limitEntry(const EgressLimit& limit);
EgressLimit limitOf(const gov_net_limit& entry);

}  // namespace gov::runtime::net
