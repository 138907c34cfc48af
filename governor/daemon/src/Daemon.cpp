#include "gov/daemon/Daemon.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>

namespace gov::daemon {

Daemon::Daemon(boost::asio::io_context& io, core::Governor& governor,
               std::chrono::milliseconds rescanInterval)
    : io_(io),
      governor_(governor),
      signals_(io, SIGHUP, SIGTERM, SIGINT),
      events_(io),
      rescanTimer_(io),
      watchdogTimer_(io),
      flushTimer_(io),
      rescanInterval_(rescanInterval) {}

void Daemon::start() {
    // The stream_descriptor owns what it is given: hand it a duplicate so the
    // watcher keeps its own fd.
    events_.assign(::dup(governor_.eventsFd()));
    armSignals();
    armEvents();
    armRescan();
    if (auto wd = notifier_.watchdogInterval()) {
        watchdogInterval_ = *wd;
        spdlog::info("systemd watchdog: pinging every {} ms", wd->count() / 1000);
        armWatchdog();
    }
    scheduleFlush();  // what Governor::start() reaped
    notifier_.ready(governor_.statusLine());
}

void Daemon::scheduleFlush() {
    if (flushArmed_ || stopping_)
        return;
    const auto due = governor_.flushDueIn();
    if (!due)
        return;
    flushArmed_ = true;
    flushTimer_.expires_after(*due);
    flushTimer_.async_wait([this](const boost::system::error_code& ec) {
        flushArmed_ = false;
        if (ec || stopping_)
            return;
        // A failed save is logged and retried with the next event or rescan.
        governor_.flushEnded();
    });
}

void Daemon::armSignals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;  // cancelled
        if (sig == SIGHUP) {
            spdlog::info("SIGHUP received: reloading the policy");
            reload();
            armSignals();
            return;
        }
        spdlog::info("{} received: stopping (workloads keep running)", strsignal(sig));
        stop();
    });
}

core::ReloadOutcome Daemon::reload() {
    notifier_.reloading();
    auto outcome = governor_.reload();
    notifier_.notify("READY=1\nSTATUS=" + std::string(outcome.applied ? "" : "reload failed; ") +
                     governor_.statusLine());
    if (onReload)
        onReload(outcome);
    return outcome;
}

void Daemon::armEvents() {
    events_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                           if (ec || stopping_)
                               return;
                           governor_.handleEvents();
                           scheduleFlush();
                           armEvents();
                       });
}

void Daemon::armRescan() {
    rescanTimer_.expires_after(rescanInterval_);
    rescanTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_)
            return;
        governor_.rescan();
        scheduleFlush();
        notifier_.status(governor_.statusLine());
        armRescan();
    });
}

void Daemon::armWatchdog() {
    notifier_.watchdog();
    watchdogTimer_.expires_after(watchdogInterval_);
    watchdogTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_)
            return;
        armWatchdog();
    });
}

void Daemon::stop() {
    if (stopping_)
        return;
    stopping_ = true;
    notifier_.stopping();
    governor_.flushEnded();
    auto saved = governor_.saveState();
    if (!saved)
        spdlog::error("save totals: {}", saved.error().message());
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    events_.cancel(ignored);
    rescanTimer_.cancel();
    watchdogTimer_.cancel();
    flushTimer_.cancel();
    if (onStop)
        onStop();
}

}  // namespace gov::daemon
