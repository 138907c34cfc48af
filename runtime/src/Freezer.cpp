#include "gov/runtime/Freezer.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "gov/runtime/Accounting.hpp"
#include "gov/runtime/Fd.hpp"

namespace gov::runtime {
namespace {

using Clock = std::chrono::steady_clock;

std::string ms(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}

}  // namespace

Result<bool> waitForEvent(const CgroupFs& fs, const std::string& group, const std::string& key,
                          uint64_t value, std::chrono::milliseconds timeout) {
    const std::string context =
        "wait for " + key + " " + std::to_string(value) + " in " + groupDisplayName(group);
    // The watch is set up before the first read: a change between the read and the
    // poll then still wakes us up.
    Fd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!in.valid()) {
        return Error::fromErrno(context + ": inotify_init1");
    }
    const std::string path = fs.absolute(group) + "/cgroup.events";
    if (::inotify_add_watch(in.get(), path.c_str(), IN_MODIFY) < 0) {
        return Error::fromErrno(context + ": watch " + path);
    }
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto text = fs.read(group, "cgroup.events");
        if (!text) {
            return std::move(text).error();
        }
        auto kv = parseFlatKeyed(*text);
        if (!kv) {
            return std::move(kv).error().wrap("parse cgroup.events in " + groupDisplayName(group));
        }
        auto it = kv->find(key);
        if (it != kv->end() && it->second == value) {
            return true;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd pfd{in.get(), POLLIN, 0};
        int n = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
        if (n < 0 && errno != EINTR) {
            return Error::fromErrno(context + ": poll");
        }
        if (n > 0) {
            // Only the wake-up matters; the state is re-read from the file.
            char buf[4096];
            while (::read(in.get(), buf, sizeof buf) > 0) {
            }
        }
    }
}

Result<void> freeze(const CgroupFs& fs, const std::string& group,
                    std::chrono::milliseconds timeout) {
    const std::string context = "freeze " + groupDisplayName(group);
    auto w = fs.write(group, "cgroup.freeze", "1");
    if (!w) {
        return std::move(w).error().wrap(context);
    }
    // Freezing is asynchronous: tasks stop at their next return to user space, and a
    // task in an uninterruptible sleep (D state, e.g. stuck NFS I/O) may never get
    // there. Waiting with a timeout and undoing a failed freeze keeps the group
    // from being left half-frozen, which would hang its processes for nothing.
    auto done = waitForEvent(fs, group, "frozen", 1, timeout);
    if (done && *done) {
        return success();
    }
    auto undo = fs.write(group, "cgroup.freeze", "0");
    std::string why = done ? "not frozen after " + ms(timeout) : done.error().message();
    std::string undone =
        undo ? " (freeze undone)" : " (undo failed: " + undo.error().message() + ")";
    return Error::withReason(context, why + undone, std::errc::timed_out);
}

Result<void> thaw(const CgroupFs& fs, const std::string& group, std::chrono::milliseconds timeout) {
    const std::string context = "thaw " + groupDisplayName(group);
    auto w = fs.write(group, "cgroup.freeze", "0");
    if (!w) {
        return std::move(w).error().wrap(context);
    }
    auto done = waitForEvent(fs, group, "frozen", 0, timeout);
    if (!done) {
        return std::move(done).error().wrap(context);
    }
    if (!*done) {
        return Error::withReason(context, "still frozen after " + ms(timeout),
                                 std::errc::timed_out);
    }
    return success();
}

Result<void> kill(const CgroupFs& fs, const std::string& group,
                  std::chrono::milliseconds waitEmpty) {
    const std::string context = "kill " + groupDisplayName(group);
    // cgroup.kill sends SIGKILL to the whole subtree atomically with respect to
    // fork (new children are killed too), so no freeze is needed first; callers on
    // kernels without cgroup.kill would have to freeze, signal each pid, then thaw,
    // and must always thaw on every exit path since SIGKILL is only delivered to
    // thawed tasks.
    auto w = fs.write(group, "cgroup.kill", "1");
    if (!w) {
        return std::move(w).error().wrap(context);
    }
    if (waitEmpty.count() <= 0) {
        return success();
    }
    auto done = waitForEvent(fs, group, "populated", 0, waitEmpty);
    if (!done) {
        return std::move(done).error().wrap(context);
    }
    if (!*done) {
        return Error::withReason(context, "still populated after " + ms(waitEmpty),
                                 std::errc::timed_out);
    }
    return success();
}

}  // namespace gov::runtime
