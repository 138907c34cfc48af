// Presenting a compiled policy: a human table (sizes as "1 GiB", rates as
// "1 MB/s") and machine JSON (exact numbers in cgroup units). Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gov/policies/Compile.hpp"
#include "gov/policies/Policy.hpp"

namespace gov::govctl {

// One row per class (and one more, "NAME/workload", for a class with per-workload
// limits). Columns: CLASS, the resource columns of the knob table (always MEMORY.MAX,
// MEMORY.HIGH, MEMORY.LOW, MEMORY.MIN, PIDS.MAX, CPU.WEIGHT, CPU.MAX, CPUSET, IO; the
// column of any other knob when some class sets it), then NAMESPACES, EXEC,
// DESCRIPTION. An unset knob is "-" (kernel default: no limit). Ends with a line
// naming the sources and, when set, the admins.
std::string formatPolicyTable(const policies::Policy& policy);

// {"valid": true, "sources": [...], "admins": {...}, "classes": [{"name", "description",
//  "limits", "workload_limits", "namespaces", "exec", "control", "where"}]}. A limit
// is present only when set, under its policy key; its value is the exact number in
// cgroup units or "max" (cpu.max: {"quota_us", "period_us"}; flags: true/false; id
// lists: the canonical list; io: one object per device).
nlohmann::json policyToJson(const policies::Policy& policy);

// {"valid": false, "diagnostics": [{"file", "line", "column", "key", "message",
//  "suggestion", "text"}]}.
nlohmann::json diagnosticsToJson(const std::vector<policies::Diagnostic>& diagnostics);

// Pretty-printed, never throwing on invalid UTF-8 (replaced).
std::string dumpJson(const nlohmann::json& j);

// Cells of the table, exposed for tests: "1 GiB", "max", "-".
std::string formatSizeCell(const std::optional<policies::MaxOr>& v);
std::string formatCpuMaxCell(const std::optional<policies::CpuMax>& v);
std::string formatIoCell(const std::vector<policies::IoLimit>& io);

}  // namespace gov::govctl
