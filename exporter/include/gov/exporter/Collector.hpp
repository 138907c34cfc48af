// The scrape-time collector: turns the daemon's state and the cgroup files of its
// groups into Prometheus metric families (prometheus-cpp core data, no registry).
//
// Everything is read when Prometheus scrapes (readUsage per group, one
// open+read+close per file); nothing is polled in the background. The metric
// catalogue (names, types, labels, units, source files) is docs/metrics.md.
//
// The collector does not know the daemon: it is fed a ScrapeInput, a plain view of
// what it needs (GovernorInput.hpp builds one from a running Governor; unit tests
// and the benchmark build one over a fake tree without a daemon).
//
// Thread safety: none. In governord it runs on the one io_context thread that owns
// the daemon state, which is why the HTTP endpoint is our own Asio server and not
// prometheus-cpp's Exposer (whose civetweb threads would read that state
// concurrently).
#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gov/core/Governor.hpp"
#include "gov/core/Totals.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::exporter {

// A view of the daemon for one scrape. Every pointer must stay valid for the
// duration of collect(); null pointers mean "nothing of that kind".
struct ScrapeInput {
    const runtime::CgroupFs* fs = nullptr;  // the daemon's root
    // Classes whose slice (<class>.slice) is read: the policy's, then retired ones.
    std::vector<std::string> classes;
    // Workload groups by group path ("adhoc.slice/exec-1.scope").
    const std::map<std::string, core::Workload>* workloads = nullptr;
    // Persisted totals of ended workloads, by class.
    const std::map<std::string, core::ClassTotals>* endedTotals = nullptr;
    // Controllers the root offers (cgroup.controllers of the root).
    const std::set<std::string>* availableControllers = nullptr;
    // Every controller Governor knows, for governor_controller_available (0 or 1).
    std::vector<std::string> knownControllers;
    const std::vector<core::Unenforceable>* unenforceable = nullptr;
    // The policy in force, for governor_class_policy_limit (what the policy sets,
    // whether or not this kernel can enforce it).
    const policies::Policy* policy = nullptr;
    const core::DaemonStats* stats = nullptr;
    std::string version;  // governor_build_info{version}
};

class Collector {
  public:
    using Clock = std::chrono::steady_clock;

    // The metric families of one scrape, in catalogue order; families without any
    // sample are left out. A group that disappeared while being read (reaped
    // between the listing and the read) is skipped; any other read error is
    // counted in governor_scrape_errors_total and the group is skipped.
    std::vector<prometheus::MetricFamily> collect(const ScrapeInput& input);

    // collect() serialized in the Prometheus text format 0.0.4, timed: the time of
    // this call (collect + serialize) is exported by the NEXT scrape as
    // governor_scrape_duration_seconds (a scrape cannot contain its own duration).
    std::string scrape(const ScrapeInput& input);

    // The last error message of a failed group read (for logs); empty if none.
    const std::string& lastError() const { return lastError_; }

  private:
    std::optional<double> previousScrapeSeconds_;
    uint64_t scrapeErrors_ = 0;
    std::string lastError_;
};

// The text exposition (format 0.0.4) of `families`: byte for byte what
// prometheus::TextSerializer writes, by a faster writer for counter and gauge
// families without timestamps (what the collector makes); other families go
// through TextSerializer itself.
std::string serialize(const std::vector<prometheus::MetricFamily>& families);
// prometheus::TextSerializer's output (the reference the tests compare with).
std::string serializeWithTextSerializer(const std::vector<prometheus::MetricFamily>& families);

// The content type of that text.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace gov::exporter
