// Value types of cgroup limits, shared by the policy compiler (which produces them),
// the runtime (which parses them back from cgroupfs) and everything that shows them.
// Plain data: no parsing of policy text, no kernel access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gov {

// A cgroup value that is either a number or "max" (no limit).
struct MaxOr {
    bool isMax = true;
    uint64_t value = 0;

    static MaxOr max() { return {}; }
    static MaxOr of(uint64_t v) { return {false, v}; }
    // The text cgroupfs expects: "max" or the decimal number.
    std::string toCgroup() const { return isMax ? "max" : std::to_string(value); }
    bool operator==(const MaxOr&) const = default;
};

// cpu.max: quota per period, in microseconds. No quota = "max".
struct CpuMax {
    std::optional<uint64_t> quotaUsec;  // nullopt: unlimited
    uint64_t periodUsec = 100000;
    // "max 100000" or "50000 100000".
    std::string toCgroup() const {
        return (quotaUsec ? std::to_string(*quotaUsec) : std::string("max")) + " " +
               std::to_string(periodUsec);
    }
    bool operator==(const CpuMax&) const = default;
};

}  // namespace gov
