// Pure parsers of cgroup v2 control and accounting files. No I/O, no allocation
// beyond the result. Numbers are parsed with std::from_chars.
//
// Common rules (chosen so that a newer kernel does not break an older daemon, but
// a corrupt value is never mistaken for a real one):
// - unknown keys are ignored by the typed readers (Accounting.hpp); the generic
//   parsers here return every key they see;
// - a malformed number, a missing value, or a line without the expected shape is
//   an error whose reason names the line ("line 3: bad number 'x1' for key 'oom'");
// - empty text is valid and yields an empty result (except parseMax/parseCpuMax,
//   which need a value);
// - trailing newline and surrounding blanks are accepted.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gov/Limits.hpp"
#include "gov/Result.hpp"

namespace gov::runtime {

// "key value" lines: cpu.stat, memory.stat, memory.events, pids.events,
// cgroup.events, cgroup.stat and any other flat keyed file. Values are unsigned
// 64-bit integers; a repeated key keeps the last value.
using FlatKeyed = std::map<std::string, uint64_t, std::less<>>;
Result<FlatKeyed> parseFlatKeyed(std::string_view text);
// Same grammar without building a map: calls `fn(key, value)` per line, in order.
// Stops at the first malformed line and returns its error.
Result<void> forEachFlatKeyed(std::string_view text,
                              const std::function<void(std::string_view, uint64_t)>& fn);

// "max" or an unsigned number: memory.max, memory.high, memory.low, memory.min,
// memory.swap.max, pids.max.
Result<MaxOr> parseMax(std::string_view text);

// A single unsigned number: memory.current, memory.peak, pids.current, pids.peak.
Result<uint64_t> parseU64(std::string_view text);

// PSI (cpu.pressure, memory.pressure, io.pressure, cgroup-less /proc/pressure/*):
//   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
struct PressureLine {
    double avg10 = 0;
    double avg60 = 0;
    double avg300 = 0;
    uint64_t totalUsec = 0;
    bool operator==(const PressureLine&) const = default;
};
struct Pressure {
    PressureLine some;
    std::optional<PressureLine> full;  // absent for cpu on kernels before 5.13
    bool operator==(const Pressure&) const = default;
};
// "some" is required; "full" optional; each needs all four fields; other line
// kinds and extra fields are ignored.
Result<Pressure> parsePressure(std::string_view text);

// io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=.." per device,
// without a fixed set of keys: `onLine(device)` starts each line, then
// `onValue(key, value)` is called for each key for which `wanted(key)` is true (its
// value must be an unsigned integer); other keys are skipped unparsed (iocost's
// "cost.vrate=1.00" is not even an integer).
Result<void> forEachDeviceField(std::string_view text,
                                const std::function<void(std::string_view)>& onLine,
                                const std::function<bool(std::string_view)>& wanted,
                                const std::function<void(std::string_view, uint64_t)>& onValue);

// io.max: "MAJ:MIN rbps=max wbps=1048576 riops=max wiops=max" per device.
// Missing fields are "max".
struct IoMaxLine {
    std::string majMin;
    MaxOr rbps;
    MaxOr wbps;
    MaxOr riops;
    MaxOr wiops;
    bool operator==(const IoMaxLine&) const = default;
};
Result<std::vector<IoMaxLine>> parseIoMax(std::string_view text);

// cpu.max: "max 100000" or "50000 100000" (the period alone may be omitted:
// "max" -> period 100000).
Result<CpuMax> parseCpuMax(std::string_view text);

// cgroup.procs / cgroup.threads: one pid per line.
Result<std::vector<pid_t>> parsePidList(std::string_view text);

// Pure. Whether `text` is "MAJ:MIN" with two decimal numbers.
bool isMajMin(std::string_view text);

}  // namespace gov::runtime
