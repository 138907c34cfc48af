// The Asio shell around Governor (gov::core): one io_context thread owns everything.
// Async sources: signals (SIGHUP reload, SIGTERM/SIGINT stop), the inotify fd of
// cgroup.events, the rescan timer, the systemd watchdog timer, and the timer that
// saves the totals of ended workloads (GovernorConfig::saveDelay) off the path of
// the events themselves.
//
// Thread safety: none; the io_context's thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

#include "gov/core/Governor.hpp"
#include "gov/daemon/Notify.hpp"

namespace gov::daemon {

class Daemon {
  public:
    Daemon(boost::asio::io_context& io, core::Governor& governor,
           std::chrono::milliseconds rescanInterval);
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Arms every source and tells the service manager we are ready.
    void start();
    // Stops cleanly: saves the totals, says STOPPING, cancels every source so
    // io_context::run() returns. Workloads keep running.
    void stop();
    // Reloads the policy as SIGHUP does (RELOADING=1, then READY=1 with the new
    // status, for the service manager); the D-Bus Reload method uses it too.
    core::ReloadOutcome reload();
    // Hook run after each successful or failed reload (the D-Bus service uses it).
    std::function<void(const core::ReloadOutcome&)> onReload;
    // Hook run by stop(): the other sources on the loop (D-Bus, metrics) stop too.
    std::function<void()> onStop;

  private:
    void armSignals();
    void armEvents();
    void armRescan();
    void armWatchdog();
    // Arms the flush timer for when the governor's ended workloads are due to be
    // saved and removed (Governor::flushDueIn).
    void scheduleFlush();

    boost::asio::io_context& io_;
    core::Governor& governor_;
    Notifier notifier_;
    boost::asio::signal_set signals_;
    boost::asio::posix::stream_descriptor events_;
    boost::asio::steady_timer rescanTimer_;
    boost::asio::steady_timer watchdogTimer_;
    boost::asio::steady_timer flushTimer_;
    bool flushArmed_ = false;
    std::chrono::milliseconds rescanInterval_;
    std::chrono::microseconds watchdogInterval_{0};
    bool stopping_ = false;
};

}  // namespace gov::daemon
