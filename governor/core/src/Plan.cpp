#include "gov/core/Plan.hpp"

#include <algorithm>
#include <variant>

#include "gov/policies/Knobs.hpp"
#include "gov/policies/Units.hpp"
#include "gov/runtime/Parsers.hpp"

namespace gov::core {

namespace {

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\n");
    if (b == std::string::npos)
        return "";
    size_t e = s.find_last_not_of(" \t\n");
    return s.substr(b, e - b + 1);
}

std::string joinControllers(const std::set<std::string>& names) {
    std::string out;
    for (const auto& c : managedControllers()) {  // managed order, not set order
        if (!names.count(c))
            continue;
        if (!out.empty())
            out += ' ';
        out += "+" + c;
    }
    return out;
}

// io.max by device: the parsed limits and the line as the kernel printed it. A
// line that does not parse counts as absent (it is rewritten).
struct IoNow {
    runtime::IoMaxLine limits;
    std::string line;
};
std::map<std::string, IoNow> ioLimitsByDevice(const std::string& content) {
    std::map<std::string, IoNow> out;
    size_t pos = 0;
    while (pos < content.size()) {
        size_t nl = content.find('\n', pos);
        std::string line = trim(content.substr(pos, nl == std::string::npos ? nl : nl - pos));
        pos = nl == std::string::npos ? content.size() : nl + 1;
        auto parsed = runtime::parseIoMax(line);
        if (line.empty() || !parsed || parsed->size() != 1)
            continue;
        out[parsed->front().majMin] = IoNow{parsed->front(), line};
    }
    return out;
}

// True when `limits` are no limits at all (what a reset line writes).
bool unlimited(const runtime::IoMaxLine& limits) {
    return limits.rbps.isMax && limits.wbps.isMax && limits.riops.isMax && limits.wiops.isMax;
}

// The kernel refuses a cpu.max.burst above the quota of cpu.max at every moment,
// so the table writes cpu.max first (right when the quota grows); when the quota
// shrinks, the burst must come down first. `writes` are one group's, in order.
void orderBurstAroundQuota(std::vector<Action>& writes, const ObservedGroup& observed) {
    auto find = [&](const char* file) {
        return std::find_if(writes.begin(), writes.end(),
                            [&](const Action& a) { return a.file == file; });
    };
    auto quota = find("cpu.max");
    auto burst = find("cpu.max.burst");
    if (quota == writes.end() || burst == writes.end() || burst < quota)
        return;
    auto now = observed.knobs.find("cpu.max");
    if (now == observed.knobs.end())
        return;
    auto before = runtime::parseCpuMax(trim(now->second));
    auto after = runtime::parseCpuMax(quota->value);
    if (!before || !after)
        return;
    auto usec = [](const CpuMax& c) { return c.quotaUsec.value_or(UINT64_MAX); };
    if (usec(*before) > usec(*after))
        std::rotate(quota, burst, burst + 1);
}

// Whether this kernel has `knob`'s file, as the root's own files tell (see
// ObservedTree::root).
bool kernelHas(const policies::Knob& knob, const ObservedTree& tree) {
    if (tree.root.knobs.count(std::string(knob.file)))
        return true;
    for (const auto& other : policies::knobs()) {
        if (other.controller == knob.controller && tree.root.knobs.count(std::string(other.file)))
            return false;
    }
    return true;
}

// The knob files of available controllers that this kernel does not have.
std::set<std::string> absentFiles(const ObservedTree& tree,
                                  const std::set<std::string>& available) {
    std::set<std::string> out;
    for (const auto& k : policies::knobs()) {
        if (available.count(std::string(k.controller)) && !kernelHas(k, tree))
            out.insert(std::string(k.file));
    }
    return out;
}

// Appends the writes that make `group` hold `resources`.
Result<void> planGroupWrites(const policies::Resources& resources, policies::GroupLevel level,
                             const policies::DeviceTable& devices, const ObservedGroup& observed,
                             const std::set<std::string>& available,
                             const std::set<std::string>& absent, const std::string& group,
                             const std::string& className, Plan& out) {
    auto writes = policies::desiredWrites(resources, devices, level);
    if (!writes)
        return std::move(writes).error().wrap("class " + className);
    std::set<std::string> ioDevicesWritten;
    const auto ioNow = observed.knobs.count("io.max")
                           ? ioLimitsByDevice(observed.knobs.at("io.max"))
                           : std::map<std::string, IoNow>{};
    std::vector<Action> mine;
    for (const auto& w : *writes) {
        if (!available.count(w.controller) || absent.count(w.file))
            continue;  // reported by planUnenforceable()
        std::string current;
        if (w.file == "io.max") {
            std::string dev = w.value.substr(0, w.value.find(' '));
            ioDevicesWritten.insert(dev);
            auto it = ioNow.find(dev);
            current = it == ioNow.end() ? policies::ioResetLine(dev) : it->second.line;
            // Compared as limits, not text: the same limits are the same whatever
            // order or spacing the line has.
            auto wanted = runtime::parseIoMax(w.value);
            if (it != ioNow.end() && wanted && wanted->size() == 1 &&
                wanted->front() == it->second.limits)
                continue;
        } else {
            auto it = observed.knobs.find(w.file);
            if (it == observed.knobs.end()) {
                // The controller is available but the file is not there yet (the
                // controller is enabled by an earlier action of this plan).
                current = "";
            } else {
                current = trim(it->second);
            }
        }
        if (current == w.value)
            continue;
        Action a;
        a.kind = ActionKind::Write;
        a.group = group;
        a.file = w.file;
        a.value = w.value;
        a.className = className;
        a.key = w.key;
        a.oldValue = current;
        mine.push_back(std::move(a));
    }
    orderBurstAroundQuota(mine, observed);
    out.actions.insert(out.actions.end(), mine.begin(), mine.end());
    // Devices limited now but no longer named by the policy: lift their limits.
    if (available.count("io")) {
        for (const auto& [dev, now] : ioNow) {
            if (ioDevicesWritten.count(dev) || unlimited(now.limits))
                continue;
            Action a;
            a.kind = ActionKind::Write;
            a.group = group;
            a.file = "io.max";
            a.value = policies::ioResetLine(dev);
            a.className = className;
            a.key = "io";
            a.oldValue = now.line;
            out.actions.push_back(std::move(a));
        }
    }
    return success();
}

// The limits `r` really sets (not the defaults written for unset knobs) whose
// controller is not available, or whose file this kernel does not have.
void planUnenforceable(const policies::Resources& r, const std::set<std::string>& available,
                       const std::set<std::string>& absent, const std::string& className,
                       bool workload, Plan& out) {
    auto check = [&](const policies::Knob& k) {
        const std::string controller(k.controller);
        const std::string file(k.file);
        if (!available.count(controller)) {
            out.unenforceable.push_back({className, std::string(k.key), controller, workload, ""});
        } else if (absent.count(file)) {
            out.unenforceable.push_back(
                {className, std::string(k.key), controller, workload, file});
        }
    };
    for (const auto& k : policies::knobs()) {
        if (!policies::isIoMaxKey(k) && policies::knobValue(k, r)) {
            check(k);
        }
    }
    for (const auto& io : r.io) {
        for (const auto& k : policies::knobs()) {
            if (policies::isIoMaxKey(k) && policies::knobValue(k, io)) {
                check(k);
            }
        }
    }
}

// The sum of `knob` over the classes: the protection the root must have for the
// classes to have theirs. "max" when a class has "max".
MaxOr protectionSum(const policies::Policy& policy, const policies::Knob& knob) {
    uint64_t sum = 0;
    for (const auto& cls : policy.classes) {
        auto v = policies::knobValue(knob, cls.limits);
        if (!v)
            continue;
        const MaxOr& m = std::get<MaxOr>(*v);
        if (m.isMax)
            return MaxOr::max();
        sum = m.value > policies::kMaxValue - sum ? policies::kMaxValue : sum + m.value;
    }
    return MaxOr::of(sum);
}

// The kernel gives a group no more protection than its ancestors have: the root
// holds the sum of what its classes protect (see ObservedTree::rootProtection).
void planRootProtection(const policies::Policy& policy, const ObservedTree& observed, Plan& out) {
    for (const auto& k : policies::knobs()) {
        if (!k.protection)
            continue;
        auto it = observed.root.knobs.find(std::string(k.file));
        if (it == observed.root.knobs.end())
            continue;  // the hierarchy's root, or no memory controller above it
        const std::string value = policies::cgroupText(k, protectionSum(policy, k));
        const std::string current = trim(it->second);
        if (current == value)
            continue;
        Action a;
        a.kind = ActionKind::Write;
        a.group = "";
        a.file = std::string(k.file);
        a.value = value;
        a.key = std::string(k.key);
        a.oldValue = current;
        out.actions.push_back(std::move(a));
    }
}

void planEnable(const std::string& group, const std::string& className,
                const std::set<std::string>& wanted, const std::set<std::string>& enabled,
                Plan& out) {
    std::set<std::string> missing;
    for (const auto& c : wanted) {
        if (!enabled.count(c))
            missing.insert(c);
    }
    if (missing.empty())
        return;
    Action a;
    a.kind = ActionKind::EnableControllers;
    a.group = group;
    a.file = "cgroup.subtree_control";
    a.value = joinControllers(missing);
    a.className = className;
    a.controllers = missing;
    out.actions.push_back(std::move(a));
}

}  // namespace

const std::vector<std::string>& managedControllers() {
    // cpuset first: the others do not depend on it, but cpuset must be enabled on a
    // parent before cpuset.cpus of a child can be written.
    static const std::vector<std::string> kControllers = {"cpuset", "cpu", "io", "memory", "pids"};
    return kControllers;
}

std::string sliceGroup(const std::string& className) {
    return className + kSliceSuffix;
}

std::string classOfSlice(const std::string& sliceName) {
    const std::string suffix = kSliceSuffix;
    if (sliceName.size() <= suffix.size() ||
        sliceName.compare(sliceName.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return "";
    }
    return sliceName.substr(0, sliceName.size() - suffix.size());
}

Result<Plan> plan(const policies::Policy& policy, const policies::DeviceTable& devices,
                  const ObservedTree& observed) {
    Plan out;
    std::set<std::string> wanted;
    for (const auto& c : managedControllers()) {
        if (observed.available.count(c))
            wanted.insert(c);
    }
    planEnable("", "", wanted, observed.rootSubtree, out);
    const std::set<std::string> absent = absentFiles(observed, wanted);
    if (observed.rootProtection && wanted.count("memory"))
        planRootProtection(policy, observed, out);

    static const ObservedSlice kNew;
    for (const auto& cls : policy.classes) {
        const std::string slice = sliceGroup(cls.name);
        auto it = observed.slices.find(cls.name);
        const bool exists = it != observed.slices.end();
        const ObservedSlice& seen = exists ? it->second : kNew;
        if (!exists) {
            Action a;
            a.kind = ActionKind::MakeGroup;
            a.group = slice;
            a.className = cls.name;
            out.actions.push_back(std::move(a));
        }
        planUnenforceable(cls.limits, wanted, absent, cls.name, /*workload=*/false, out);
        planUnenforceable(cls.workloadLimits, wanted, absent, cls.name, /*workload=*/true, out);
        GOV_TRY(planGroupWrites(cls.limits, policies::GroupLevel::Class, devices, seen.group,
                                wanted, absent, slice, cls.name, out));
        planEnable(slice, cls.name, wanted, seen.group.subtreeControl, out);
        const policies::Resources perWorkload =
            workloadResources(cls, observed.memoryRecursiveProt);
        for (const auto& [scope, group] : seen.scopes) {
            GOV_TRY(planGroupWrites(perWorkload, policies::GroupLevel::Workload, devices, group,
                                    wanted, absent, slice + "/" + scope, cls.name, out));
        }
    }
    for (const auto& [name, slice] : observed.slices) {
        if (policy.find(name))
            continue;
        if (slice.scopes.empty()) {
            Action a;
            a.kind = ActionKind::RemoveGroup;
            a.group = sliceGroup(name);
            a.className = name;
            out.actions.push_back(std::move(a));
        } else {
            out.retiredClasses.push_back(name);
        }
    }
    return out;
}

Result<Plan> planNewWorkloadGroup(const policies::ClassPolicy& cls,
                                  const policies::DeviceTable& devices,
                                  const std::set<std::string>& available,
                                  const std::set<std::string>& absent, bool memoryRecursiveProt,
                                  const std::string& group) {
    Plan out;
    Action mkdir;
    mkdir.kind = ActionKind::MakeGroup;
    mkdir.group = group;
    mkdir.className = cls.name;
    out.actions.push_back(std::move(mkdir));
    std::set<std::string> wanted;
    for (const auto& c : managedControllers()) {
        if (available.count(c))
            wanted.insert(c);
    }
    // Every class has writes for a new workload group (memory.oom.group is on by
    // default there), but the new group already holds the kernel defaults: only the
    // other values are written, so an exec makes as few writes as it can.
    const policies::Resources resources = workloadResources(cls, memoryRecursiveProt);
    ObservedGroup fresh;
    for (const auto& k : policies::knobs()) {
        if (k.file != "io.max")
            fresh.knobs[std::string(k.file)] = std::string(k.kernelDefault);
    }
    GOV_TRY(planGroupWrites(resources, policies::GroupLevel::Workload, devices, fresh, wanted,
                            absent, group, cls.name, out));
    return out;
}

std::string Unenforceable::reason() const {
    if (!file.empty())
        return "this kernel has no " + file;
    return "the " + controller + " controller is not available";
}

policies::Resources workloadResources(const policies::ClassPolicy& cls, bool memoryRecursiveProt) {
    policies::Resources r = cls.workloadLimits;
    if (memoryRecursiveProt)
        return r;
    for (const auto& k : policies::knobs()) {
        if (!k.protection || policies::knobValue(k, r))
            continue;
        if (auto v = policies::knobValue(k, cls.limits))
            policies::setKnobValue(k, r, *v);
    }
    return r;
}

std::vector<LimitPlacement> limitPlacements(const policies::ClassPolicy& cls,
                                            const std::vector<Unenforceable>& unenforceable,
                                            const std::set<std::string>& available,
                                            bool memoryRecursiveProt) {
    const std::string slice = sliceGroup(cls.name);
    const std::string scopes = slice + "/*" + kScopeSuffix;
    std::vector<LimitPlacement> out;
    // Enforced unless the last plan reported the key (set by the policy) or, for
    // what the policy leaves to defaults, the controller is missing.
    auto add = [&](const policies::Knob& k, const std::string& key, const policies::KnobValue& v,
                   bool workload, std::string source, bool setByPolicy) {
        LimitPlacement p;
        p.key = key;
        p.value = policies::humanText(k, v);
        p.file = std::string(k.file);
        p.group = workload ? scopes : slice;
        p.source = std::move(source);
        if (setByPolicy) {
            for (const auto& u : unenforceable) {
                if (u.className == cls.name && u.key == k.key && u.workload == workload) {
                    p.enforced = false;
                    p.reason = u.reason();
                }
            }
        } else if (!available.count(std::string(k.controller))) {
            p.enforced = false;
            p.reason =
                Unenforceable{cls.name, std::string(k.key), std::string(k.controller), workload, ""}
                    .reason();
        }
        out.push_back(std::move(p));
    };
    const std::string recursiveprot =
        memoryRecursiveProt ? "shared by the workload groups (memory_recursiveprot)" : "";
    for (const auto& k : policies::knobs()) {
        if (policies::isIoMaxKey(k))
            continue;
        if (auto v = policies::knobValue(k, cls.limits)) {
            add(k, std::string(k.key), *v, false,
                k.protection && memoryRecursiveProt ? "policy; " + recursiveprot : "policy", true);
        }
    }
    for (const auto& io : cls.limits.io) {
        for (const auto& k : policies::knobs()) {
            if (auto v = policies::knobValue(k, io)) {
                const std::string name(k.key.substr(k.key.find('.') + 1));
                add(k,
                    io.allDevices() ? std::string(k.key)
                                    : "io.device.\"" + io.device + "\"." + name,
                    *v, false, io.allDevices() ? "policy (every whole disk)" : "policy", true);
            }
        }
    }
    for (const auto& k : policies::knobs()) {
        if (policies::isIoMaxKey(k))
            continue;
        const std::string key = "workload." + std::string(k.key);
        if (auto v = policies::knobValue(k, cls.workloadLimits)) {
            add(k, key, *v, true, "policy", true);
        } else if (auto fromClass = policies::knobValue(k, cls.limits);
                   fromClass && k.protection && !memoryRecursiveProt) {
            add(k, std::string(k.key), *fromClass, true,
                "the class's, on each workload group (cgroup2 without memory_recursiveprot)",
                false);
        } else if (!k.workloadDefault.empty()) {
            if (auto d = policies::valueOfCgroupText(k, k.workloadDefault))
                add(k, key, *d, true, "default for workload groups", false);
        }
    }
    for (const auto& io : cls.workloadLimits.io) {
        for (const auto& k : policies::knobs()) {
            if (auto v = policies::knobValue(k, io)) {
                const std::string name(k.key.substr(k.key.find('.') + 1));
                add(k,
                    io.allDevices() ? "workload." + std::string(k.key)
                                    : "workload.io.device.\"" + io.device + "\"." + name,
                    *v, true, io.allDevices() ? "policy (every whole disk)" : "policy", true);
            }
        }
    }
    return out;
}

std::string describe(const Action& a) {
    const std::string where = a.group.empty() ? "<root>" : a.group;
    switch (a.kind) {
        case ActionKind::MakeGroup:
            return "mkdir " + where;
        case ActionKind::RemoveGroup:
            return "rmdir " + where;
        case ActionKind::EnableControllers:
            return "write " + where + "/cgroup.subtree_control: " + a.value;
        case ActionKind::Write:
            return "write " + where + "/" + a.file + ": " +
                   (a.oldValue.empty() ? std::string("(new)") : a.oldValue) + " -> " + a.value;
    }
    return "";
}

}  // namespace gov::core
