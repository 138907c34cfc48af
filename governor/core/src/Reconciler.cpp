#include "gov/core/Reconciler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gov/policies/Knobs.hpp"
#include "gov/runtime/Devices.hpp"

namespace gov::core {

namespace {

// The knob files observe() reads: every file a plan may write (the knob table's).
const std::vector<std::string>& knobFiles() {
    static const std::vector<std::string> kFiles = policies::knobFiles();
    return kFiles;
}

Result<ObservedGroup> observeGroup(const runtime::CgroupFs& fs, const std::string& group) {
    ObservedGroup g;
    for (const auto& file : knobFiles()) {
        auto content = fs.readIfExists(group, file);
        if (!content)
            return std::move(content).error();
        if (*content)
            g.knobs[file] = **content;
    }
    auto subtree = fs.subtreeControl(group);
    if (!subtree)
        return std::move(subtree).error();
    g.subtreeControl = std::move(*subtree);
    return g;
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() > suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> deviceSpecs(const policies::Policy& policy) {
    std::vector<std::string> specs;
    for (const auto& cls : policy.classes) {
        for (const auto* r : {&cls.limits, &cls.workloadLimits}) {
            for (const auto& io : r->io) {
                if (!io.allDevices())
                    specs.push_back(io.device);
            }
        }
    }
    return specs;
}

bool needsDevices(const policies::Policy& policy) {
    for (const auto& cls : policy.classes) {
        if (!cls.limits.io.empty() || !cls.workloadLimits.io.empty())
            return true;
    }
    return false;
}

}  // namespace

Reconciler::Reconciler(const runtime::CgroupFs& fs, std::string sysRoot, std::string devRoot,
                       bool memoryRecursiveProt, bool rootProtection)
    : fs_(fs),
      sysRoot_(std::move(sysRoot)),
      devRoot_(std::move(devRoot)),
      memoryRecursiveProt_(memoryRecursiveProt),
      rootProtection_(rootProtection) {}

Result<void> Reconciler::readAvailableControllers() {
    auto available = fs_.controllers("");
    if (!available)
        return std::move(available).error();
    available_ = std::move(*available);
    return success();
}

bool Reconciler::isRetired(const std::string& className) const {
    return std::find(retired_.begin(), retired_.end(), className) != retired_.end();
}

Result<policies::DeviceTable> Reconciler::devicesFor(const policies::Policy& policy) const {
    if (!needsDevices(policy))
        return policies::DeviceTable{};
    return runtime::buildDeviceTable(deviceSpecs(policy), sysRoot_, devRoot_);
}

Result<ObservedTree> Reconciler::observe() const {
    ObservedTree tree;
    tree.available = available_;
    tree.memoryRecursiveProt = memoryRecursiveProt_;
    tree.rootProtection = rootProtection_;
    auto root = observeGroup(fs_, "");
    if (!root)
        return std::move(root).error();
    tree.rootSubtree = root->subtreeControl;
    tree.root = std::move(*root);
    auto children = fs_.children("");
    if (!children)
        return std::move(children).error();
    for (const auto& child : *children) {
        std::string cls = classOfSlice(child);
        if (cls.empty())
            continue;
        ObservedSlice slice;
        auto group = observeGroup(fs_, child);
        if (!group)
            return std::move(group).error();
        slice.group = std::move(*group);
        auto scopes = fs_.children(child);
        if (!scopes)
            return std::move(scopes).error();
        for (const auto& scope : *scopes) {
            if (!endsWith(scope, kScopeSuffix))
                continue;
            auto sg = observeGroup(fs_, child + "/" + scope);
            if (!sg) {
                // A workload group may vanish while we look (reaped by us, or
                // removed by someone else): skip it, it needs no limits.
                if (!fs_.exists(child + "/" + scope))
                    continue;
                return std::move(sg).error();
            }
            slice.scopes[scope] = std::move(*sg);
        }
        tree.slices[cls] = std::move(slice);
    }
    return tree;
}

Result<void> Reconciler::apply(const Plan& plan) {
    for (const auto& a : plan.actions) {
        switch (a.kind) {
            case ActionKind::MakeGroup:
                GOV_TRY(fs_.makeGroup(a.group));
                break;
            case ActionKind::RemoveGroup: {
                // The slice of a class that left the policy. Failing to remove it
                // (a process placed there by hand) must not fail the policy: keep it
                // as retired and try again when it empties.
                auto removed = fs_.removeGroup(a.group);
                if (!removed) {
                    spdlog::warn("keeping {}: {}", a.group, removed.error().message());
                    pendingRetired_.push_back(a.className);
                }
                break;
            }
            case ActionKind::EnableControllers:
                GOV_TRY(fs_.enableControllers(a.group, a.controllers));
                break;
            case ActionKind::Write:
                GOV_TRY(fs_.write(a.group, a.file, a.value));
                break;
        }
        spdlog::debug("{}", describe(a));
    }
    return success();
}

void Reconciler::reportUnenforceable(const Plan& plan) {
    unenforceable_ = plan.unenforceable;
    for (const auto& u : plan.unenforceable) {
        std::string id = u.className + "/" + u.key + (u.workload ? "/workload" : "");
        if (!reportedUnenforceable_.insert(id).second)
            continue;  // logged once
        spdlog::warn("class {}: {}{} cannot be enforced: {} in {}", u.className,
                     u.workload ? "workload." : "", u.key, u.reason(), fs_.rootPath());
    }
}

Result<void> Reconciler::applyPolicy(const policies::Policy& policy, const char* why) {
    auto devices = devicesFor(policy);
    if (!devices)
        return std::move(devices).error().wrap("resolve block devices");
    auto tree = observe();
    if (!tree)
        return std::move(tree).error().wrap("observe " + fs_.rootPath());
    auto planned = plan(policy, *devices, *tree);
    if (!planned)
        return std::move(planned).error();
    pendingRetired_.clear();
    auto applied = apply(*planned);
    if (!applied) {
        // Roll back: bring the tree back to the policy in force, best effort. The
        // old policy was applied before, so its plan can be applied again.
        if (!policy_.classes.empty()) {
            auto back = observe();
            if (back) {
                auto undo = plan(policy_, *devices, *back);
                if (undo) {
                    auto restored = apply(*undo);
                    if (!restored) {
                        spdlog::error("roll back to the previous policy failed: {}",
                                      restored.error().message());
                    }
                }
            }
        }
        return applied;
    }
    policy_ = policy;
    retired_ = planned->retiredClasses;
    retired_.insert(retired_.end(), pendingRetired_.begin(), pendingRetired_.end());
    pendingRetired_.clear();
    reportUnenforceable(*planned);
    for (const auto& r : retired_) {
        spdlog::warn(
            "class {} is no longer in the policy; its slice is kept until its last "
            "workload ends",
            r);
    }
    spdlog::info("policy applied ({}): {} classes, {} cgroup writes", why, policy_.classes.size(),
                 planned->actions.size());
    return success();
}

Result<Plan> Reconciler::planFor(const policies::Policy& policy) const {
    auto devices = devicesFor(policy);
    if (!devices)
        return std::move(devices).error().wrap("resolve block devices");
    auto tree = observe();
    if (!tree)
        return std::move(tree).error().wrap("observe " + fs_.rootPath());
    return plan(policy, *devices, *tree);
}

Result<void> Reconciler::makeWorkloadGroup(const policies::ClassPolicy& cls,
                                           const std::string& group) {
    // Devices only when the workload limits name io: the exec path reads no sysfs
    // for the others.
    policies::DeviceTable devices;
    if (!cls.workloadLimits.io.empty()) {
        auto table = devicesFor(policy_);
        if (!table)
            return std::move(table).error();
        devices = std::move(*table);
    }
    // The knob files this kernel lacks, as the last plan found them: a limit on one
    // is unenforceable, and its write would fail the exec.
    std::set<std::string> absent;
    for (const auto& u : unenforceable_) {
        if (!u.file.empty())
            absent.insert(u.file);
    }
    auto planned =
        planNewWorkloadGroup(cls, devices, available_, absent, memoryRecursiveProt_, group);
    if (!planned)
        return std::move(planned).error();
    auto applied = apply(*planned);
    if (!applied) {
        (void)fs_.removeGroup(group);
        return applied;
    }
    return success();
}

void Reconciler::removeRetiredSlices(const std::map<std::string, Workload>& workloads) {
    std::vector<std::string> still;
    for (const auto& cls : retired_) {
        const std::string slice = sliceGroup(cls);
        bool busy = std::any_of(workloads.begin(), workloads.end(),
                                [&](const auto& kv) { return kv.second.className == cls; });
        if (busy) {
            still.push_back(cls);
            continue;
        }
        auto removed = fs_.removeGroup(slice);
        if (removed) {
            spdlog::info("removed the slice of retired class {}", cls);
        } else {
            spdlog::warn("remove retired slice {}: {}", slice, removed.error().message());
            still.push_back(cls);
        }
    }
    retired_ = std::move(still);
}

}  // namespace gov::core
