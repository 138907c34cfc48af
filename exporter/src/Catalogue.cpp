#include "gov/exporter/Catalogue.hpp"

#include <array>

namespace gov::exporter {

namespace {

using runtime::kCounters;

prometheus::MetricType typeOf(runtime::ExportType type) {
    return type == runtime::ExportType::Counter ? prometheus::MetricType::Counter
                                                : prometheus::MetricType::Gauge;
}

prometheus::MetricFamily family(std::string name, const char* help, prometheus::MetricType type) {
    prometheus::MetricFamily f;
    f.name = std::move(name);
    f.help = help;
    f.type = type;
    return f;
}

std::array<size_t, runtime::kCounterCount> makeEndedIndex() {
    std::array<size_t, runtime::kCounterCount> out{};
    size_t next = 1;  // 0 is kEndedWorkloads
    for (const auto& row : kCounters) {
        if (row.fold != runtime::Fold::None)
            out[runtime::index(row.id)] = next++;
    }
    return out;
}

}  // namespace

prometheus::MetricFamily makeFamily(const FamilySpec& spec) {
    return family(spec.name, spec.help, spec.type);
}

std::vector<prometheus::MetricFamily> usageFamilies(const char* prefix) {
    std::vector<prometheus::MetricFamily> out;
    out.reserve(runtime::kCounterCount);
    for (const auto& row : kCounters)
        out.push_back(family(std::string(prefix) + row.metric, row.help, typeOf(row.type)));
    return out;
}

std::vector<prometheus::MetricFamily> endedFamilies() {
    std::vector<prometheus::MetricFamily> out;
    out.push_back(makeFamily(catalogue::kEndedWorkloads));
    for (const auto& row : kCounters) {
        if (row.fold == runtime::Fold::None)
            continue;
        // A Max row (a peak) is a gauge whatever its live type; a Sum only grows.
        out.push_back(family(std::string(catalogue::kEndedPrefix) + row.metric, row.endedHelp,
                             row.fold == runtime::Fold::Sum ? prometheus::MetricType::Counter
                                                            : prometheus::MetricType::Gauge));
    }
    return out;
}

size_t endedFamilyIndex(runtime::CounterId id) {
    static const auto index = makeEndedIndex();
    return index[runtime::index(id)];
}

std::vector<std::string> allFamilyNames() {
    std::vector<std::string> names;
    using namespace catalogue;
    for (const auto* spec : {&kBuildInfo, &kControllerAvailable, &kLimitUnenforceable,
                             &kClassPolicyLimit, &kPolicyReloads, &kPolicyLastReloadTimestamp,
                             &kPolicyLastReloadSuccess, &kExecs, &kGroupsManaged}) {
        names.emplace_back(spec->name);
    }
    for (const auto& f : usageFamilies(kClassPrefix))
        names.push_back(f.name);
    for (const auto& f : endedFamilies())
        names.push_back(f.name);
    for (const auto& f : usageFamilies(kGroupPrefix))
        names.push_back(f.name);
    names.emplace_back(kScrapeDuration.name);
    names.emplace_back(kScrapeErrors.name);
    return names;
}

}  // namespace gov::exporter
