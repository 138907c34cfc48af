#include "gov/daemon/BusLoop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <exception>

namespace gov::daemon {

BusLoop::BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection)
    : io_(io), connection_(connection), fd_(io), timer_(io) {}

BusLoop::~BusLoop() {
    stop();
}

void BusLoop::start() {
    process();
}

void BusLoop::wake() {
    if (stopped_ || wakePosted_)
        return;
    wakePosted_ = true;
    boost::asio::post(io_, [this] {
        wakePosted_ = false;
        if (!stopped_)
            process();
    });
}

void BusLoop::stop() {
    stopped_ = true;
    ++generation_;
    boost::system::error_code ignored;
    fd_.cancel(ignored);
    timer_.cancel();
}

void BusLoop::process() {
    // Handlers of the adaptors run inside processPendingRequest(). They catch
    // their own errors (sdbus turns sdbus::Error into error replies); anything
    // else must not escape into the io_context.
    try {
        while (connection_.processPendingRequest()) {
        }
    } catch (const std::exception& e) {
        // Method handlers' sdbus::Errors become error replies inside sdbus-c++;
        // what escapes is the connection itself failing (the bus went away).
        // Re-arming would spin on a dead fd: stop, the daemon keeps governing.
        spdlog::error("D-Bus: the connection failed ({}); the control API is off", e.what());
        stop();
        return;
    }
    arm();
}

void BusLoop::arm() {
    if (stopped_)
        return;
    const uint64_t gen = ++generation_;
    boost::system::error_code ignored;
    fd_.cancel(ignored);
    timer_.cancel();

    sdbus::IConnection::PollData poll{};
    try {
        poll = connection_.getEventLoopPollData();
    } catch (const std::exception& e) {
        spdlog::error("D-Bus: cannot get the connection's poll data: {}", e.what());
        return;
    }
    if (poll.fd != watchedFd_) {
        // sd-bus keeps one fd for the connection's life; a duplicate is handed to
        // Asio so that closing the descriptor never closes sd-bus's own.
        if (fd_.is_open())
            fd_.close(ignored);
        int dup = ::fcntl(poll.fd, F_DUPFD_CLOEXEC, 0);
        if (dup < 0) {
            spdlog::error("D-Bus: dup the bus fd: {}", std::strerror(errno));
            return;
        }
        fd_.assign(dup);
        watchedFd_ = poll.fd;
    }
    auto onReady = [this, gen](const boost::system::error_code& ec) {
        if (ec || gen != generation_ || stopped_)
            return;
        process();
    };
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, onReady);
    if (poll.events & POLLOUT)
        fd_.async_wait(boost::asio::posix::stream_descriptor::wait_write, onReady);
    if (auto timeout = poll.getRelativeTimeout()) {
        timer_.expires_after(*timeout);
        timer_.async_wait(onReady);
    }
}

}  // namespace gov::daemon
