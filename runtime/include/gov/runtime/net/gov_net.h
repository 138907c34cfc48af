/* The layout of the maps shared by the cgroup network BPF programs (gov_net.bpf.c)
 * and their userspace side (runtime/src/net/NetPrograms.cpp). Plain C, included by both;
 * a change here changes the pinned maps' value sizes, which a restarted daemon
 * detects (it then recreates the maps, see NetPrograms.hpp). */
#ifndef GOV_NET_H
#define GOV_NET_H

#include <linux/bpf.h>
#include <linux/types.h>

/* How many cgroup levels the programs count at (the class level, the workload group
 * level, and one more for a backend whose workload groups sit below a keeper). */
#define GOV_NET_MAX_LEVELS 3

/* Traffic of the sockets of one cgroup's subtree, one copy per CPU
 * (BPF_MAP_TYPE_PERCPU_HASH keyed by the cgroup id). Bytes are the IP-layer length
 * of what the socket layer handed over or received (with one IP and transport
 * header per GSO/GRO packet); packets count wire segments (gso_segs). */
struct gov_net_counters {
    __u64 rx_bytes;
    __u64 rx_packets;
    __u64 tx_bytes;
    __u64 tx_packets;
};

/* Egress limiter modes. */
#define GOV_NET_MODE_DROP 0 /* token bucket: over the rate, drop and signal congestion */
#define GOV_NET_MODE_PACE 1 /* earliest departure time: stamp skb->tstamp (needs fq) */

/* The egress limit of one cgroup's subtree (BPF_MAP_TYPE_HASH keyed by cgroup id).
 * Userspace writes rate, burst and mode; the programs own the rest. */
struct gov_net_limit {
    struct bpf_spin_lock lock; /* the programs' state below is updated under it */
    __u32 mode;
    __u64 rate;  /* bytes per second, > 0 */
    __u64 burst; /* bytes the bucket holds (DROP) / the pacing horizon in bytes (PACE) */
    /* Program state: DROP: tokens (bytes, may go below zero by one packet) as of
     * `last_ns`; PACE: the departure time of the next byte. */
    __s64 tokens;
    __u64 last_ns;
    /* Packets refused (DROP) or stamped later than now (PACE), for the metrics. */
    __u64 throttled;
};

#define GOV_NET_NSEC_PER_SEC 1000000000ULL
/* PACE: how much of the past a flow may catch up on (see gov_net_limit_decide). */
#define GOV_NET_PACE_CREDIT_NS 10000000ULL

/* The verifier allows no function call while a spin lock is held: always inlined. */
#ifdef __bpf__
#define GOV_NET_INLINE static inline __attribute__((always_inline))
#else
#define GOV_NET_INLINE static inline
#endif

/* The limiter's decision for one packet of `len` bytes at `now` (ns, monotonic), made
 * under l->lock by the egress program; shared with the userspace unit tests, which
 * run it on simulated traffic. Returns 1 when the packet must be dropped; in PACE
 * mode it may raise *departure to the time the packet may leave. */
GOV_NET_INLINE int gov_net_limit_decide(struct gov_net_limit* l, __u64 len, __u64 now,
                                        __u64* departure) {
    if (l->mode == GOV_NET_MODE_PACE) {
        /* The earliest time this packet may leave: after the bytes already scheduled.
         * When that lies in the past (the sender paused, or the qdisc released
         * packets late), up to GOV_NET_PACE_CREDIT_NS of it are kept, so that a late
         * timer does not cost the flow its rate; beyond that the time is lost. */
        __u64 t = l->last_ns;
        if (t + GOV_NET_PACE_CREDIT_NS < now)
            t = now - GOV_NET_PACE_CREDIT_NS;
        __u64 horizon = l->burst * GOV_NET_NSEC_PER_SEC / l->rate;
        if (t > now && t - now > horizon) {
            /* More than the horizon already queued: refuse rather than queue longer
             * than TCP's retransmission timeout (TCP keeps the segment and retries
             * when a queued one leaves). */
            l->throttled++;
            return 1;
        }
        l->last_ns = t + len * GOV_NET_NSEC_PER_SEC / l->rate;
        if (t > now) {
            l->throttled++;
            if (t > *departure)
                *departure = t;
        }
        return 0;
    }
    __u64 elapsed = now - l->last_ns;
    /* At most a second of refill: no overflow of elapsed * rate, and the burst caps
     * the tokens anyway. */
    if (elapsed > GOV_NET_NSEC_PER_SEC)
        elapsed = GOV_NET_NSEC_PER_SEC;
    l->last_ns = now;
    __s64 tokens = l->tokens + (__s64)(elapsed * l->rate / GOV_NET_NSEC_PER_SEC);
    if (tokens > (__s64)l->burst)
        tokens = (__s64)l->burst;
    int drop = tokens < 0;
    if (drop)
        l->throttled++;
    else
        /* A packet may take the bucket below zero (a 64 KiB GSO packet must be able
         * to pass a smaller bucket); the debt is paid before the next one passes. */
        tokens -= (__s64)len;
    l->tokens = tokens;
    return drop;
}

#endif
