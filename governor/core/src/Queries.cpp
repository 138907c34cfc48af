#include "gov/core/Queries.hpp"

#include <algorithm>
#include <charconv>

#include "gov/core/Authorization.hpp"
#include "gov/policies/Compile.hpp"
#include "gov/runtime/Accounting.hpp"

namespace gov::core {

namespace {

std::vector<pid_t> procsOf(const runtime::CgroupFs& fs, const std::string& group) {
    std::vector<pid_t> pids;
    auto text = fs.readIfExists(group, "cgroup.procs");
    if (!text || !*text)
        return pids;
    const std::string& s = **text;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t end = s.find('\n', pos);
        if (end == std::string::npos)
            end = s.size();
        pid_t pid = 0;
        auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + end, pid);
        if (ec == std::errc() && ptr == s.data() + end)
            pids.push_back(pid);
        pos = end + 1;
    }
    return pids;
}

// The group's workload children when it is a slice (tracked groups only).
std::vector<std::string> scopesOf(const Governor& governor, const std::string& group) {
    std::vector<std::string> scopes;
    const std::string prefix = group + "/";
    for (const auto& [g, w] : governor.workloads()) {
        if (g.rfind(prefix, 0) == 0)
            scopes.push_back(g);
    }
    return scopes;
}

Result<GroupInfo> readInfo(const Governor& governor, const std::string& group,
                           const std::string& className) {
    auto usage = runtime::readUsage(governor.fs(), group);
    if (!usage)
        return std::move(usage).error();
    GroupInfo info;
    info.group = group;
    info.className = className;
    info.frozen = usage->frozen();
    if (auto it = governor.workloads().find(group); it != governor.workloads().end())
        info.killed = it->second.killed;
    using runtime::CounterId;
    info.cpuUsageUsec = usage->values.valueOr0(CounterId::CpuUsage);
    info.memoryBytes = usage->values.valueOr0(CounterId::MemoryCurrent);
    info.ioReadBytes = usage->sumOverDevices(CounterId::IoReadBytes);
    info.ioWriteBytes = usage->sumOverDevices(CounterId::IoWriteBytes);
    if (auto tasks = usage->values.get(CounterId::TasksCurrent)) {
        info.tasks = static_cast<uint32_t>(*tasks);
    } else {
        // No pids controller (as on hybrid hosts): count the processes.
        info.tasks = static_cast<uint32_t>(groupPids(governor, group).size());
    }
    return info;
}

std::vector<std::string> classSlices(const Governor& governor) {
    std::vector<std::string> classes;
    for (const auto& c : governor.policy().classes)
        classes.push_back(c.name);
    for (const auto& r : governor.retiredClasses())
        classes.push_back(r);
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
    return classes;
}

}  // namespace

std::vector<ClassInfo> listClasses(const Governor& governor) {
    std::vector<ClassInfo> out;
    for (const auto& c : governor.policy().classes) {
        ClassInfo info;
        info.name = c.name;
        info.description = c.description;
        for (auto ns : c.namespaces)
            info.namespaces.push_back(policies::namespaceName(ns));
        for (const auto& [g, w] : governor.workloads())
            info.workloads += w.className == c.name ? 1 : 0;
        auto events = runtime::readEvents(governor.fs(), sliceGroup(c.name));
        info.frozen = events && events->frozen;
        out.push_back(std::move(info));
    }
    return out;
}

Result<std::vector<LimitPlacement>> classLimits(const Governor& governor,
                                                const std::string& className) {
    const auto* cls = governor.policy().find(className);
    if (!cls) {
        return serviceError(ServiceErrc::UnknownClass,
                            "class '" + className + "' is not in the policy in force");
    }
    return limitPlacements(*cls, governor.unenforceable(), governor.availableControllers(),
                           governor.config().memoryRecursiveProt);
}

std::vector<GroupInfo> listGroups(const Governor& governor) {
    std::vector<GroupInfo> out;
    for (const auto& cls : classSlices(governor)) {
        const std::string slice = sliceGroup(cls);
        if (auto info = readInfo(governor, slice, cls))
            out.push_back(std::move(*info));
        for (const auto& scope : scopesOf(governor, slice)) {
            if (auto info = readInfo(governor, scope, cls))
                out.push_back(std::move(*info));
        }
    }
    return out;
}

Result<std::string> classOfTarget(const Governor& governor, const std::string& target) {
    const auto& retired = governor.retiredClasses();
    if (governor.policy().find(target) ||
        std::find(retired.begin(), retired.end(), target) != retired.end()) {
        return target;
    }
    if (auto it = governor.workloads().find(target); it != governor.workloads().end())
        return it->second.className;
    // A slice named as a group ("adhoc.slice") is its class.
    std::string cls = classOfSlice(target);
    if (!cls.empty() && (governor.policy().find(cls) ||
                         std::find(retired.begin(), retired.end(), cls) != retired.end())) {
        return cls;
    }
    return serviceError(ServiceErrc::NoSuchGroup,
                        "no class or workload group named '" + target + "'");
}

Result<GroupInfo> groupInfo(const Governor& governor, const std::string& target) {
    auto cls = classOfTarget(governor, target);
    if (!cls)
        return std::move(cls).error();
    const bool isWorkload = governor.workloads().count(target) != 0;
    const std::string group = isWorkload ? target : sliceGroup(*cls);
    auto info = readInfo(governor, group, *cls);
    if (!info)
        return std::move(info).error().wrap("read the usage of " + group);
    return info;
}

std::vector<pid_t> groupPids(const Governor& governor, const std::string& group) {
    std::vector<pid_t> pids = procsOf(governor.fs(), group);
    for (const auto& scope : scopesOf(governor, group)) {
        auto more = procsOf(governor.fs(), scope);
        pids.insert(pids.end(), more.begin(), more.end());
    }
    return pids;
}

PolicyCheck checkPolicy(const std::string& text, const std::string& name) {
    PolicyCheck out;
    auto compiled = policies::compileText(text, name.empty() ? "<policy>" : name);
    out.valid = compiled.ok();
    for (const auto& d : compiled.diagnostics)
        out.diagnostics.push_back(d.format());
    return out;
}

Result<PolicyDiff> diffPolicy(const Governor& governor, const std::string& text,
                              const std::string& name) {
    PolicyDiff out;
    auto compiled = policies::compileText(text, name.empty() ? "<policy>" : name);
    if (!compiled.ok()) {
        for (const auto& d : compiled.diagnostics)
            out.diagnostics.push_back(d.format());
        return out;
    }
    out.valid = true;
    auto planned = governor.planFor(*compiled.policy);
    if (!planned)
        return std::move(planned).error();
    out.actions = std::move(planned->actions);
    for (const auto& u : planned->unenforceable) {
        out.unenforceable.push_back("class " + u.className + ": " +
                                    (u.workload ? "workload." : "") + u.key + " needs the " +
                                    u.controller + " controller, which is not available here");
    }
    return out;
}

const char* actionKindName(ActionKind kind) {
    switch (kind) {
        case ActionKind::MakeGroup:
            return "mkdir";
        case ActionKind::EnableControllers:
            return "enable";
        case ActionKind::Write:
            return "write";
        case ActionKind::RemoveGroup:
            return "rmdir";
    }
    return "?";
}

}  // namespace gov::core
