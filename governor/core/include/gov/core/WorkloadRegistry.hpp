// The workload registry: every workload group Governor knows
// (<class>.slice/<name>.scope under its root), watched so that the daemon learns at
// once when one empties, and the per-class totals of the workloads that ended,
// persisted in the state directory (Totals.hpp, docs/state.md).
//
// The life of a workload group here:
// - track(): found by the one walk of the tree (walkWorkloadGroups: adopted at start,
//   found by a rescan) or created for an exec; its cgroup.events is watched;
// - reap(): on an event or a rescan, an empty group is folded: its final counters go
//   into its class's totals and it is recorded in State::pendingRemoval;
// - flushEnded(): saves the totals, then removes the folded groups.
// Exactly once, across crashes too: a group is removed only after the totals that
// hold it are saved, and a group found at start that is in pendingRemoval with the
// same cgroup id is removed without being folded again. A group found empty that was
// never seen populated (someone's placement between its mkdir and its first process)
// is folded only once it has stayed empty for the empty grace, on the Clock.
//
// Thread safety: none; the Governor's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Clock.hpp"
#include "gov/core/Totals.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/EventsWatcher.hpp"

namespace gov::core {

// One workload group the daemon knows.
struct Workload {
    std::string className;
    std::string group;  // "adhoc.slice/exec-1.scope"
    uint64_t cgroupId = 0;
    bool seenPopulated = false;
    bool frozen = false;
    bool killed = false;  // cgroup.kill was used: never clone into it again
    std::chrono::steady_clock::time_point firstSeenEmpty{};
};

// The one walk of the tree for workload groups (adoption at start and every
// rescan): calls `workload(className, group)` for each <class>.slice/<name>.scope
// under the root and, when given, `other(child)` for each child of the root that is
// not a class slice, in directory order. A slice whose children cannot be listed is
// skipped (it may be going away). Error: the root cannot be listed.
using WorkloadVisitor = std::function<void(const std::string& className, const std::string& group)>;
Result<void> walkWorkloadGroups(const runtime::CgroupFs& fs, const WorkloadVisitor& workload,
                                const std::function<void(const std::string& child)>& other = {});

// How a group came to be tracked: what is logged, and whether its cgroup.events is
// read (a group created for an exec is known to be new and empty).
enum class TrackOrigin {
    Adopted,  // there at start: "adopted workload group ..."
    Found,    // created by someone else since: "tracking workload group ..."
    Created,  // made by Governor for an exec: not logged
};

class WorkloadRegistry {
  public:
    struct Timing {
        // See GovernorConfig::emptyGrace and GovernorConfig::saveDelay.
        std::chrono::milliseconds emptyGrace{5000};
        std::chrono::milliseconds saveDelay{0};
    };

    // `fs` and `clock` must outlive the registry. The totals live in `stateDir`.
    WorkloadRegistry(const runtime::CgroupFs& fs, runtime::EventsWatcher watcher,
                     std::string stateDir, const Clock& clock, Timing timing);
    WorkloadRegistry(const WorkloadRegistry&) = delete;
    WorkloadRegistry& operator=(const WorkloadRegistry&) = delete;

    // Loads the persisted totals (StateStore::load: the previous generation when
    // the current one cannot be used; damaged files set aside) and drops the
    // pending removals that were done after the last save (the group is gone). No
    // usable generation is never fatal: the totals start from zero, an error is
    // logged and totalsReset() says so (accounting never stops governance).
    void loadTotals();
    // The saved totals could not be used at start: the counters restarted from zero.
    bool totalsReset() const { return totalsReset_; }

    // Starts tracking and watching `group` of `className` (idempotent).
    void track(const std::string& className, const std::string& group, TrackOrigin origin);
    // Tracks every workload group the walk finds. Adopted (at start) also logs an
    // error when the root cannot be listed and a warning for each child of the root
    // that is neither a class slice nor the daemon's group.
    void trackAll(TrackOrigin origin);
    // Stops tracking `group` without accounting it (a group that never got a process).
    void forget(const std::string& group);
    // The exec path knows the group is populated before the kernel event says so.
    void markPopulated(const std::string& group);
    // cgroup.kill was used on `group`: it and its descendants are marked killed.
    void markKilled(const std::string& group);

    // Folds every tracked group in `groups` that is empty and due (see the file
    // comment). True when some ended group waits for flushEnded(), which the owner
    // calls now (no save delay) or within flushDueIn().
    bool reap(const std::vector<std::string>& groups);
    // reap() of every tracked group.
    bool reapAll();
    // Drains the watcher (readable eventsFd()) and reaps the groups that changed.
    bool handleEvents();
    // Readable when a watched group's cgroup.events changed.
    int eventsFd() const { return watcher_.fd(); }

    // Folded counters not saved yet, or ended groups not removed yet.
    bool flushPending() const { return dirty_ || !ended_.empty(); }
    // How long until the pending flush is due (the save delay after the first
    // workload of the batch ended; zero when overdue); nullopt when nothing is
    // pending.
    std::optional<std::chrono::steady_clock::duration> flushDueIn() const;
    // Saves the folded counters, then removes the ended groups. False when the save
    // failed: nothing is removed, and the next event or rescan tries again.
    bool flushEnded();
    // Persists the totals now.
    Result<void> saveTotals() { return store_.save(state_); }

    const std::map<std::string, Workload>& workloads() const { return workloads_; }
    const State& state() const { return state_; }

  private:
    const runtime::CgroupFs& fs_;
    runtime::EventsWatcher watcher_;
    StateStore store_;
    const Clock& clock_;
    Timing timing_;
    State state_;
    std::map<std::string, Workload> workloads_;
    bool totalsReset_ = false;
    bool dirty_ = false;              // state_ has folds not saved yet
    std::vector<std::string> ended_;  // folded groups to remove after the save
    // When the pending batch is due to be saved; set by the reap that starts it.
    std::optional<std::chrono::steady_clock::time_point> flushDue_;
};

}  // namespace gov::core
