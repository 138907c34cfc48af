// Parsing and printing of the policy language's quantities: sizes, rates,
// durations, CPU percentages and CPU/memory-node lists. Pure functions; every
// error's reason() is a sentence fit for a policy diagnostic ("unknown unit 'Gb'
// ...").
//
// The rules (docs/policy.md, "Units"):
// - A size is "<number><unit>" with at most one space between number and unit.
//   Units are case-sensitive: B; KB, MB, GB, TB (1000-based); KiB, MiB, GiB, TiB
//   (1024-based). The number is decimal digits with an optional fraction
//   ("1.5GiB"), allowed only when the result is a whole number of bytes.
// - A rate is a size followed by "/s" ("10MB/s" = 10000000 bytes per second).
// - A duration is "<number><unit>" with unit us, ms or s, a whole number of
//   microseconds.
// - A CPU percentage is "<number>%", percent of one CPU.
// - Every value must be at most kMaxValue (2^63 - 1), the largest number the
//   kernel's control files accept for these knobs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gov/Result.hpp"

namespace gov::policies {

inline constexpr uint64_t kMaxValue = 9223372036854775807ULL;  // INT64_MAX

// "1GiB" -> 1073741824. "max" is not a size (callers handle it).
Result<uint64_t> parseSize(std::string_view text);
// "10MB/s" -> 10000000 (bytes per second).
Result<uint64_t> parseRate(std::string_view text);
// "20ms" -> 20000 (microseconds).
Result<uint64_t> parseDurationUsec(std::string_view text);
// "50%" -> 50000: the cpu.max quota in microseconds per 100 ms period. The result
// is a whole number of microseconds; "12.5%" is 12500.
Result<uint64_t> parseCpuPercentQuotaUsec(std::string_view text);

// A cpuset list ("0-3,8", "3,1-2") -> its canonical form: ids sorted, adjacent
// and overlapping ranges merged ("1-3,8"). Every id must be below `limit`.
Result<std::string> normalizeIdList(std::string_view text, uint32_t limit);

// Human-friendly: the largest unit that divides the value exactly, preferring the
// smaller number, 1024-based on a tie: 1073741824 -> "1 GiB", 1000000 -> "1 MB",
// 1500 -> "1500 B".
std::string formatBytes(uint64_t bytes);
// formatBytes + "/s".
std::string formatRate(uint64_t bytesPerSecond);
// 20000 -> "20ms", 1500 -> "1500us", 1000000 -> "1s".
std::string formatDurationUsec(uint64_t usec);

}  // namespace gov::policies
