// The Asio shell around Governor: one io_context thread owns everything. Async
// sources: signals (SIGHUP reload, SIGTERM/SIGINT stop), the inotify fd of
// cgroup.events, the rescan timer and the systemd watchdog timer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

#include "gov/daemon/Governor.hpp"
#include "gov/daemon/Notify.hpp"

namespace gov::daemon {

class Daemon {
  public:
    Daemon(boost::asio::io_context& io, Governor& governor,
           std::chrono::milliseconds rescanInterval);
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Arms every source and tells the service manager we are ready.
    void start();
    // Stops cleanly: saves the totals, says STOPPING, cancels every source so
    // io_context::run() returns. Workloads keep running.
    void stop();
    // Hook run after each successful or failed reload (the D-Bus service uses it).
    std::function<void(const ReloadOutcome&)> onReload;
    // Hook run by stop(): the other sources on the loop (D-Bus, metrics) stop too.
    std::function<void()> onStop;

  private:
    void armSignals();
    void armEvents();
    void armRescan();
    void armWatchdog();
    void reload();

    boost::asio::io_context& io_;
    Governor& governor_;
    Notifier notifier_;
    boost::asio::signal_set signals_;
    boost::asio::posix::stream_descriptor events_;
    boost::asio::steady_timer rescanTimer_;
    boost::asio::steady_timer watchdogTimer_;
    std::chrono::milliseconds rescanInterval_;
    std::chrono::microseconds watchdogInterval_{0};
    bool stopping_ = false;
};

}  // namespace gov::daemon
