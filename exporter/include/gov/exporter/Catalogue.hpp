// The metric catalogue: the name, type and help of every family the exporter serves.
// The daemon's self-metrics are declared here; the usage families come from the
// counter table (runtime/Counters.hpp), one per row, under three prefixes:
//   governor_group_<metric>{class,group}   a workload group
//   governor_class_<metric>{class}         a class slice (hierarchical counters)
//   governor_class_ended_<metric>{class}   ended workloads' persisted totals (folded
//                                          rows only, after workloads_total)
// docs/metrics.md documents every name (a unit test checks that it does).
#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <string>
#include <vector>

#include "gov/runtime/Counters.hpp"

namespace gov::exporter {

struct FamilySpec {
    const char* name;
    prometheus::MetricType type;
    const char* help;
};

namespace catalogue {

using prometheus::MetricType;

inline constexpr FamilySpec kBuildInfo{"governor_build_info", MetricType::Gauge,
                                       "Always 1; the version is a label."};
inline constexpr FamilySpec kControllerAvailable{
    "governor_controller_available", MetricType::Gauge,
    "1 when the cgroup v2 controller is available to the daemon's root (cgroup.controllers), 0 "
    "when limits that need it cannot be enforced."};
inline constexpr FamilySpec kLimitUnenforceable{
    "governor_limit_unenforceable", MetricType::Gauge,
    "1 for each policy limit that cannot be enforced because its controller is missing."};
inline constexpr FamilySpec kClassPolicyLimit{
    "governor_class_policy_limit", MetricType::Gauge,
    "The limit the policy in force sets on a class (bytes, bytes/s, IOPS, tasks, weight, or CPUs "
    "for cpu.max), whether or not this kernel can enforce it; no series for a limit that is "
    "unset or \"max\"."};
inline constexpr FamilySpec kPolicyReloads{"governor_policy_reloads_total", MetricType::Counter,
                                           "Policy reloads by outcome (applied, invalid, failed)."};
inline constexpr FamilySpec kPolicyLastReloadTimestamp{
    "governor_policy_last_reload_timestamp_seconds", MetricType::Gauge,
    "Unix time of the last reload attempt (or of the start)."};
inline constexpr FamilySpec kPolicyLastReloadSuccess{"governor_policy_last_reload_success",
                                                     MetricType::Gauge,
                                                     "1 when the last reload attempt was applied."};
inline constexpr FamilySpec kExecs{"governor_execs_total", MetricType::Counter,
                                   "Exec requests by class and outcome."};
inline constexpr FamilySpec kGroupsManaged{
    "governor_groups_managed", MetricType::Gauge,
    "Workload groups the daemon currently tracks, by class."};
inline constexpr FamilySpec kEndedWorkloads{
    "governor_class_ended_workloads_total", MetricType::Counter,
    "Workload groups of the class that ended and were removed."};
inline constexpr FamilySpec kScrapeDuration{
    "governor_scrape_duration_seconds", MetricType::Gauge,
    "Duration of the previous scrape of this endpoint (collect and serialize); absent on the "
    "first scrape."};
inline constexpr FamilySpec kScrapeErrors{
    "governor_scrape_errors_total", MetricType::Counter,
    "Group reads that failed during scrapes (other than groups that disappeared while being "
    "read)."};

inline constexpr const char* kGroupPrefix = "governor_group_";
inline constexpr const char* kClassPrefix = "governor_class_";
inline constexpr const char* kEndedPrefix = "governor_class_ended_";

}  // namespace catalogue

// An empty family of `spec`.
prometheus::MetricFamily makeFamily(const FamilySpec& spec);

// One empty family per row of the counter table, indexed by CounterId, named
// `prefix` + the row's metric (kGroupPrefix or kClassPrefix).
std::vector<prometheus::MetricFamily> usageFamilies(const char* prefix);

// The ended-workload families: kEndedWorkloads first, then one per folded row of the
// counter table in table order. endedFamilyIndex(id) is a row's position in it (0 for
// a row that is not folded).
std::vector<prometheus::MetricFamily> endedFamilies();
size_t endedFamilyIndex(runtime::CounterId id);

// Every family name the exporter can serve, in exposition order.
std::vector<std::string> allFamilyNames();

}  // namespace gov::exporter
