// BusLoop: drives an sdbus-c++ connection from a Boost.Asio io_context, so the bus
// is one more async source on the daemon's one thread (no sd-bus event-loop
// thread). It waits on the connection's poll fd (readable, and writable while
// sd-bus has output queued) and on its timeout (a steady_timer), and then calls
// processPendingRequest() until it returns false, which dispatches incoming
// calls to the registered adaptors on this thread.
//
// Contract: the connection outlives the BusLoop; start() once; after code outside
// the loop has sent messages (e.g. emitted a signal from another Asio handler),
// call wake() so queued output is flushed without waiting for input.
// Thread safety: none; the io_context's thread only.
#pragma once

#include <sdbus-c++/IConnection.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>

namespace gov::daemon {

class BusLoop {
  public:
    BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection);
    ~BusLoop();
    BusLoop(const BusLoop&) = delete;
    BusLoop& operator=(const BusLoop&) = delete;

    void start();
    // Processes what is pending now and re-arms (posted: safe from any handler).
    void wake();
    // Cancels every wait; io_context::run() no longer waits on the bus.
    void stop();

  private:
    void process();
    void arm();

    boost::asio::io_context& io_;
    sdbus::IConnection& connection_;
    boost::asio::posix::stream_descriptor fd_;
    boost::asio::steady_timer timer_;
    int watchedFd_ = -1;
    // Each arm() starts a generation; handlers of older generations (cancelled or
    // raced) are ignored, so exactly one process() runs per wake-up.
    uint64_t generation_ = 0;
    bool stopped_ = false;
    bool wakePosted_ = false;
};

}  // namespace gov::daemon
