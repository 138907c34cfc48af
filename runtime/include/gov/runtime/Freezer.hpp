// Freezing, thawing and killing a group through cgroup.freeze / cgroup.kill, and
// waiting for the kernel to report the new state in cgroup.events.
//
// Waiting uses inotify on cgroup.events (the kernel signals a modification of that
// file whenever populated/frozen change), re-reading the file after each event and
// once before sleeping, so no transition is missed. Timeouts are wall-clock
// (CLOCK_MONOTONIC). Thread safety: free functions, no shared state.
#pragma once

#include <chrono>
#include <string>

#include "gov/Result.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::runtime {

// Writes cgroup.freeze=1 and waits until cgroup.events says "frozen 1". On timeout
// or any error after the write it writes cgroup.freeze=0 (a half-frozen group is
// worse than a running one) and returns an error saying so, e.g.
// "freeze adhoc.slice/x.scope: not frozen after 100 ms (freeze undone)".
Result<void> freeze(const CgroupFs& fs, const std::string& group,
                    std::chrono::milliseconds timeout);

// Writes cgroup.freeze=0 and waits until "frozen 0" (or the timeout: an error).
Result<void> thaw(const CgroupFs& fs, const std::string& group, std::chrono::milliseconds timeout);

// Writes cgroup.kill=1 (SIGKILL to every process of the subtree, atomically with
// respect to forks). With a non-zero `waitEmpty`, then waits until "populated 0";
// still populated at the timeout is an error. A group that was killed should not
// be reused for new processes (see kernel-facts: some kernels SIGKILL children
// cloned into it afterwards).
Result<void> kill(const CgroupFs& fs, const std::string& group,
                  std::chrono::milliseconds waitEmpty = std::chrono::milliseconds(0));

// Waits until cgroup.events has `key` equal to `value` ("frozen", 1), for at most
// `timeout`. Returns true when reached, false on timeout.
Result<bool> waitForEvent(const CgroupFs& fs, const std::string& group, const std::string& key,
                          uint64_t value, std::chrono::milliseconds timeout);

}  // namespace gov::runtime
