#include "gov/daemon/TreeLog.hpp"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

#include <cstdlib>

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

class JournalSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
  public:
    explicit JournalSink(std::string unit) : unit_(std::move(unit)) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        // spdlog levels -> syslog priorities (debug 7, info 6, warning 4, err 3, crit 2).
        static const int kPriority[] = {7, 7, 6, 4, 3, 2, 6};
        const int priority = kPriority[static_cast<int>(msg.level)];
        const auto size = static_cast<int>(msg.payload.size());
        if (unit_.empty()) {
            sd_journal_send("MESSAGE=%.*s", size, msg.payload.data(), "PRIORITY=%d", priority,
                            "SYSLOG_IDENTIFIER=governord", nullptr);
        } else {
            sd_journal_send("MESSAGE=%.*s", size, msg.payload.data(), "PRIORITY=%d", priority,
                            "SYSLOG_IDENTIFIER=governord", "OBJECT_SYSTEMD_UNIT=%s", unit_.c_str(),
                            nullptr);
        }
    }
    void flush_() override {}

  private:
    std::string unit_;
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

std::shared_ptr<spdlog::sinks::sink> makeJournalSink(const std::string& unit) {
    return std::make_shared<JournalSink>(unit);
}

std::string currentSystemdUnit() {
    char* unit = nullptr;
    if (sd_pid_get_unit(0, &unit) < 0 || !unit)
        return "";
    std::string out(unit);
    std::free(unit);
    return out;
}

}  // namespace gov::daemon
