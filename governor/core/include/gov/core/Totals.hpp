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

#include <chrono>
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
// <dir>/totals.json.prev, and <dir>/totals.json.tmp while writing. Accounting
// never stops governance: a file that cannot be used is set aside (renamed, never
// deleted: StateFiles.hpp setAside) and the daemon starts with what is left.
class StateStore {
  public:
    explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

    // The saved state:
    // - totals.json;
    // - else totals.json.prev, when totals.json is missing or cannot be used (a
    //   damaged totals.json is set aside, so that the next save cannot rotate it
    //   over the good previous generation);
    // - else, when neither exists, an empty State (the first start);
    // - else (every file that exists is damaged) an empty State with `reset` set:
    //   the damaged files are set aside and the counters start from zero.
    // `warning` says what was found and done, for the log.
    struct Loaded {
        State state;
        std::string warning;
        bool reset = false;
        std::vector<std::string> setAside;  // where the damaged files went
    };
    Loaded load(std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

    // Atomically replaces totals.json with `state` (StateFiles.hpp
    // replaceFileAtomically); the current totals.json becomes totals.json.prev
    // first, but only when it is a good generation: a missing one leaves the
    // previous generation as it is, and one that no longer parses is set aside
    // instead of being rotated over it. Creates the directory.
    Result<void> save(const State& state) const;

    const std::string& dir() const { return dir_; }
    std::string path() const { return dir_ + "/totals.json"; }
    std::string previousPath() const { return path() + ".prev"; }

  private:
    std::string dir_;
};

}  // namespace gov::core
