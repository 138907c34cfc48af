#include "gov/core/WorkloadRegistry.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>

#include "gov/core/Plan.hpp"
#include "gov/runtime/Accounting.hpp"

namespace gov::core {

namespace {

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

}  // namespace

Result<void> walkWorkloadGroups(const runtime::CgroupFs& fs, const WorkloadVisitor& workload,
                                const std::function<void(const std::string&)>& other) {
    auto children = fs.children("");
    if (!children)
        return std::move(children).error();
    for (const auto& child : *children) {
        std::string cls = classOfSlice(child);
        if (cls.empty()) {
            if (other)
                other(child);
            continue;
        }
        auto scopes = fs.children(child);
        if (!scopes)
            continue;
        for (const auto& scope : *scopes) {
            if (endsWith(scope, kScopeSuffix))
                workload(cls, child + "/" + scope);
        }
    }
    return success();
}

WorkloadRegistry::WorkloadRegistry(const runtime::CgroupFs& fs, runtime::EventsWatcher watcher,
                                   std::string stateDir, const Clock& clock, Timing timing)
    : fs_(fs),
      watcher_(std::move(watcher)),
      store_(std::move(stateDir)),
      clock_(clock),
      timing_(timing) {}

void WorkloadRegistry::loadTotals() {
    auto loaded = store_.load(clock_.wallNow());
    if (loaded.reset) {
        // Loud: the exported totals of ended workloads go back to zero (counters
        // reset, as after a first start); governance goes on regardless.
        spdlog::error("totals: {}", loaded.warning);
        totalsReset_ = true;
    } else if (!loaded.warning.empty()) {
        spdlog::warn("totals: {}", loaded.warning);
    }
    state_ = std::move(loaded.state);
    // Folded groups whose removal was confirmed after the last save are gone.
    std::erase_if(state_.pendingRemoval,
                  [&](const PendingRemoval& p) { return !fs_.exists(p.group); });
}

void WorkloadRegistry::track(const std::string& className, const std::string& group,
                             TrackOrigin origin) {
    if (workloads_.count(group))
        return;
    Workload w;
    w.className = className;
    w.group = group;
    w.cgroupId = cgroupIdOf(fs_, group);
    w.firstSeenEmpty = clock_.now();
    if (origin != TrackOrigin::Created) {
        auto events = runtime::readEvents(fs_, group);
        if (events) {
            w.seenPopulated = events->populated;
            w.frozen = events->frozen;
        }
    }
    auto watched = watcher_.watch(fs_, group);
    if (!watched) {
        spdlog::warn("watch {}: {}", group, watched.error().message());
    }
    workloads_[group] = w;
    if (origin != TrackOrigin::Created) {
        spdlog::info("{} workload group {} (class {}{})",
                     origin == TrackOrigin::Adopted ? "adopted" : "tracking", group, className,
                     w.seenPopulated ? "" : ", empty");
    }
}

void WorkloadRegistry::trackAll(TrackOrigin origin) {
    const bool adopting = origin == TrackOrigin::Adopted;
    auto walked = walkWorkloadGroups(
        fs_, [&](const std::string& cls, const std::string& group) { track(cls, group, origin); },
        [&](const std::string& child) {
            if (adopting && child != kDaemonGroup)
                spdlog::warn("{}/{} is not a class slice; left alone", fs_.rootPath(), child);
        });
    if (!walked && adopting)
        spdlog::error("list {}: {}", fs_.rootPath(), walked.error().message());
}

void WorkloadRegistry::forget(const std::string& group) {
    watcher_.unwatch(group);
    workloads_.erase(group);
}

void WorkloadRegistry::markPopulated(const std::string& group) {
    auto it = workloads_.find(group);
    if (it != workloads_.end())
        it->second.seenPopulated = true;
}

void WorkloadRegistry::markKilled(const std::string& group) {
    for (auto& [g, w] : workloads_) {
        if (g == group || g.rfind(group + "/", 0) == 0)
            w.killed = true;
    }
}

bool WorkloadRegistry::handleEvents() {
    auto changed = watcher_.drain();
    if (!changed) {
        spdlog::error("read cgroup events: {}", changed.error().message());
        return false;
    }
    return reap(*changed);
}

bool WorkloadRegistry::reapAll() {
    std::vector<std::string> all;
    for (const auto& [group, w] : workloads_)
        all.push_back(group);
    return reap(all);
}

bool WorkloadRegistry::reap(const std::vector<std::string>& groups) {
    struct Done {
        std::string group;
        std::string className;
    };
    std::vector<Done> done;
    bool changed = false;
    const auto now = clock_.now();
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
        if (!alreadyFolded && !w.seenPopulated && now - w.firstSeenEmpty < timing_.emptyGrace) {
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
                         usage->values.valueOr0(runtime::CounterId::CpuUsage),
                         usage->values.valueOr0(runtime::CounterId::MemoryPeak));
        }
        done.push_back({group, w.className});
    }
    if (done.empty())
        return false;
    dirty_ = dirty_ || changed;
    for (const auto& d : done) {
        if (std::find(ended_.begin(), ended_.end(), d.group) == ended_.end())
            ended_.push_back(d.group);
    }
    if (!flushDue_)
        flushDue_ = now + timing_.saveDelay;
    return true;
}

std::optional<std::chrono::steady_clock::duration> WorkloadRegistry::flushDueIn() const {
    if (!flushPending())
        return std::nullopt;
    if (!flushDue_)
        return timing_.saveDelay;  // pending since a failed save: a full delay again
    return std::max<std::chrono::steady_clock::duration>(*flushDue_ - clock_.now(),
                                                         std::chrono::steady_clock::duration{0});
}

bool WorkloadRegistry::flushEnded() {
    flushDue_.reset();
    // Persist the folded counters before removing any group: a crash in between
    // leaves groups in pendingRemoval, removed (not folded again) at the next start.
    if (dirty_) {
        auto saved = saveTotals();
        if (!saved) {
            spdlog::error("save totals: {}", saved.error().message());
            return false;  // keep the groups; retried at the next event or rescan
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
    return true;
}

}  // namespace gov::core
