// The knob table: every cgroup knob a policy can set, declared once. One row says
// the policy key, the controller, the cgroup file, the value kind, the kernel
// default, where the value lives in the compiled policy and when it is written.
// Everything else is driven from the rows: the compiler's dispatch and its
// did-you-mean suggestions, the writes that put a policy in force (CgroupWrites),
// what the daemon reads back and reports as unenforceable, the policy-limit metric
// and govctl's tables. Adding a knob is one row (policies/src/Knobs.cpp) plus its
// field in Resources and its tests.
//
// Pure data and pure functions; safe to use from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gov/policies/Policy.hpp"

namespace gov::policies {

// How a value is written in a policy, held in the compiled policy and written to
// its cgroup file.
enum class ValueKind {
    Size,          // MaxOr: "1GiB", an integer number of bytes, or "max"
    Rate,          // MaxOr: "10MB/s", an integer number of bytes per second, or "max"
    Count,         // MaxOr: a positive integer up to Knob::limit, or "max"
    Weight,        // uint32_t: an integer from 1 to 10000 (kernel default 100)
    Flag,          // bool: true or false; the file holds 1 or 0
    Duration,      // uint64_t: microseconds, written "20ms"
    CpuBandwidth,  // CpuMax: "50%", { quota, period } or "max"
    IdList,        // std::string: a canonical id list "0-3,8", ids below Knob::limit
};

// Where a row's value lives in the compiled policy: a member of Resources, or, for
// the keys of io.max lines, a member of IoLimit (one per device).
using KnobField =
    std::variant<std::optional<MaxOr> Resources::*, std::optional<uint32_t> Resources::*,
                 std::optional<bool> Resources::*, std::optional<uint64_t> Resources::*,
                 std::optional<CpuMax> Resources::*, std::optional<std::string> Resources::*,
                 std::optional<MaxOr> IoLimit::*>;

// One knob's value, whatever its kind.
using KnobValue = std::variant<MaxOr, uint32_t, bool, uint64_t, CpuMax, std::string>;

struct Knob {
    std::string_view key{};         // the policy key within a class: "memory.max"
    std::string_view controller{};  // "memory"
    std::string_view file{};        // the cgroup file: "memory.max"
    ValueKind kind = ValueKind::Size;
    KnobField field{};
    // The file's content on a new group, written when the knob is unset so that
    // removing a key from a policy really lifts the limit.
    std::string_view kernelDefault{};
    // Writes to one group go in ascending writeOrder (ties: table order); see the
    // reasons next to the rows.
    int writeOrder = 0;

    // Kind parameters.
    bool zeroAllowed = false;  // Size: 0 is a value (protections, "no swap")
    uint64_t limit = 0;        // Count: the largest value; IdList: ids are below it
    std::string_view unit{};   // Count, IdList: what is counted, for messages ("tasks")
    // Written before the value (a file that holds "default 100" is written
    // "default N", so that what is written and what is read back are the same).
    std::string_view cgroupPrefix{};
    std::string_view ioMaxKey{};  // the keys of io.max lines: "rbps", "wbps", ...

    // Written on workload groups (<class>.slice/<name>.scope) when the policy leaves
    // the knob unset; empty: the kernel default.
    std::string_view workloadDefault{};
    // A protection (memory.min, memory.low): the kernel gives a group only the
    // protection its ancestors have, and a child that sets none gets a share of its
    // parent's only with the memory_recursiveprot mount option. So the daemon's root
    // holds the sum of its classes' values, and without that option a class's value
    // is also written on each of its workload groups (see plan()).
    bool protection = false;
    // Not written while this Flag knob is set to true in the same group, and an
    // error to set together with it (the kernel refuses cpu.weight on an idle group).
    std::string_view notWhenSet{};

    // govctl's policy table: the column (empty: the key in capitals, a column of its
    // own), the label of the value within a shared column, and whether the column is
    // shown when no class sets the knob.
    std::string_view column{};
    std::string_view cellLabel{};
    bool columnAlways = false;
    // One line for docs and `govctl status`.
    std::string_view summary{};
};

// Every knob, in presentation order (docs, tables, suggestions): memory, pids, cpu,
// cpuset, io.
const std::vector<Knob>& knobs();
// The row of a policy key ("memory.max", "io.write_bps"); nullptr when there is none.
const Knob* findKnob(std::string_view key);
// The row whose cgroup file is `file` (not io.max, whose rows share it); nullptr when
// there is none.
const Knob* findKnobByFile(std::string_view file);
// True for the rows whose value is one key of io.max lines (io.read_bps, ...).
bool isIoMaxKey(const Knob& knob);
// The cgroup files of every knob, each once, in presentation order ("io.max" once).
std::vector<std::string> knobFiles();
// The resource keys of a class, in presentation order, with "io.device" (the table of
// per-device io.max keys) after the io.max keys: what suggestions are made from.
const std::vector<std::string>& resourceKeys();

// The value of `knob` in `r` / in one io.max line; nullopt when unset. The io.max
// rows have no value in Resources itself (nullopt), nor the other rows in an IoLimit.
std::optional<KnobValue> knobValue(const Knob& knob, const Resources& r);
std::optional<KnobValue> knobValue(const Knob& knob, const IoLimit& io);
// Stores `value` (of the alternative the row's kind holds) in `r` / `io`.
void setKnobValue(const Knob& knob, Resources& r, const KnobValue& value);
void setKnobValue(const Knob& knob, IoLimit& io, const KnobValue& value);
// Removes the value of `knob` from `r`.
void clearKnobValue(const Knob& knob, Resources& r);

// The value of a row's cgroup text ("1" -> true for a Flag, "max" or a number for a
// Size or Count, a number for a Weight or Duration): how a default such as the
// workload default is shown. nullopt for text that is none of these.
std::optional<KnobValue> valueOfCgroupText(const Knob& knob, std::string_view text);

// A Flag row's value is set to true in `r`.
bool flagSet(const Knob& knob, const Resources& r);

// The text written to the cgroup file: "1073741824", "max", "50000 100000", "1",
// "default 200". For io.max rows, the value of the key in the line ("1000000").
std::string cgroupText(const Knob& knob, const KnobValue& value);
// For people: "1 GiB", "10 MB/s", "max", "1000", "50%", "20ms", "true", "0-3,8".
std::string humanText(const Knob& knob, const KnobValue& value);
// For the policy-limit metric, in base units (bytes, bytes/s, IOPS, tasks, weight,
// CPUs for cpu.max, seconds, 1/0 for flags); nullopt for "max" and id lists.
std::optional<double> metricValue(const Knob& knob, const KnobValue& value);

}  // namespace gov::policies
