// Governor: the daemon's state and logic, free of any event loop, D-Bus or HTTP. It
// owns the cgroup subtree (through runtime::CgroupFs), the policy in force, the
// registry of workload groups and the per-class totals. The Asio shell (Daemon,
// gov::daemon) calls it from its one thread; the D-Bus service and the exporter read
// it there; tests call it directly.
//
// Its jobs, each in files of its own (governor/core/src/):
// - start-up, Startup.cpp: start(): the policy sources, the root and the daemon's
//   own leaf, the totals, adoption of the groups already there, the first apply;
// - reconcile and reload, Reconciler.hpp and Governor.cpp: the policy in force and
//   the tree's shape, observe -> plan -> apply, for the start, reloads, retired
//   classes and new workload groups alike; reload() and the wiring of events,
//   rescans and saves;
// - the workload registry with its persisted totals, WorkloadRegistry.hpp: the
//   workload groups, the one tree walk, final accounting, exactly once;
// - control, Control.cpp: freeze/thaw/kill of a class or a workload group, and the
//   groups made for exec.
// Time comes from the Clock given to start() (empty grace, save delay, reload times).
//
// Thread safety: none; one thread owns it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Clock.hpp"
#include "gov/core/LastGoodPolicy.hpp"
#include "gov/core/Plan.hpp"
#include "gov/core/Reconciler.hpp"
#include "gov/core/Totals.hpp"
#include "gov/core/WorkloadRegistry.hpp"
#include "gov/policies/Compile.hpp"
#include "gov/runtime/CgroupFs.hpp"

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
    // Memory protection (see ObservedTree): cgroup2 is mounted with
    // memory_recursiveprot, and the root's memory.min/low are the daemon's to write
    // (not under systemd, where they are the service's MemoryMin=/MemoryLow=).
    bool memoryRecursiveProt = false;
    bool rootProtection = false;
    std::string sysRoot = "/sys";  // block devices
    std::string devRoot = "/dev";
    std::chrono::milliseconds freezeTimeout{2000};
    // A scope that is found empty but was never seen populated (an external
    // placement between its mkdir and its first process) is reaped only after
    // staying empty this long.
    std::chrono::milliseconds emptyGrace{5000};
    // 0: the totals are saved (two fsyncs) and the ended groups removed as soon as
    // they are folded. Otherwise the owner calls flushEnded() when flushDueIn() says
    // (at most this long after the first workload of a batch ended): one save for a
    // burst of ended workloads, and none on the path of a `govctl exec` that is just
    // starting.
    std::chrono::milliseconds saveDelay{0};
};

// Counters about the daemon itself, for its self-metrics. They start at zero with
// each daemon process (Prometheus handles counter resets).
struct DaemonStats {
    uint64_t reloadsApplied = 0;
    uint64_t reloadsInvalid = 0;       // the new policy did not compile
    uint64_t reloadsFailed = 0;        // it compiled but failed to apply (rolled back)
    double lastReloadUnixSeconds = 0;  // the last reload attempt, or the start
    bool lastReloadOk = true;
    // The saved totals could not be used at start (damaged, set aside): the totals
    // of ended workloads restarted from zero with this daemon.
    bool totalsReset = false;
    // The policy in force is the one the configured files hold: false when they were
    // invalid (or failed to apply) at the start, which then runs the last good
    // policy or the built-in default, or at the last reload, which kept the previous
    // policy.
    bool policyFilesInForce = true;
    // (class, outcome) -> count; outcome: "ok", "denied", "unknown_class",
    // "not_found", "error".
    std::map<std::pair<std::string, std::string>, uint64_t> execs;
};

// What reload() did.
struct ReloadOutcome {
    bool applied = false;
    std::vector<std::string> messages;  // diagnostics or the apply error
};

// What control() does to a class (its slice: every workload of it) or one workload
// group.
enum class ControlAction { Freeze, Thaw, Kill };
// "freeze", "thaw", "kill": how logs, refusals and the D-Bus methods name it.
const char* controlVerb(ControlAction action);

class Governor {
  public:
    // Starts governing (Startup.cpp): loads the policy, opens/creates the root,
    // moves this process into <root>/governord, enables controllers, creates the
    // class slices with their limits, adopts the existing workload groups and loads
    // the totals. A policy that is invalid or fails to apply is logged with its
    // diagnostics and the start goes on with the last good policy (LastGoodPolicy.hpp),
    // or the built-in default when there never was one: stats().policyFilesInForce
    // says so. Damaged totals start from zero (stats().totalsReset). Errors here
    // (the root cannot be made or written) are fatal for the daemon. `clock` must
    // outlive the Governor.
    static Result<std::unique_ptr<Governor>> start(GovernorConfig config,
                                                   const Clock& clock = systemClock());

    Governor(const Governor&) = delete;
    Governor& operator=(const Governor&) = delete;

    // Recompiles the configured policy files and applies them. An invalid policy or
    // one that fails to apply leaves the previous policy in force (a failed apply is
    // rolled back) and the outcome says why. A policy applied is kept as the last
    // good one.
    ReloadOutcome reload();

    // The inotify fd that becomes readable when a watched group's cgroup.events
    // changes; call handleEvents() then.
    int eventsFd() const { return registry_.eventsFd(); }
    void handleEvents();
    // Looks for workload groups created by others and reaps empty ones; also the
    // safety net for missed events. Call periodically.
    void rescan();

    // Freezes, thaws or kills `target`: a class (its slice: every workload of it) or
    // one workload group ("adhoc.slice/exec-1.scope"). A killed group is marked so
    // that nothing is cloned into it again.
    Result<void> control(ControlAction action, const std::string& target);

    // Creates a fresh, uniquely named workload group in `className` with the class's
    // per-workload limits (planned and applied like every change to the tree) and
    // starts watching it. Returns its group path.
    Result<std::string> createWorkloadGroup(const std::string& className,
                                            const std::string& nameHint);
    // Removes a group made by createWorkloadGroup() that never got a process.
    void discardWorkloadGroup(const std::string& group);
    // Marks a group as populated (the exec path knows before the kernel event).
    void markPopulated(const std::string& group) { registry_.markPopulated(group); }

    const policies::Policy& policy() const { return reconciler_.policy(); }
    const State& state() const { return registry_.state(); }
    const GovernorConfig& config() const { return config_; }
    const std::map<std::string, Workload>& workloads() const { return registry_.workloads(); }
    const runtime::CgroupFs& fs() const { return fs_; }
    const std::set<std::string>& availableControllers() const {
        return reconciler_.availableControllers();
    }
    const std::vector<Unenforceable>& unenforceable() const { return reconciler_.unenforceable(); }
    const std::vector<std::string>& retiredClasses() const { return reconciler_.retiredClasses(); }
    const DaemonStats& stats() const { return stats_; }
    DaemonStats& stats() { return stats_; }
    // One line for sd_notify STATUS= and logs.
    std::string statusLine() const;
    // Persists the totals now (also done after every fold).
    Result<void> saveState() { return registry_.saveTotals(); }
    // Folded counters not saved yet, or ended groups not removed yet.
    bool flushPending() const { return registry_.flushPending(); }
    // When flushEnded() is due (GovernorConfig::saveDelay); nullopt: nothing pending.
    std::optional<std::chrono::steady_clock::duration> flushDueIn() const {
        return registry_.flushDueIn();
    }
    // Saves the folded counters, then removes the ended groups (exactly once across
    // crashes: a group is removed only after the totals that hold it are saved), then
    // the slices of retired classes that no workload holds any more.
    void flushEnded();
    // The plan that would put `policy` in force against the tree as it is now,
    // without applying anything (what `govctl policy diff` shows). Errors: the
    // tree cannot be observed, or a device the policy names cannot be resolved.
    Result<Plan> planFor(const policies::Policy& policy) const {
        return reconciler_.planFor(policy);
    }

  private:
    Governor(GovernorConfig config, const Clock& clock, runtime::CgroupFs fs,
             runtime::EventsWatcher watcher);

    // The start's policy: configured, else last good, else the built-in default.
    Result<void> applyStartPolicy(policies::CompileResult configured);
    // Keeps the sources of a policy just applied as the last good one (a failure is
    // logged: the policy is in force regardless).
    void keepLastGood(const std::vector<policies::PolicySource>& sources);
    // Saves now when workloads ended and there is no save delay.
    void afterReap(bool ended);
    // A class (its slice) or a tracked workload group, as a group path.
    Result<std::string> resolveTarget(const std::string& target) const;

    GovernorConfig config_;
    const Clock& clock_;
    runtime::CgroupFs fs_;
    Reconciler reconciler_;
    WorkloadRegistry registry_;
    LastGoodPolicy lastGood_;
    uint64_t nextId_ = 1;
    DaemonStats stats_;
};

// Compiles the configured policy (loadPolicyFiles): the files and directory of
// `config`, or else its default locations that exist at the time of the call.
policies::CompileResult loadConfiguredPolicy(const GovernorConfig& config);

}  // namespace gov::core
