// The Prometheus text exposition format (0.0.4) of metric families.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace gov::exporter {

// The text of `families`: byte for byte what prometheus::TextSerializer writes, by a
// faster writer for counter and gauge families without timestamps (what the
// collector makes); other families go through TextSerializer itself.
std::string serialize(const std::vector<prometheus::MetricFamily>& families);
// prometheus::TextSerializer's output (the reference the tests compare with).
std::string serializeWithTextSerializer(const std::vector<prometheus::MetricFamily>& families);

// The content type of that text.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace gov::exporter
