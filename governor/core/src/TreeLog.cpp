#include "gov/core/TreeLog.hpp"

#include <spdlog/spdlog.h>

namespace gov::core {

namespace {

std::string joined(const std::set<std::string>& items) {
    std::string out;
    for (const auto& i : items)
        out += (out.empty() ? "" : " ") + i;
    return out.empty() ? "none" : out;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    for (auto& c : s) {
        if (c == '\n')
            c = ',';
    }
    return s;
}

}  // namespace

void logTree(const Governor& g) {
    const auto& fs = g.fs();
    spdlog::info("tree {}: controllers available: {}", fs.rootPath(),
                 joined(g.availableControllers()));
    spdlog::info("  {}/ (the daemon)", kDaemonGroup);
    for (const auto& cls : g.policy().classes) {
        const std::string slice = sliceGroup(cls.name);
        std::string knobs;
        for (const char* f : {"memory.max", "memory.high", "pids.max", "cpu.weight", "cpu.max",
                              "cpuset.cpus", "io.max"}) {
            auto v = fs.readIfExists(slice, f);
            if (v && *v && !trimmed(**v).empty())
                knobs += std::string(" ") + f + "=" + trimmed(**v);
        }
        size_t n = 0;
        for (const auto& [group, w] : g.workloads())
            n += w.className == cls.name ? 1 : 0;
        spdlog::info("  {}/ {} workloads;{}", slice, n, knobs.empty() ? " no limit files" : knobs);
    }
    for (const auto& r : g.retiredClasses()) {
        spdlog::info("  {}/ retired class, kept until its workloads end", sliceGroup(r));
    }
    if (!g.unenforceable().empty()) {
        std::set<std::string> controllers;
        for (const auto& u : g.unenforceable())
            controllers.insert(u.controller);
        spdlog::warn("{} limits of the policy cannot be enforced here: controllers missing: {}",
                     g.unenforceable().size(), joined(controllers));
    }
}

std::string describePolicySources(const GovernorConfig& config) {
    std::string out;
    for (const auto& f : config.policyFiles)
        out += (out.empty() ? "" : ", ") + f;
    if (!config.policyDir.empty())
        out += (out.empty() ? "" : ", ") + config.policyDir + "/*.toml";
    if (out.empty()) {
        out = config.defaultPolicyFile + " and " + config.defaultPolicyDir +
              "/*.toml when they exist, else the built-in default";
    }
    return out;
}

}  // namespace gov::core
