// What callers do to groups: freeze, thaw and kill a class or a workload group, and
// the workload groups made for exec.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>

#include "gov/core/Governor.hpp"
#include "gov/runtime/Freezer.hpp"

namespace gov::core {

namespace {

struct ControlVerbs {
    ControlAction action;
    const char* verb;  // "freeze": refusals, the D-Bus service
    const char* done;  // "froze": the log line once it is done
};
constexpr ControlVerbs kControlVerbs[] = {
    {ControlAction::Freeze, "freeze", "froze"},
    {ControlAction::Thaw, "thaw", "thawed"},
    {ControlAction::Kill, "kill", "killed"},
};

const ControlVerbs& verbsOf(ControlAction action) {
    for (const auto& v : kControlVerbs) {
        if (v.action == action)
            return v;
    }
    return kControlVerbs[0];  // unreachable: every action has a row
}

}  // namespace

const char* controlVerb(ControlAction action) {
    return verbsOf(action).verb;
}

Result<std::string> Governor::resolveTarget(const std::string& target) const {
    if (target.empty() || target == kDaemonGroup || target.find("..") != std::string::npos ||
        target.front() == '/') {
        return Error::withReason("target '" + target + "'", "not a class or workload group");
    }
    if (policy().find(target) || reconciler_.isRetired(target))
        return sliceGroup(target);
    if (workloads().count(target))
        return target;
    return Error::withReason("target '" + target + "'", "no such class or workload group",
                             std::errc::no_such_file_or_directory);
}

Result<void> Governor::control(ControlAction action, const std::string& target) {
    auto group = resolveTarget(target);
    if (!group)
        return std::move(group).error();
    switch (action) {
        case ControlAction::Freeze:
            GOV_TRY(runtime::freeze(fs_, *group, config_.freezeTimeout));
            break;
        case ControlAction::Thaw:
            GOV_TRY(runtime::thaw(fs_, *group, config_.freezeTimeout));
            break;
        case ControlAction::Kill:
            GOV_TRY(runtime::kill(fs_, *group));
            registry_.markKilled(*group);
            break;
    }
    spdlog::info("{} {}", verbsOf(action).done, *group);
    return success();
}

Result<std::string> Governor::createWorkloadGroup(const std::string& className,
                                                  const std::string& nameHint) {
    const auto* cls = policy().find(className);
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
    GOV_TRY(reconciler_.makeWorkloadGroup(*cls, group));
    registry_.track(className, group, TrackOrigin::Created);
    return group;
}

void Governor::discardWorkloadGroup(const std::string& group) {
    registry_.forget(group);
    auto removed = fs_.removeGroup(group);
    if (!removed)
        spdlog::warn("remove {}: {}", group, removed.error().message());
}

}  // namespace gov::core
