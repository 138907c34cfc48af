#include "gov/runtime/EventsWatcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace gov::runtime {

Result<EventsWatcher> EventsWatcher::create() {
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) {
        return Error::fromErrno("create cgroup.events watcher: inotify_init1");
    }
    return EventsWatcher(Fd(fd));
}

Result<void> EventsWatcher::watch(const CgroupFs& fs, const std::string& group) {
    if (!isValidGroupPath(group)) {
        return Error::withReason("watch cgroup.events in " + group, "invalid group path");
    }
    const std::string path = fs.absolute(group) + "/cgroup.events";
    int wd = ::inotify_add_watch(fd_.get(), path.c_str(), IN_MODIFY);
    if (wd < 0) {
        return Error::fromErrno("watch cgroup.events in " + groupDisplayName(group));
    }
    // inotify returns the same wd for the same inode: a re-watch, or a group
    // watched under two names (the later name wins).
    if (auto old = byWd_.find(wd); old != byWd_.end() && old->second != group) {
        byGroup_.erase(old->second);
    }
    if (auto old = byGroup_.find(group); old != byGroup_.end() && old->second != wd) {
        // Same name, new inode (the group was removed and recreated).
        ::inotify_rm_watch(fd_.get(), old->second);
        byWd_.erase(old->second);
    }
    byWd_[wd] = group;
    byGroup_[group] = wd;
    return success();
}

void EventsWatcher::unwatch(const std::string& group) {
    auto it = byGroup_.find(group);
    if (it == byGroup_.end()) {
        return;
    }
    ::inotify_rm_watch(fd_.get(), it->second);  // fails harmlessly if already gone
    byWd_.erase(it->second);
    byGroup_.erase(it);
}

std::vector<std::string> EventsWatcher::pruneMissing(const CgroupFs& fs) {
    std::vector<std::string> gone;
    for (const auto& [group, wd] : byGroup_) {
        if (!fs.exists(group)) {
            gone.push_back(group);
        }
    }
    for (const auto& group : gone) {
        unwatch(group);
    }
    return gone;
}

std::vector<std::string> EventsWatcher::watched() const {
    std::vector<std::string> out;
    out.reserve(byGroup_.size());
    for (const auto& [group, wd] : byGroup_) {
        out.push_back(group);
    }
    return out;
}

Result<std::vector<std::string>> EventsWatcher::drain() {
    std::vector<std::string> changed;
    auto note = [&](const std::string& group) {
        if (std::find(changed.begin(), changed.end(), group) == changed.end()) {
            changed.push_back(group);
        }
    };
    alignas(inotify_event) char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                break;
            }
            return Error::fromErrno("read cgroup.events watcher");
        }
        if (n == 0) {
            break;
        }
        for (ssize_t off = 0; off < n;) {
            inotify_event ev;
            std::memcpy(&ev, buf + off, sizeof ev);
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev.len);
            if ((ev.mask & IN_Q_OVERFLOW) != 0) {
                // Events were lost: every watched group may have changed.
                for (const auto& [group, wd] : byGroup_) {
                    note(group);
                }
                continue;
            }
            auto it = byWd_.find(ev.wd);
            if (it == byWd_.end()) {
                continue;  // a watch removed by unwatch() with events still queued
            }
            note(it->second);
            if ((ev.mask & IN_IGNORED) != 0) {
                // The file is gone (group removed): the kernel dropped the watch.
                byGroup_.erase(it->second);
                byWd_.erase(it);
            }
        }
    }
    return changed;
}

}  // namespace gov::runtime
