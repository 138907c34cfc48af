// Governor::start(): everything between the command line and the first event.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "gov/core/Ancestors.hpp"
#include "gov/core/Governor.hpp"

namespace gov::core {

namespace {

// The no-internal-processes rule: the root may only enable controllers for its
// children once no process lives in it, so the daemon lives in a leaf.
Result<void> moveIntoDaemonGroup(const runtime::CgroupFs& fs) {
    GOV_TRY(fs.makeGroup(kDaemonGroup));
    GOV_TRY(fs.moveProcess(kDaemonGroup, ::getpid()));
    // Any other process still in the root joins us: under systemd that is
    // governor-root.service's keeper, which moves itself into <root>/governord
    // too but may not have yet when this daemon starts right after it.
    auto stray = fs.processes("");
    if (!stray)
        return std::move(stray).error();
    for (pid_t pid : *stray) {
        auto moved = fs.moveProcess(kDaemonGroup, pid);
        if (moved)
            spdlog::info("moved process {} from the root into {}", pid, kDaemonGroup);
        else if (moved.error().code().value() != ESRCH)  // not gone meanwhile
            spdlog::warn("move process {} out of the root: {}", pid, moved.error().message());
    }
    return success();
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

Result<std::unique_ptr<Governor>> Governor::start(GovernorConfig config, const Clock& clock) {
    auto compiled = loadConfiguredPolicy(config);
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
        new Governor(std::move(config), clock, std::move(*fs), std::move(*watcher)));
    g->registry_.loadTotals();
    g->stats_.totalsReset = g->registry_.totalsReset();
    GOV_TRY(g->reconciler_.readAvailableControllers());
    if (g->config_.moveSelf)
        GOV_TRY(moveIntoDaemonGroup(g->fs_));

    g->stats_.lastReloadUnixSeconds = unixSeconds(clock.wallNow());
    // Adopt first, so that the plan sees the existing workload groups (their
    // per-workload limits are brought up to date too).
    g->registry_.trackAll(TrackOrigin::Adopted);
    GOV_TRY(g->applyStartPolicy(std::move(compiled)));
    // Groups that emptied while no daemon was watching are folded now.
    g->afterReap(g->registry_.reapAll());
    return g;
}

Result<void> Governor::applyStartPolicy(policies::CompileResult configured) {
    if (configured.ok()) {
        auto applied = reconciler_.applyPolicy(*configured.policy, "start");
        if (applied) {
            keepLastGood(configured.sources);
            return success();
        }
        spdlog::error("start: the configured policy failed to apply: {}",
                      applied.error().message());
    } else {
        spdlog::error("start: the configured policy is invalid:");
        for (const auto& d : configured.diagnostics)
            spdlog::error("  {}", d.format());
    }
    // Enforcement first: a bad edit pushed by config management must not leave the
    // host without governance until someone fixes it.
    stats_.policyFilesInForce = false;
    auto kept = lastGood_.load(clock_.wallNow());
    if (!kept) {
        spdlog::error("start: the last good policy cannot be used: {}", kept.error().message());
    } else if (*kept) {
        auto compiled = compileLastGood(**kept);
        if (compiled.ok()) {
            auto applied = reconciler_.applyPolicy(*compiled.policy, "start, last good policy");
            if (applied) {
                spdlog::error(
                    "start: running the last good policy ({}): the policy files are NOT in force; "
                    "fix them and reload",
                    lastGood_.path());
                return success();
            }
            spdlog::error("start: the last good policy failed to apply: {}",
                          applied.error().message());
        } else {
            spdlog::error("start: the last good policy {} no longer compiles:", lastGood_.path());
            for (const auto& d : compiled.diagnostics)
                spdlog::error("  {}", d.format());
        }
    }
    GOV_TRY(reconciler_.applyPolicy(policies::defaultPolicy(), "start, built-in default policy"));
    spdlog::error(
        "start: running the built-in default policy: the policy files are NOT in force; fix "
        "them and reload");
    return success();
}

void Governor::keepLastGood(const std::vector<policies::PolicySource>& sources) {
    auto saved = lastGood_.save(sources);
    if (!saved)
        spdlog::warn("keep the last good policy: {}", saved.error().message());
}

}  // namespace gov::core
