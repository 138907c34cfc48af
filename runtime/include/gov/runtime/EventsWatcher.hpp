// EventsWatcher: one inotify instance watching the cgroup.events file of many
// groups (IN_MODIFY), so the daemon learns when a group empties (populated 0) or
// freezes without polling. The daemon puts fd() on its Asio loop; when it is
// readable, drain() says which groups changed and the daemon re-reads their
// cgroup.events (events coalesce: a name in drain() means "changed at least once").
//
// Thread safety: none; owned by the daemon's loop thread. Move-only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/Fd.hpp"

namespace gov::runtime {

class EventsWatcher {
  public:
    // A non-blocking, close-on-exec inotify instance.
    static Result<EventsWatcher> create();

    // The inotify fd: readable when some watched cgroup.events changed.
    int fd() const { return fd_.get(); }

    // Starts watching `group`'s cgroup.events (group names are as passed here and
    // come back verbatim from drain()). Watching a group twice is harmless. A
    // missing group is an error.
    Result<void> watch(const CgroupFs& fs, const std::string& group);
    // Stops watching `group` (unknown groups are ignored). Call it when removing a
    // group: on cgroupfs the kernel does NOT drop the watch on rmdir (no IN_IGNORED
    // seen on 6.18; the watch keeps the kernfs inode alive), so a watch on a removed
    // group stays until unwatch(), pruneMissing() or the watcher's destruction.
    void unwatch(const std::string& group);
    // Unwatches every watched group that no longer exists in `fs`; returns them.
    std::vector<std::string> pruneMissing(const CgroupFs& fs);
    // The groups watched now, sorted.
    std::vector<std::string> watched() const;

    // Reads every pending inotify event without blocking and returns the watched
    // groups whose cgroup.events changed, each once, in first-seen order. If the
    // kernel drops a watch (IN_IGNORED: the file is gone, on filesystems that report
    // it) the group is reported once more and then forgotten. On inotify queue
    // overflow every watched group is reported. No pending event -> empty vector.
    Result<std::vector<std::string>> drain();

  private:
    explicit EventsWatcher(Fd fd) : fd_(std::move(fd)) {}

    Fd fd_;
    std::map<int, std::string> byWd_;
    std::map<std::string, int> byGroup_;
};

}  // namespace gov::runtime
