// NetPrograms: Governor's cgroup network BPF programs (runtime/bpf/gov_net.bpf.c),
// loaded with libbpf from the skeleton built into the library, attached once to the
// root of the subtree Governor owns (ingress and egress, as bpf_links, which coexist
// with other programs on the same cgroups such as systemd's IP accounting), and the
// userspace side of their maps: per-cgroup traffic counters and egress limits.
//
// Levels: the programs count each packet for the socket's ancestors at the levels
// given (absolute cgroup levels: the cgroup2 mount's root is 0), e.g. the class
// slices' level and the workload groups' level. A cgroup at one of those levels then
// has an entry holding all traffic of its subtree; cgroups at other levels have none.
//
// Pinning: with a pin folder (on a bpffs, e.g. /sys/fs/bpf/governor) the maps and
// links are pinned there, so they outlive the process: the programs keep counting
// while the daemon is stopped, and attach() of the next daemon adopts them (the same
// maps, the links switched atomically to the new programs with BPF_LINK_UPDATE, so
// no packet is counted twice or missed). A pinned map whose layout differs (another
// version, another maxGroups) is replaced by a new, empty one, and attach() says so
// in notes(). Without a pin folder everything ends with the process.
//
// Errors name the operation and the object: "load the cgroup network programs: ...
// (a kernel without BPF or cgroup BPF support?)", "attach the egress program to
// /sys/fs/cgroup/governor: Operation not permitted".
// Thread safety: none; one thread (the daemon's loop) uses it. Move-only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/Fd.hpp"
#include "gov/runtime/net/Traffic.hpp"

struct gov_net;  // the libbpf skeleton

namespace gov::runtime::net {

class NetPrograms {
  public:
    struct Options {
        // Absolute cgroup levels to count at, shallowest first: 1 to
        // GOV_NET_MAX_LEVELS of them, each > 0, strictly increasing.
        std::vector<uint32_t> levels;
        // Capacity of the counters map (cgroups with traffic at the counted levels)
        // and of the limits map; counts that do not fit are added to uncounted().
        uint32_t maxGroups = 16384;
        // A folder on a bpffs to pin the maps and links in; created if missing
        // (its parent must exist). "": no pinning.
        std::string pinDir;
    };

    // Loads the programs and attaches them to the cgroup at `cgroupPath` (an
    // absolute path in the cgroup2 hierarchy), adopting what `options.pinDir`
    // holds. Fails without leaving anything attached or pinned that was not there.
    static Result<NetPrograms> attach(const std::string& cgroupPath, const Options& options);

    NetPrograms(NetPrograms&&) noexcept;
    NetPrograms& operator=(NetPrograms&&) noexcept;
    ~NetPrograms();  // closes everything; pinned objects stay

    // What attach() adopted or replaced, one sentence each, for the log.
    const std::vector<std::string>& notes() const { return notes_; }
    // Whether counters were adopted from pinned maps (they did not restart at 0).
    bool adopted() const { return adopted_; }
    const Options& options() const { return options_; }

    // Every counters entry, summed over CPUs, with one batch lookup (a few
    // syscalls for thousands of cgroups).
    Result<std::unordered_map<uint64_t, TrafficCounters>> readAll() const;
    // One cgroup's counters; nullopt when it has none (no traffic yet).
    Result<std::optional<TrafficCounters>> read(uint64_t cgroupId) const;
    // Traffic the programs could not count because the counters map was full.
    Result<TrafficCounters> uncounted() const;
    // Drops the cgroup's counters and limit (its group was removed; the ids of
    // removed cgroups are never reused). Missing entries are fine.
    Result<void> forget(uint64_t cgroupId);
    // Removes counters entries whose cgroup is not in `keep` (cgroups removed by
    // others, e.g. a service's subgroup); returns how many were removed.
    Result<size_t> forgetAllBut(const std::vector<uint64_t>& keep);

    // Sets (or changes) the egress limit of the cgroup's subtree. Setting the same
    // limit again keeps the limiter's state; another one starts with a full bucket.
    Result<void> setEgressLimit(uint64_t cgroupId, const EgressLimit& limit);
    Result<void> clearEgressLimit(uint64_t cgroupId);
    // The limits in force, by cgroup id, with the packets each has throttled.
    struct LimitState {
        EgressLimit limit;
        uint64_t throttledPackets = 0;
    };
    Result<std::unordered_map<uint64_t, LimitState>> limits() const;

    // How often each program ran and for how long in total (the kernel counts this
    // only while BPF statistics are enabled: sysctl kernel.bpf_stats_enabled=1 or a
    // BPF_ENABLE_STATS fd held by someone, as bench/net/NetBench.cpp does).
    struct ProgramStats {
        uint64_t ingressRuns = 0;
        uint64_t ingressNs = 0;
        uint64_t egressRuns = 0;
        uint64_t egressNs = 0;
    };
    Result<ProgramStats> programStats() const;

    // Detaches the programs and removes the pins (the maps go with the last
    // reference): for a daemon that stops with nothing left to count.
    Result<void> detach();

  private:
    NetPrograms() = default;

    std::unique_ptr<gov_net, void (*)(gov_net*)> skel_{nullptr, nullptr};
    Fd ingressLink_;
    Fd egressLink_;
    Options options_;
    std::string cgroupPath_;
    std::vector<std::string> notes_;
    bool adopted_ = false;
    int cpus_ = 1;
};

// The id of the cgroup at `path` (what bpf_skb_cgroup_id and the maps use), from
// its file handle (name_to_handle_at). Errors name the path.
Result<uint64_t> cgroupId(const std::string& path);
// The same for `group` relative to the directory fd `dirFd` ("" = dirFd itself).
Result<uint64_t> cgroupIdAt(int dirFd, const std::string& group);

// The level of `path` in the cgroup2 hierarchy mounted at `mount` (the mount itself
// is 0, "<mount>/governor" is 1). Pure; an error when `path` is not under `mount`.
Result<uint32_t> cgroupLevel(const std::string& mount, const std::string& path);

}  // namespace gov::runtime::net
