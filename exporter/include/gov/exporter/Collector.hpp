// The scrape-time collector: turns a ScrapeInput (a plain snapshot of the daemon)
// and the cgroup files of its groups into Prometheus metric families
// (prometheus-cpp core data, no registry), named by the catalogue (Catalogue.hpp).
//
// Everything is read when Prometheus scrapes (runtime::readUsage per group, one
// open+read+close per file); nothing is polled in the background. The metric
// catalogue (names, types, labels, units, source files) is docs/metrics.md.
//
// Labels: a `class` label value is always one of the input's classes or a class with
// ended totals, a `group` label one of its workload groups, whatever else the input
// holds (an exec counted under a class that is none of those is counted without a
// class label; an unenforceable limit, policy limit or workload of such a class is
// left out): the number of series is bounded by what the policy and the daemon's own
// groups are, never by what callers send.
//
// Thread safety: none; one Collector per thread. collect() reads the cgroup tree
// through the input's CgroupFs and nothing else of the daemon.
#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gov/exporter/ScrapeInput.hpp"
#include "gov/exporter/TextFormat.hpp"

namespace gov::exporter {

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
    // Takes the snapshot to free it, with everything else the scrape allocated,
    // before the memory is handed back to the system.
    std::string scrape(ScrapeInput input);

    // The last error message of a failed group read (for logs); empty if none.
    const std::string& lastError() const { return lastError_; }

  private:
    std::optional<double> previousScrapeSeconds_;
    uint64_t scrapeErrors_ = 0;
    std::string lastError_;
};

}  // namespace gov::exporter
