// Governor: the daemon's state and logic, free of any event loop. It owns the
// cgroup subtree (through runtime::CgroupFs), the policy in force, the registry of
// workload groups and the per-class totals. The Asio shell (Daemon) calls it from
// its one thread; tests call it directly.
//
// Thread safety: none; one thread owns it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Plan.hpp"
#include "gov/core/Totals.hpp"
#include "gov/policies/Compile.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/EventsWatcher.hpp"

namespace gov::core {

struct GovernorConfig {
    std::string cgroupRoot;                // absolute path of the root; created if missing
    std::string stateDir;                  // totals.json
    std::vector<std::string> policyFiles;  // empty and no policyDir files: built-in default
    std::string policyDir;                 // *.toml in name order, after policyFiles
    // With no policyFiles and no policyDir: the default locations, looked at anew at
    // every load, so that a policy file created after the start is picked up by the
    // next reload. Whichever exists is used; neither: the built-in default policy.
    std::string defaultPolicyFile;
    std::string defaultPolicyDir;
    bool moveSelf = true;  // move this process into <root>/governord
    // When set, controllers are enabled from this cgroup2 mount down to the root's
    // parent first (see Ancestors.hpp); empty: the parents are someone else's.
    std::string enableAncestorsFrom;
    std::string sysRoot = "/sys";  // block devices
    std::string devRoot = "/dev";
    std::chrono::milliseconds freezeTimeout{2000};
    // A scope that is found empty but was never seen populated (an external
    // placement between its mkdir and its first process) is reaped only after
    // staying empty this long.
    std::chrono::milliseconds emptyGrace{5000};
    // 0: the totals are saved (two fsyncs) and the ended groups removed as soon as
    // they are folded. Otherwise the owner calls flushEnded() within this delay
    // when flushPending() (the daemon's timer): one save for a burst of ended
    // workloads, and none on the path of a `govctl exec` that is just starting.
    std::chrono::milliseconds saveDelay{0};
};

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

// Counters about the daemon itself, for its self-metrics. They start at zero with
// each daemon process (Prometheus handles counter resets).
struct DaemonStats {
    uint64_t reloadsApplied = 0;
    uint64_t reloadsInvalid = 0;       // the new policy did not compile
    uint64_t reloadsFailed = 0;        // it compiled but failed to apply (rolled back)
    double lastReloadUnixSeconds = 0;  // the last reload attempt, or the start
    bool lastReloadOk = true;
    // (class, outcome) -> count; outcome: "ok", "denied", "unknown_class",
    // "not_found", "error".
    std::map<std::pair<std::string, std::string>, uint64_t> execs;
};

// What reload() did.
struct ReloadOutcome {
    bool applied = false;
    std::vector<std::string> messages;  // diagnostics or the apply error
};

class Governor {
  public:
    using Clock = std::chrono::steady_clock;

    // Starts governing: loads the policy (an invalid one is an error naming every
    // diagnostic: there is no last good policy yet), opens/creates the root,
    // moves this process into <root>/governord, enables controllers, creates the
    // class slices with their limits, adopts the existing workload groups and loads
    // the totals. Errors here are fatal for the daemon.
    static Result<std::unique_ptr<Governor>> start(GovernorConfig config);

    Governor(const Governor&) = delete;
    Governor& operator=(const Governor&) = delete;

    // Recompiles the configured policy files and applies them. An invalid policy or
    // one that fails to apply leaves the previous policy in force (a failed apply is
    // rolled back) and the outcome says why.
    ReloadOutcome reload();

    // The inotify fd that becomes readable when a watched group's cgroup.events
    // changes; call handleEvents() then.
    int eventsFd() const { return watcher_.fd(); }
    void handleEvents();
    // Looks for workload groups created by others and reaps empty ones; also the
    // safety net for missed events. Call periodically.
    void rescan();

    // Freeze/thaw/kill a class (its slice: every workload of it) or one workload
    // group ("adhoc.slice/exec-1.scope").
    Result<void> freeze(const std::string& target);
    Result<void> thaw(const std::string& target);
    Result<void> kill(const std::string& target);

    // Creates a fresh, uniquely named workload group in `className` with the class's
    // per-workload limits and starts watching it. Returns its group path.
    Result<std::string> createWorkloadGroup(const std::string& className,
                                            const std::string& nameHint);
    // Removes a group made by createWorkloadGroup() that never got a process.
    void discardWorkloadGroup(const std::string& group);
    // Marks a group as populated (the exec path knows before the kernel event).
    void markPopulated(const std::string& group);

    const policies::Policy& policy() const { return policy_; }
    const State& state() const { return state_; }
    const GovernorConfig& config() const { return config_; }
    const std::map<std::string, Workload>& workloads() const { return workloads_; }
    const runtime::CgroupFs& fs() const { return fs_; }
    const std::set<std::string>& availableControllers() const { return available_; }
    const std::vector<Unenforceable>& unenforceable() const { return unenforceable_; }
    const std::vector<std::string>& retiredClasses() const { return retired_; }
    const DaemonStats& stats() const { return stats_; }
    DaemonStats& stats() { return stats_; }
    // One line for sd_notify STATUS= and logs.
    std::string statusLine() const;
    // Persists the totals now (also done after every fold).
    Result<void> saveState();
    // Folded counters not saved yet, or ended groups not removed yet.
    bool flushPending() const { return dirty_ || !ended_.empty(); }
    // Saves the folded counters, then removes the ended groups (exactly once across
    // crashes: a group is removed only after the totals that hold it are saved).
    void flushEnded();
    // The plan that would put `policy` in force against the tree as it is now,
    // without applying anything (what `govctl policy diff` shows). Errors: the
    // tree cannot be observed, or a device the policy names cannot be resolved.
    Result<Plan> planFor(const policies::Policy& policy) const;

  private:
    Governor(GovernorConfig config, runtime::CgroupFs fs, runtime::EventsWatcher watcher);

    Result<ObservedTree> observe() const;
    Result<void> apply(const Plan& plan);
    Result<void> applyPolicy(const policies::Policy& policy, const char* why);
    void reportUnenforceable(const Plan& plan);
    void adopt();
    void track(const std::string& className, const std::string& group, bool adopted);
    // Folds and removes every tracked group in `groups` that is empty and due.
    void reap(const std::vector<std::string>& groups);
    void removeRetiredSlices();
    Result<std::string> resolveTarget(const std::string& target) const;

    GovernorConfig config_;
    runtime::CgroupFs fs_;
    runtime::EventsWatcher watcher_;
    StateStore store_;
    policies::Policy policy_;
    State state_;
    std::set<std::string> available_;
    std::map<std::string, Workload> workloads_;
    std::vector<Unenforceable> unenforceable_;
    std::set<std::string> reportedUnenforceable_;
    std::vector<std::string> retired_;
    bool dirty_ = false;                       // state_ has folds not saved yet
    std::vector<std::string> ended_;           // folded groups to remove after the save
    std::vector<std::string> pendingRetired_;  // slices apply() failed to remove
    uint64_t nextId_ = 1;
    DaemonStats stats_;
};

// Compiles the configured policy (loadPolicyFiles); exposed for `--check`-style use.
policies::CompileResult loadConfiguredPolicy(const GovernorConfig& config);

}  // namespace gov::core
