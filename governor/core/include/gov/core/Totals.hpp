// Per-class accounting of workloads that have ended, and the state file that keeps
// it across daemon restarts.
//
// When a workload group empties, the daemon reads its final counters (readUsage)
// and folds them into its class's ClassTotals before removing the group. The totals
// are persisted atomically (write a temp file, fsync, rename, fsync the directory),
// so a crash at any point leaves either the old or the new file, never a torn one;
// the previous generation is kept as a fallback against a file damaged later.
//
// Exactly-once: a folded group is recorded in `pendingRemoval` (by path and cgroup
// id) in the same atomic write as its counters, and dropped from there once its
// rmdir succeeded. A daemon that crashed between the two finds the empty group, sees
// it in pendingRemoval, and removes it without folding it twice.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/Counters.hpp"

namespace gov::core {

// Sums (counters) and maxima (peaks) over the ended workloads of one class: the
// folded rows of the counter table (runtime/Counters.hpp), which also names each
// value in totals.json. A plain runtime type so that the exporter can take it
// without depending on the core.
using ClassTotals = runtime::ClassTotals;

// A group whose counters are folded but whose rmdir is not yet confirmed.
struct PendingRemoval {
    std::string group;  // relative to the daemon's root
    uint64_t cgroupId = 0;
    bool operator==(const PendingRemoval&) const = default;
};

struct State {
    std::map<std::string, ClassTotals> classes;
    std::vector<PendingRemoval> pendingRemoval;
    bool operator==(const State&) const = default;
};

// JSON text of `state` (the format of totals.json, documented in docs/state.md) and
// back. fromJson rejects malformed text with a reason.
std::string stateToJson(const State& state);
Result<State> stateFromJson(const std::string& text);

// The state file in one directory: <dir>/totals.json, its previous generation
// <dir>/totals.json.prev, and <dir>/totals.json.tmp while writing.
class StateStore {
  public:
    explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

    // The saved state: totals.json, or totals.json.prev when totals.json is
    // missing or damaged (the damage is reported in `warning`), or an empty State
    // when neither exists. An error only when a file exists and cannot be used and
    // no fallback can (the daemon then refuses to start rather than reset counters).
    struct Loaded {
        State state;
        std::string warning;
    };
    Result<Loaded> load() const;

    // Atomically replaces totals.json with `state` (tmp + fsync + rename + fsync of
    // the directory); the old file becomes totals.json.prev. Creates the directory.
    Result<void> save(const State& state) const;

    const std::string& dir() const { return dir_; }
    std::string path() const { return dir_ + "/totals.json"; }

  private:
    std::string dir_;
};

}  // namespace gov::core
