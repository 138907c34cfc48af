// Reconcile, step two: plan(). Pure: from the desired policy and an observation of
// the tree (made by observe(), step one), the exact list of cgroup operations that
// puts the policy in force (applied by apply(), step three). Also what cannot be
// enforced because a controller or a knob's file is missing, which is reported,
// never pretended, and where each limit of a class is enforced (govctl status).
//
// Layout under the root (DESIGN.md "Cgroup tree"):
//   <root>/governord                  the daemon itself
//   <root>/<class>.slice              class limits (bound the class as a whole)
//   <root>/<class>.slice/<name>.scope one workload; per-workload limits
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gov/policies/CgroupWrites.hpp"
#include "gov/policies/Policy.hpp"

namespace gov::core {

inline constexpr const char* kDaemonGroup = "governord";
inline constexpr const char* kSliceSuffix = ".slice";
inline constexpr const char* kScopeSuffix = ".scope";

// The controllers Governor manages, in the order they are enabled.
const std::vector<std::string>& managedControllers();

std::string sliceGroup(const std::string& className);  // "adhoc" -> "adhoc.slice"
// "adhoc.slice" -> "adhoc"; "" when `group` is not a slice name.
std::string classOfSlice(const std::string& sliceName);

// What observe() saw of one group: the content of each knob file that exists (the
// files of controllers that are not enabled do not exist) and its subtree_control.
struct ObservedGroup {
    std::map<std::string, std::string> knobs;  // "memory.max" -> "max\n"
    std::set<std::string> subtreeControl;
    bool operator==(const ObservedGroup&) const = default;
};

struct ObservedSlice {
    ObservedGroup group;
    std::map<std::string, ObservedGroup> scopes;  // by scope name ("exec-1.scope")
    bool operator==(const ObservedSlice&) const = default;
};

struct ObservedTree {
    std::set<std::string> available;    // cgroup.controllers of the root
    std::set<std::string> rootSubtree;  // cgroup.subtree_control of the root
    // The root's own knob files. A group has the files of every controller enabled
    // above it, so they tell which knobs this kernel has (cpu.idle is 5.15+,
    // memory.zswap.max 5.19+); a root with no file of a controller tells nothing
    // (the hierarchy's root itself), and its knobs are taken to exist.
    ObservedGroup root;
    // cgroup2 is mounted with memory_recursiveprot: a group that sets no
    // memory.min/low gets a share of its parent's protection. Without it, a class's
    // protection is written on its workload groups too.
    bool memoryRecursiveProt = false;
    // The root's memory.min/low are the daemon's to write (the cgroupfs backend).
    // Under systemd they are the service's (MemoryMin=/MemoryLow=), not written.
    bool rootProtection = false;
    std::map<std::string, ObservedSlice> slices;  // by class name
    bool operator==(const ObservedTree&) const = default;
};

enum class ActionKind { MakeGroup, EnableControllers, Write, RemoveGroup };

struct Action {
    ActionKind kind = ActionKind::Write;
    std::string group;                  // relative to the root ("" = root)
    std::string file;                   // Write: the control file
    std::string value;                  // Write: the exact text; EnableControllers: "+cpu +memory"
    std::string className;              // the class it is for ("" for the root)
    std::string key;                    // the policy key behind a Write ("memory.max")
    std::string oldValue;               // Write: what the file held (for `policy diff`)
    std::set<std::string> controllers;  // EnableControllers
    bool operator==(const Action&) const = default;
};

// A limit the kernel cannot enforce here: its controller is not available, or the
// controller is but this kernel has no such file (`file` set, e.g. cpu.idle before
// Linux 5.15).
struct Unenforceable {
    std::string className;
    std::string key;         // "memory.max"
    std::string controller;  // "memory"
    bool workload = false;   // a per-workload limit
    std::string file{};      // the missing file, when the controller is there
    // "the memory controller is not available", "this kernel has no cpu.idle".
    std::string reason() const;
    bool operator==(const Unenforceable&) const = default;
};

struct Plan {
    std::vector<Action> actions;
    std::vector<Unenforceable> unenforceable;
    std::vector<std::string> retiredClasses;  // in the tree, not in the policy, not empty
};

// The operations that make the tree match `policy`:
// - enable the managed controllers that are available in the root's subtree_control,
//   then in each slice's (so workloads get accounting files and per-workload limits);
// - create each class's slice; write every class knob whose controller is available
//   and whose current content differs (see policies::desiredWrites for the defaults
//   written for unset knobs, which lift a limit removed from the policy);
// - reset io.max lines of devices a class no longer names;
// - write per-workload knobs on each existing scope of the class (the resources of
//   workloadResources(), with the table's workload defaults for unset knobs);
// - with rootProtection, write on the root the sum of the classes' memory.min and
//   memory.low, without which the kernel gives the classes none of it;
// - knobs whose file this kernel does not have are not written (reported when the
//   policy sets them);
// - a slice of a class no longer in the policy is removed when it has no scopes and
//   is otherwise kept (listed in retiredClasses) until its last workload ends.
// `devices` must resolve every device the policy names (an error names it).
Result<Plan> plan(const policies::Policy& policy, const policies::DeviceTable& devices,
                  const ObservedTree& observed);

// The resources each workload group of `cls` gets: its workload limits, plus,
// without memory_recursiveprot, the class's protections (memory.min, memory.low)
// where the workload limits set none, since the kernel would give a workload group
// nothing of its class's protection otherwise.
policies::Resources workloadResources(const policies::ClassPolicy& cls, bool memoryRecursiveProt);

// The operations that make the new workload group `group` of `cls`: mkdir, then the
// resources of workloadResources() and the knob table's workload defaults
// (memory.oom.group 1) written as plan() writes them on an existing scope, except
// the values that are the kernel's defaults: a new group holds those already. Only
// controllers in `available` are written, and no file in `absent` (knob files this
// kernel does not have: those of Unenforceable::file).
Result<Plan> planNewWorkloadGroup(const policies::ClassPolicy& cls,
                                  const policies::DeviceTable& devices,
                                  const std::set<std::string>& available,
                                  const std::set<std::string>& absent, bool memoryRecursiveProt,
                                  const std::string& group);

// One limit of a class where it is enforced, for `govctl status CLASS`.
struct LimitPlacement {
    std::string key;     // the policy key: "memory.max", "workload.memory.max",
                         // "io.device.\"/dev/sda\".write_bps"
    std::string value;   // for people: "2 GiB", "true", "10 MB/s"
    std::string file;    // the cgroup file: "memory.max", "io.max"
    std::string group;   // where: "adhoc.slice", or "adhoc.slice/*.scope" for each workload
    std::string source;  // "policy", "default for workload groups", "from the class ..."
    bool enforced = true;
    std::string reason;  // when not enforced: Unenforceable::reason()
    bool operator==(const LimitPlacement&) const = default;
};

// Every limit `cls` puts in force, in knob-table order: those it sets on its slice,
// those on each workload group, the workload defaults it leaves unset, and its
// protections as the workload groups get them. `unenforceable` (from the last plan)
// and `available` say which cannot be enforced here.
std::vector<LimitPlacement> limitPlacements(const policies::ClassPolicy& cls,
                                            const std::vector<Unenforceable>& unenforceable,
                                            const std::set<std::string>& available,
                                            bool memoryRecursiveProt);

// Human-readable form of one action, e.g.
// "write adhoc.slice/memory.max: max -> 2147483648".
std::string describe(const Action& action);

}  // namespace gov::core
