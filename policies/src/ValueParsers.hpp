// Parsing one TOML value of a policy into its typed form, with a diagnostic naming
// the key path for every problem: sizes, rates, counts, weights, flags, durations,
// cpu.max, id lists, namespace and principal name lists, device names. Each parser
// returns nullopt (or what it could keep) after reporting. Internal to gov_policies.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "Diagnostics.hpp"
#include "gov/policies/Knobs.hpp"

namespace gov::policies::detail {

// cpu.max: the kernel refuses quotas below 1ms or above 2^44-1 us, periods
// outside 1ms..1s; it also refuses a quota plus burst above 2^44-1 us.
inline constexpr uint64_t kMinQuotaUsec = 1000;
inline constexpr uint64_t kMaxQuotaUsec = (1ULL << 44) - 1;
inline constexpr uint64_t kMinPeriodUsec = 1000;
inline constexpr uint64_t kMaxPeriodUsec = 1000000;
inline constexpr uint64_t kDefaultPeriodUsec = 100000;

class ValueParser {
  public:
    explicit ValueParser(DiagnosticSink& sink) : sink_(sink) {}

    // The value of a knob-table row, parsed as its kind says.
    std::optional<KnobValue> knob(const Knob& knob, const toml::node& v, const std::string& path);

    // A size in bytes or "max"; 0 is an error unless `zeroAllowed`.
    std::optional<MaxOr> size(const toml::node& v, const std::string& path, bool zeroAllowed);
    // A rate in bytes per second or "max".
    std::optional<MaxOr> rate(const toml::node& v, const std::string& path);
    // A positive integer up to `limit`, or "max". `what` names the unit ("tasks").
    std::optional<MaxOr> count(const toml::node& v, const std::string& path, uint64_t limit,
                               std::string_view what);
    // An integer from 1 to 10000.
    std::optional<uint32_t> weight(const toml::node& v, const std::string& path);
    // true or false.
    std::optional<bool> flag(const toml::node& v, const std::string& path);
    // A duration string ("100ms"), in microseconds.
    std::optional<uint64_t> duration(const toml::node& v, const std::string& path);
    // "max", "50%" or { quota, period }.
    std::optional<CpuMax> cpuMax(const toml::node& v, const std::string& path);
    // A CPU or memory-node list, canonical; ids below `limit`.
    std::optional<std::string> idList(const toml::node& v, const std::string& path, uint64_t limit,
                                      std::string_view what);
    // An array of user or group names (`what`: "user names"), each once.
    std::vector<std::string> names(const toml::node& v, const std::string& path,
                                   const std::string& what);
    // An array of namespace names, each once; sorted.
    std::vector<Namespace> namespaces(const toml::node& v, const std::string& path);

  private:
    bool checkQuota(const toml::node& v, const std::string& path, uint64_t quota);

    DiagnosticSink& sink_;
};

// A device key of io.device: "/dev/..." as is, or "MAJ:MIN" normalized to decimal
// without leading zeros; nullopt when it is neither.
std::optional<std::string> deviceName(std::string_view name);

}  // namespace gov::policies::detail
