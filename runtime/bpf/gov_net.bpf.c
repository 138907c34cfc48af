/* Governor's cgroup network programs: per-cgroup traffic counters on the ingress and
 * egress hooks of cgroup v2 sockets, and egress rate limits. Attached once to the
 * root of the subtree Governor owns, they run for every socket of every group below
 * it, whatever the interface and the network namespace.
 *
 * Counting: for each packet, the socket's ancestors at the configured levels
 * (levels[], e.g. the class slices' level and the workload groups' level) get the
 * packet's bytes and segments, so a class slice's entry is all traffic of its
 * subtree and a workload group's entry is its own (with any subgroups it made).
 * Userspace reads the entries of the groups it knows with one batch lookup and
 * deletes the entries of groups it removes.
 *
 * Limiting (egress only): a cgroup at a counted level with an entry in gov_limits
 * is held to its rate, deepest level first; see gov_net.h for the two modes. */
#include "gov/runtime/net/gov_net.h"

#include <bpf/bpf_helpers.h>
#include <linux/bpf.h>

/* Set by userspace before loading (read-only afterwards): the cgroup levels to count
 * at, shallowest first, 0 = unused (level 0 is the cgroup root, never counted). */
const volatile __u32 levels[GOV_NET_MAX_LEVELS] = {0, 0, 0};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    /* Userspace sets the real size before loading (NetPrograms::Options::maxGroups). */
    __uint(max_entries, 16384);
    /* Memory for the groups that exist, not for max_entries x CPUs up front. */
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, __u64);
    __type(value, struct gov_net_counters);
} gov_counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct gov_net_limit);
} gov_limits SEC(".maps");

/* Packets and bytes that could not be counted because gov_counters was full. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct gov_net_counters);
} gov_uncounted SEC(".maps");

static __always_inline void add(struct gov_net_counters* c, int egress, __u64 len, __u64 segs) {
    /* Atomic even on per-CPU values: an ingress or egress softirq can interrupt a
     * process-context egress on the same CPU between its load and its store. */
    if (egress) {
        __sync_fetch_and_add(&c->tx_bytes, len);
        __sync_fetch_and_add(&c->tx_packets, segs);
    } else {
        __sync_fetch_and_add(&c->rx_bytes, len);
        __sync_fetch_and_add(&c->rx_packets, segs);
    }
}

static __always_inline void count(__u64 id, int egress, __u64 len, __u64 segs) {
    struct gov_net_counters* c = bpf_map_lookup_elem(&gov_counters, &id);
    if (!c) {
        struct gov_net_counters zero = {};
        /* BPF_NOEXIST: another CPU may have created it meanwhile; then use that. */
        bpf_map_update_elem(&gov_counters, &id, &zero, BPF_NOEXIST);
        c = bpf_map_lookup_elem(&gov_counters, &id);
    }
    if (!c) {
        __u32 zero_key = 0;
        c = bpf_map_lookup_elem(&gov_uncounted, &zero_key);
        if (!c)
            return;
    }
    add(c, egress, len, segs);
}

/* The socket's ancestors at the configured levels (0 where a level is unused or
 * deeper than the socket's cgroup). */
static __always_inline void ancestors(struct __sk_buff* skb, __u64 ids[GOV_NET_MAX_LEVELS]) {
#pragma unroll
    for (int i = 0; i < GOV_NET_MAX_LEVELS; i++)
        ids[i] = levels[i] ? bpf_skb_ancestor_cgroup_id(skb, levels[i]) : 0;
}

static __always_inline void count_all(struct __sk_buff* skb, __u64 ids[GOV_NET_MAX_LEVELS],
                                      int egress) {
    __u64 len = skb->len;
    __u64 segs = skb->gso_segs ? skb->gso_segs : 1;
#pragma unroll
    for (int i = 0; i < GOV_NET_MAX_LEVELS; i++) {
        /* A socket directly in a shallower group: its ancestor at a deeper level
         * is 0, and the same id twice would count the packet twice. */
        if (ids[i] == 0 || (i > 0 && ids[i] == ids[i - 1]))
            continue;
        count(ids[i], egress, len, segs);
    }
}

/* One limit's decision (gov_net_limit_decide, under the entry's lock): 1 = drop.
 * The clock is read once per packet, and only for a packet that meets a limit. */
static __always_inline int limited(__u64 id, __u64 len, __u64* now, __u64* departure) {
    struct gov_net_limit* l = bpf_map_lookup_elem(&gov_limits, &id);
    if (!l || l->rate == 0)
        return 0;
    if (*now == 0)
        *now = bpf_ktime_get_ns();
    bpf_spin_lock(&l->lock);
    int drop = gov_net_limit_decide(l, len, *now, departure);
    bpf_spin_unlock(&l->lock);
    return drop;
}

SEC("cgroup_skb/ingress")
int gov_ingress(struct __sk_buff* skb) {
    __u64 ids[GOV_NET_MAX_LEVELS];
    ancestors(skb, ids);
    count_all(skb, ids, 0);
    return 1;
}

SEC("cgroup_skb/egress")
int gov_egress(struct __sk_buff* skb) {
    __u64 ids[GOV_NET_MAX_LEVELS];
    ancestors(skb, ids);
    __u64 now = 0;
    __u64 departure = 0;
    /* Deepest first: a packet the workload's own limit refuses takes nothing from
     * its class's budget. */
#pragma unroll
    for (int i = GOV_NET_MAX_LEVELS - 1; i >= 0; i--) {
        if (ids[i] == 0 || (i > 0 && ids[i] == ids[i - 1]))
            continue;
        if (limited(ids[i], skb->len, &now, &departure))
            return 2; /* drop, and tell TCP it met congestion (NET_XMIT_CN) */
    }
    if (departure > skb->tstamp)
        skb->tstamp = departure;
    count_all(skb, ids, 1);
    return 1;
}

/* The project's licence (LICENSE). The kernel takes it as not GPL-compatible, which
 * only matters for GPL-only helpers: these programs use none. */
char LICENSE[] SEC("license") = "Apache-2.0";
