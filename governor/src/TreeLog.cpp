#include "gov/daemon/TreeLog.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace gov::daemon {

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

class JournalPriority : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        // spdlog levels -> syslog priorities (debug 7, info 6, warning 4, err 3, crit 2).
        static const char* kPriority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
        const char* p = kPriority[static_cast<int>(msg.level)];
        dest.append(p, p + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JournalPriority>();
    }
};

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
    if (config.policyFiles.empty() && config.policyDir.empty())
        return "built-in default";
    std::string out;
    for (const auto& f : config.policyFiles)
        out += (out.empty() ? "" : ", ") + f;
    if (!config.policyDir.empty())
        out += (out.empty() ? "" : ", ") + config.policyDir + "/*.toml";
    return out;
}

std::unique_ptr<spdlog::formatter> makeJournalFormatter() {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<JournalPriority>('*').set_pattern("%*%v");
    return f;
}

}  // namespace gov::daemon
