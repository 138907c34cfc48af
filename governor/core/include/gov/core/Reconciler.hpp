// Reconciler: the policy in force and the shape of the tree that enforces it. Every
// change to the tree goes one way: observe() the tree, plan() (Plan.hpp: pure),
// apply() the plan. That holds for the start, every reload, the removal of a
// retired class's slice and each new workload group made for an exec.
//
// A policy that fails to apply is rolled back (the previous policy's plan is applied
// again, best effort) and stays out of force. A limit whose controller is missing is
// reported once (log) and listed (unenforceable()), never pretended.
//
// Thread safety: none; the Governor's thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Plan.hpp"
#include "gov/core/WorkloadRegistry.hpp"
#include "gov/policies/Policy.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::core {

class Reconciler {
  public:
    // `fs` must outlive the reconciler. Block devices are resolved under `sysRoot`
    // and `devRoot` (runtime::buildDeviceTable) each time a plan needs them.
    // `memoryRecursiveProt` and `rootProtection`: see ObservedTree.
    Reconciler(const runtime::CgroupFs& fs, std::string sysRoot, std::string devRoot,
               bool memoryRecursiveProt = false, bool rootProtection = false);
    Reconciler(const Reconciler&) = delete;
    Reconciler& operator=(const Reconciler&) = delete;

    // Reads which controllers the root offers (its cgroup.controllers). Once, at start.
    Result<void> readAvailableControllers();

    // Puts `policy` in force: devices, observe, plan, apply; on a failed apply the
    // previous policy's plan is applied again and the error returned. `why` ("start",
    // "reload") is logged with the outcome.
    Result<void> applyPolicy(const policies::Policy& policy, const char* why);
    // The plan that would put `policy` in force against the tree as it is now,
    // without applying anything (what `govctl policy diff` shows). Errors: the tree
    // cannot be observed, or a device the policy names cannot be resolved.
    Result<Plan> planFor(const policies::Policy& policy) const;
    // Makes the new workload group `group` of `cls` (a class of the policy in force)
    // with the class's per-workload limits: planned (planNewWorkloadGroup) and applied
    // like any other plan. A failure removes what was made.
    Result<void> makeWorkloadGroup(const policies::ClassPolicy& cls, const std::string& group);
    // Removes the slice of each retired class that no workload in `workloads` holds
    // any more; the others stay retired.
    void removeRetiredSlices(const std::map<std::string, Workload>& workloads);

    const policies::Policy& policy() const { return policy_; }
    const std::set<std::string>& availableControllers() const { return available_; }
    const std::vector<Unenforceable>& unenforceable() const { return unenforceable_; }
    // Classes no longer in the policy whose slice is kept until their workloads end.
    const std::vector<std::string>& retiredClasses() const { return retired_; }
    bool isRetired(const std::string& className) const;

  private:
    Result<ObservedTree> observe() const;
    Result<void> apply(const Plan& plan);
    // The block devices `policy` names, resolved (empty when it limits no io).
    Result<policies::DeviceTable> devicesFor(const policies::Policy& policy) const;
    void reportUnenforceable(const Plan& plan);

    const runtime::CgroupFs& fs_;
    std::string sysRoot_;
    std::string devRoot_;
    bool memoryRecursiveProt_;
    bool rootProtection_;
    policies::Policy policy_;
    std::set<std::string> available_;
    std::vector<Unenforceable> unenforceable_;
    std::set<std::string> reportedUnenforceable_;
    std::vector<std::string> retired_;
    std::vector<std::string> pendingRetired_;  // slices apply() failed to remove
};

}  // namespace gov::core
