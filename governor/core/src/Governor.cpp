#include "gov/core/Governor.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "gov/core/Ancestors.hpp"
#include "gov/runtime/Accounting.hpp"
#include "gov/runtime/Devices.hpp"
#include "gov/runtime/Freezer.hpp"

namespace gov::core {

namespace {

// The knob files observe() reads: every file a plan may write.
const std::vector<std::string>& knobFiles() {
    static const std::vector<std::string> kFiles = {
        "cpuset.cpus", "cpuset.mems", "cpu.weight", "cpu.max",  "memory.min",
        "memory.low",  "memory.high", "memory.max", "pids.max", "io.max"};
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

// The cgroup id of a group: its inode number on cgroupfs (unique for the boot).
// Used to tell a group we already folded from a new one of the same name.
uint64_t cgroupIdOf(const runtime::CgroupFs& fs, const std::string& group) {
    struct stat st {};
    if (::fstatat(fs.rootFd(), group.c_str(), &st, 0) < 0)
        return 0;
    return static_cast<uint64_t>(st.st_ino);
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

policies::CompileResult loadConfiguredPolicy(const GovernorConfig& config) {
    if (!config.policyFiles.empty() || !config.policyDir.empty()) {
        return policies::loadPolicyFiles(config.policyFiles, config.policyDir);
    }
    std::vector<std::string> files;
    std::string dir;
    struct stat st {};
    if (!config.defaultPolicyFile.empty() && ::stat(config.defaultPolicyFile.c_str(), &st) == 0) {
        files.push_back(config.defaultPolicyFile);
    }
    if (!config.defaultPolicyDir.empty() && ::stat(config.defaultPolicyDir.c_str(), &st) == 0 &&
        S_ISDIR(st.st_mode)) {
        dir = config.defaultPolicyDir;
    }
    return policies::loadPolicyFiles(files, dir);
}

Governor::Governor(GovernorConfig config, runtime::CgroupFs fs, runtime::EventsWatcher watcher)
    : config_(std::move(config)),
      fs_(std::move(fs)),
      watcher_(std::move(watcher)),
      store_(config_.stateDir) {}

Result<std::unique_ptr<Governor>> Governor::start(GovernorConfig config) {
    auto compiled = loadConfiguredPolicy(config);
    if (!compiled.ok()) {
        std::string all;
        for (const auto& d : compiled.diagnostics)
            all += "\n  " + d.format();
        return Error::withReason("load policy", "the policy is invalid:" + all);
    }
    if (!config.enableAncestorsFrom.empty()) {
        const auto& managed = managedControllers();
        for (const auto& problem : enableAncestorControllers(
                 config.enableAncestorsFrom, config.cgroupRoot, {managed.begin(), managed.end()})) {
            spdlog::warn("enable controllers above {}: {}", config.cgroupRoot, problem);
        }
    }
    if (::mkdir(config.cgroupRoot.c_str(), 0755) < 0 && errno != EEXIST) {
        return Error::fromErrno("create cgroup root " + config.cgroupRoot);
    }
    auto fs = runtime::CgroupFs::open(config.cgroupRoot);
    if (!fs)
        return std::move(fs).error();
    auto watcher = runtime::EventsWatcher::create();
    if (!watcher)
        return std::move(watcher).error();

    std::unique_ptr<Governor> g(
        new Governor(std::move(config), std::move(*fs), std::move(*watcher)));

    auto loaded = g->store_.load();
    if (!loaded) {
        return std::move(loaded).error().wrap(
            "load totals (refusing to start and reset counters; move the file away to "
            "start from zero)");
    }
    if (!loaded->warning.empty())
        spdlog::warn("totals: {}", loaded->warning);
    g->state_ = std::move(loaded->state);
    // Folded groups whose removal was confirmed after the last save are gone.
    std::erase_if(g->state_.pendingRemoval,
                  [&](const PendingRemoval& p) { return !g->fs_.exists(p.group); });

    auto available = g->fs_.controllers("");
    if (!available)
        return std::move(available).error();
    g->available_ = std::move(*available);

    if (g->config_.moveSelf) {
        // The no-internal-processes rule: the root may only enable controllers for
        // its children once no process lives in it, so the daemon lives in a leaf.
        GOV_TRY(g->fs_.makeGroup(kDaemonGroup));
        GOV_TRY(g->fs_.moveProcess(kDaemonGroup, ::getpid()));
        // Any other process still in the root joins us: under systemd that is
        // governor-root.service's keeper, which moves itself into <root>/governord
        // too but may not have yet when this daemon starts right after it.
        auto stray = g->fs_.processes("");
        if (!stray)
            return std::move(stray).error();
        for (pid_t pid : *stray) {
            auto moved = g->fs_.moveProcess(kDaemonGroup, pid);
            if (moved)
                spdlog::info("moved process {} from the root into {}", pid, kDaemonGroup);
            else if (moved.error().code().value() != ESRCH)  // not gone meanwhile
                spdlog::warn("move process {} out of the root: {}", pid, moved.error().message());
        }
    }

    g->stats_.lastReloadUnixSeconds =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    // Adopt first, so that the plan sees the existing workload groups (their
    // per-workload limits are brought up to date too).
    g->adopt();
    GOV_TRY(g->applyPolicy(compiled.policy.value(), "start"));
    // Groups that emptied while no daemon was watching are folded now.
    std::vector<std::string> all;
    for (const auto& [group, w] : g->workloads_)
        all.push_back(group);
    g->reap(all);
    return g;
}

Result<ObservedTree> Governor::observe() const {
    ObservedTree tree;
    tree.available = available_;
    auto rootSubtree = fs_.subtreeControl("");
    if (!rootSubtree)
        return std::move(rootSubtree).error();
    tree.rootSubtree = std::move(*rootSubtree);
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

Result<void> Governor::apply(const Plan& plan) {
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

void Governor::reportUnenforceable(const Plan& plan) {
    unenforceable_ = plan.unenforceable;
    for (const auto& u : plan.unenforceable) {
        std::string id = u.className + "/" + u.key + (u.workload ? "/workload" : "");
        if (!reportedUnenforceable_.insert(id).second)
            continue;  // logged once
        spdlog::warn("class {}: {}{} cannot be enforced: the {} controller is not available in {}",
                     u.className, u.workload ? "workload." : "", u.key, u.controller,
                     fs_.rootPath());
    }
}

Result<void> Governor::applyPolicy(const policies::Policy& policy, const char* why) {
    policies::DeviceTable devices;
    if (needsDevices(policy)) {
        auto table =
            runtime::buildDeviceTable(deviceSpecs(policy), config_.sysRoot, config_.devRoot);
        if (!table)
            return std::move(table).error().wrap("resolve block devices");
        devices = std::move(*table);
    }
    auto tree = observe();
    if (!tree)
        return std::move(tree).error().wrap("observe " + fs_.rootPath());
    auto planned = plan(policy, devices, *tree);
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
                auto undo = plan(policy_, devices, *back);
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
    // New slices of classes are not tracked as workloads; existing scopes were
    // adopted before. Watch every tracked group (idempotent).
    return success();
}

ReloadOutcome Governor::reload() {
    ReloadOutcome out;
    stats_.lastReloadUnixSeconds =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    stats_.lastReloadOk = false;
    auto compiled = loadConfiguredPolicy(config_);
    if (!compiled.ok()) {
        ++stats_.reloadsInvalid;
        for (const auto& d : compiled.diagnostics)
            out.messages.push_back(d.format());
        spdlog::error("reload: the new policy is invalid; the previous policy stays in force");
        for (const auto& m : out.messages)
            spdlog::error("  {}", m);
        return out;
    }
    auto applied = applyPolicy(compiled.policy.value(), "reload");
    if (!applied) {
        ++stats_.reloadsFailed;
        out.messages.push_back(applied.error().message());
        spdlog::error(
            "reload: the new policy failed to apply ({}); the previous policy stays in "
            "force",
            applied.error().message());
        return out;
    }
    out.applied = true;
    ++stats_.reloadsApplied;
    stats_.lastReloadOk = true;
    return out;
}

void Governor::track(const std::string& className, const std::string& group, bool adopted) {
    if (workloads_.count(group))
        return;
    Workload w;
    w.className = className;
    w.group = group;
    w.cgroupId = cgroupIdOf(fs_, group);
    w.firstSeenEmpty = Clock::now();
    auto events = runtime::readEvents(fs_, group);
    if (events) {
        w.seenPopulated = events->populated;
        w.frozen = events->frozen;
    }
    auto watched = watcher_.watch(fs_, group);
    if (!watched) {
        spdlog::warn("watch {}: {}", group, watched.error().message());
    }
    workloads_[group] = w;
    spdlog::info("{} workload group {} (class {}{})", adopted ? "adopted" : "tracking", group,
                 className, w.seenPopulated ? "" : ", empty");
}

void Governor::adopt() {
    auto children = fs_.children("");
    if (!children) {
        spdlog::error("list {}: {}", fs_.rootPath(), children.error().message());
        return;
    }
    for (const auto& child : *children) {
        std::string cls = classOfSlice(child);
        if (cls.empty()) {
            if (child != kDaemonGroup) {
                spdlog::warn("{}/{} is not a class slice; left alone", fs_.rootPath(), child);
            }
            continue;
        }
        auto scopes = fs_.children(child);
        if (!scopes)
            continue;
        for (const auto& scope : *scopes) {
            if (endsWith(scope, kScopeSuffix))
                track(cls, child + "/" + scope, true);
        }
    }
}

void Governor::rescan() {
    auto children = fs_.children("");
    if (!children)
        return;
    for (const auto& child : *children) {
        std::string cls = classOfSlice(child);
        if (cls.empty())
            continue;
        auto scopes = fs_.children(child);
        if (!scopes)
            continue;
        for (const auto& scope : *scopes) {
            if (endsWith(scope, kScopeSuffix))
                track(cls, child + "/" + scope, false);
        }
    }
    std::vector<std::string> all;
    for (const auto& [group, w] : workloads_)
        all.push_back(group);
    reap(all);
}

void Governor::handleEvents() {
    auto changed = watcher_.drain();
    if (!changed) {
        spdlog::error("read cgroup events: {}", changed.error().message());
        return;
    }
    reap(*changed);
}

void Governor::reap(const std::vector<std::string>& groups) {
    struct Done {
        std::string group;
        std::string className;
    };
    std::vector<Done> done;
    bool changed = false;
    const auto now = Clock::now();
    for (const auto& group : groups) {
        auto it = workloads_.find(group);
        if (it == workloads_.end())
            continue;
        Workload& w = it->second;
        auto events = runtime::readEvents(fs_, group);
        if (!events) {
            if (!fs_.exists(group)) {
                // Removed by someone else: whatever it used is lost to us.
                spdlog::warn("workload group {} disappeared before it could be accounted", group);
                watcher_.unwatch(group);
                workloads_.erase(it);
            }
            continue;
        }
        w.frozen = events->frozen;
        if (events->populated) {
            w.seenPopulated = true;
            continue;
        }
        const bool alreadyFolded = std::any_of(
            state_.pendingRemoval.begin(), state_.pendingRemoval.end(),
            [&](const PendingRemoval& p) { return p.group == group && p.cgroupId == w.cgroupId; });
        if (!alreadyFolded && !w.seenPopulated && now - w.firstSeenEmpty < config_.emptyGrace) {
            continue;
        }
        if (!alreadyFolded) {
            auto usage = runtime::readUsage(fs_, group);
            if (!usage) {
                spdlog::error("final accounting of {}: {}", group, usage.error().message());
                continue;
            }
            state_.classes[w.className].fold(*usage);
            state_.pendingRemoval.push_back({group, w.cgroupId});
            changed = true;
            spdlog::info("workload group {} ended: cpu {} us, memory peak {} bytes", group,
                         usage->cpu ? usage->cpu->usageUsec : 0,
                         usage->memory ? usage->memory->peak.value_or(0) : 0);
        }
        done.push_back({group, w.className});
    }
    if (done.empty())
        return;
    dirty_ = dirty_ || changed;
    for (const auto& d : done) {
        if (std::find(ended_.begin(), ended_.end(), d.group) == ended_.end())
            ended_.push_back(d.group);
    }
    if (config_.saveDelay.count() == 0)
        flushEnded();
}

void Governor::flushEnded() {
    // Persist the folded counters before removing any group: a crash in between
    // leaves groups in pendingRemoval, removed (not folded again) at the next start.
    if (dirty_) {
        auto saved = saveState();
        if (!saved) {
            spdlog::error("save totals: {}", saved.error().message());
            return;  // keep the groups; retried at the next event or rescan
        }
        dirty_ = false;
    }
    // A group that cannot be removed now is found again by the next event or rescan.
    auto ended = std::move(ended_);
    ended_.clear();
    for (const auto& group : ended) {
        auto removed = fs_.removeGroup(group);
        if (!removed) {
            spdlog::warn("remove {}: {} (retried later)", group, removed.error().message());
            continue;
        }
        watcher_.unwatch(group);
        workloads_.erase(group);
        std::erase_if(state_.pendingRemoval,
                      [&](const PendingRemoval& p) { return p.group == group; });
    }
    removeRetiredSlices();
}

void Governor::removeRetiredSlices() {
    std::vector<std::string> still;
    for (const auto& cls : retired_) {
        const std::string slice = sliceGroup(cls);
        bool busy = std::any_of(workloads_.begin(), workloads_.end(),
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

Result<Plan> Governor::planFor(const policies::Policy& policy) const {
    policies::DeviceTable devices;
    if (needsDevices(policy)) {
        auto table =
            runtime::buildDeviceTable(deviceSpecs(policy), config_.sysRoot, config_.devRoot);
        if (!table)
            return std::move(table).error().wrap("resolve block devices");
        devices = std::move(*table);
    }
    auto tree = observe();
    if (!tree)
        return std::move(tree).error().wrap("observe " + fs_.rootPath());
    return plan(policy, devices, *tree);
}

Result<void> Governor::saveState() {
    return store_.save(state_);
}

Result<std::string> Governor::resolveTarget(const std::string& target) const {
    if (target.empty() || target == kDaemonGroup || target.find("..") != std::string::npos ||
        target.front() == '/') {
        return Error::withReason("target '" + target + "'", "not a class or workload group");
    }
    if (policy_.find(target) ||
        std::find(retired_.begin(), retired_.end(), target) != retired_.end()) {
        return sliceGroup(target);
    }
    if (workloads_.count(target))
        return target;
    return Error::withReason("target '" + target + "'", "no such class or workload group",
                             std::errc::no_such_file_or_directory);
}

Result<void> Governor::freeze(const std::string& target) {
    auto group = resolveTarget(target);
    if (!group)
        return std::move(group).error();
    GOV_TRY(runtime::freeze(fs_, *group, config_.freezeTimeout));
    spdlog::info("froze {}", *group);
    return success();
}

Result<void> Governor::thaw(const std::string& target) {
    auto group = resolveTarget(target);
    if (!group)
        return std::move(group).error();
    GOV_TRY(runtime::thaw(fs_, *group, config_.freezeTimeout));
    spdlog::info("thawed {}", *group);
    return success();
}

Result<void> Governor::kill(const std::string& target) {
    auto group = resolveTarget(target);
    if (!group)
        return std::move(group).error();
    GOV_TRY(runtime::kill(fs_, *group));
    for (auto& [g, w] : workloads_) {
        if (g == *group || g.rfind(*group + "/", 0) == 0)
            w.killed = true;
    }
    spdlog::info("killed {}", *group);
    return success();
}

Result<std::string> Governor::createWorkloadGroup(const std::string& className,
                                                  const std::string& nameHint) {
    const auto* cls = policy_.find(className);
    if (!cls) {
        return Error::withReason("class '" + className + "'", "no such class in the policy",
                                 std::errc::no_such_file_or_directory);
    }
    std::string base;
    for (char c : nameHint) {
        base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    }
    if (base.empty())
        base = "exec";
    if (base.size() > 32)
        base.resize(32);
    std::string group;
    for (;;) {
        group = sliceGroup(className) + "/" + base + "-" + std::to_string(::getpid()) + "-" +
                std::to_string(nextId_++) + kScopeSuffix;
        if (!fs_.exists(group))
            break;
    }
    GOV_TRY(fs_.makeGroup(group));
    if (!cls->workloadLimits.empty()) {
        policies::DeviceTable devices;
        if (!cls->workloadLimits.io.empty()) {
            auto table =
                runtime::buildDeviceTable(deviceSpecs(policy_), config_.sysRoot, config_.devRoot);
            if (!table) {
                (void)fs_.removeGroup(group);
                return std::move(table).error();
            }
            devices = std::move(*table);
        }
        auto writes = policies::desiredWrites(cls->workloadLimits, devices);
        if (!writes) {
            (void)fs_.removeGroup(group);
            return std::move(writes).error();
        }
        for (const auto& w : *writes) {
            if (!available_.count(w.controller))
                continue;
            auto written = fs_.write(group, w.file, w.value);
            if (!written) {
                (void)fs_.removeGroup(group);
                return std::move(written).error();
            }
        }
    }
    Workload w;
    w.className = className;
    w.group = group;
    w.cgroupId = cgroupIdOf(fs_, group);
    w.firstSeenEmpty = Clock::now();
    auto watched = watcher_.watch(fs_, group);
    if (!watched)
        spdlog::warn("watch {}: {}", group, watched.error().message());
    workloads_[group] = w;
    return group;
}

void Governor::discardWorkloadGroup(const std::string& group) {
    watcher_.unwatch(group);
    workloads_.erase(group);
    auto removed = fs_.removeGroup(group);
    if (!removed)
        spdlog::warn("remove {}: {}", group, removed.error().message());
}

void Governor::markPopulated(const std::string& group) {
    auto it = workloads_.find(group);
    if (it != workloads_.end())
        it->second.seenPopulated = true;
}

std::string Governor::statusLine() const {
    size_t frozen = 0;
    for (const auto& [g, w] : workloads_)
        frozen += w.frozen ? 1 : 0;
    std::string s = std::to_string(policy_.classes.size()) + " classes, " +
                    std::to_string(workloads_.size()) + " workload groups";
    if (frozen)
        s += " (" + std::to_string(frozen) + " frozen)";
    if (!unenforceable_.empty()) {
        s += ", " + std::to_string(unenforceable_.size()) + " limits not enforceable here";
    }
    return s;
}

}  // namespace gov::core
