#include "gov/daemon/JournalSink.hpp"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

#include <cstdlib>

namespace gov::daemon {

namespace {

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
