// Builds the collector's ScrapeInput from a running Governor.
#pragma once

#include <string>

#include "gov/core/Governor.hpp"
#include "gov/exporter/Collector.hpp"

namespace gov::exporter {

// A view of `governor` (which must outlive the returned input and not change while
// it is used: call on the daemon's thread, scrape, drop it). Classes are the
// policy's classes in policy order, then the retired ones.
ScrapeInput inputFrom(const core::Governor& governor, std::string version);

}  // namespace gov::exporter
