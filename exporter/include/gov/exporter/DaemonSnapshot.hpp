// The one place that knows the daemon: a ScrapeInput copied out of a running
// core::Governor. Built by the gov::exporter_core library, so that gov::exporter
// itself depends on no daemon code, not even gov::core (runtime, policies and the
// plain types of ScrapeInput.hpp only).
#pragma once

#include <string>

#include "gov/core/Governor.hpp"
#include "gov/exporter/ScrapeInput.hpp"

namespace gov::exporter {

// A snapshot of `governor` for one scrape, by value except its CgroupFs (which must
// outlive the snapshot). Call on the thread that owns the Governor. Classes are the
// policy's classes in policy order, then the retired ones.
ScrapeInput snapshotOf(const core::Governor& governor, std::string version);

}  // namespace gov::exporter
