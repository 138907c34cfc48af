#include "gov/exporter/Collector.hpp"

#include <malloc.h>

#include <bitset>
#include <set>
#include <string_view>
#include <system_error>

#include "gov/exporter/Catalogue.hpp"
#include "gov/runtime/Accounting.hpp"

namespace gov::exporter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using runtime::CounterId;
using runtime::CounterSource;
using runtime::kCounters;
using Labels = std::vector<ClientMetric::Label>;

double num(uint64_t v) {
    return static_cast<double>(v);
}

double exported(const runtime::CounterSpec& row, uint64_t v) {
    return row.scale == runtime::Scale::MicrosToSecs ? static_cast<double>(v) / 1e6 : num(v);
}

void add(MetricFamily& f, Labels labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) {
        m.counter.value = value;
    } else {
        m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
}

Labels withDevice(const Labels& labels, const std::string& device) {
    Labels out = labels;
    out.push_back({"device", device});
    return out;
}

// The files seen on some group of this scrape, by counter row (gates the ended
// totals of EndedGate::FileSeen rows: no pressure files, no pressure series).
using FilesSeen = std::bitset<runtime::kCounterCount>;

// Appends one group's counters to the usage families `fams` (one per row).
void appendUsage(std::vector<MetricFamily>& fams, const Labels& labels,
                 const runtime::GroupUsage& u) {
    for (const auto& row : kCounters) {
        auto& f = fams[runtime::index(row.id)];
        if (row.source == CounterSource::PerDevice) {
            for (const auto& d : u.devices) {
                if (auto v = d.values.get(row.id))
                    add(f, withDevice(labels, d.device), exported(row, *v));
            }
        } else if (auto v = u.values.get(row.id)) {
            add(f, labels, exported(row, *v));
        }
    }
}

// Appends one class's ended totals to `fams` (endedFamilies()).
void appendEnded(std::vector<MetricFamily>& fams, const Labels& labels,
                 const runtime::ClassTotals& t, const std::set<std::string>& available,
                 const FilesSeen& seen) {
    add(fams[0], labels, num(t.workloadsEnded));
    for (const auto& row : kCounters) {
        if (row.fold == runtime::Fold::None)
            continue;
        switch (row.endedGate) {
            case runtime::EndedGate::Always:
                break;
            case runtime::EndedGate::Controller:
                if (!available.count(row.controller))
                    continue;
                break;
            case runtime::EndedGate::FileSeen:
                if (!seen.test(runtime::index(row.id)))
                    continue;
                break;
        }
        auto& f = fams[endedFamilyIndex(row.id)];
        if (row.source == CounterSource::PerDevice) {
            for (const auto& [device, values] : t.devices)
                add(f, withDevice(labels, device), exported(row, values[runtime::index(row.id)]));
        } else {
            add(f, labels, exported(row, t[row.id]));
        }
    }
}

bool isGone(const Error& e) {
    return e.code() == std::errc::no_such_file_or_directory ||
           e.code() == std::errc::no_such_device;
}

}  // namespace

std::vector<MetricFamily> Collector::collect(const ScrapeInput& in) {
    namespace cat = catalogue;

    // The only class label values this scrape may carry.
    std::set<std::string_view> known;
    for (const auto& c : in.classes)
        known.insert(c.name);
    for (const auto& [c, t] : in.endedTotals)
        known.insert(c);
    auto isKnown = [&](const std::string& c) { return known.count(c) > 0; };

    // Daemon self-metrics.
    auto buildInfo = makeFamily(cat::kBuildInfo);
    add(buildInfo, {{"version", in.version}}, 1);
    auto controllerAvailable = makeFamily(cat::kControllerAvailable);
    for (const auto& c : in.knownControllers) {
        add(controllerAvailable, {{"controller", c}}, in.availableControllers.count(c) ? 1 : 0);
    }
    auto unenforceable = makeFamily(cat::kLimitUnenforceable);
    for (const auto& u : in.unenforceable) {
        if (isKnown(u.className))
            add(unenforceable,
                {{"class", u.className}, {"key", u.key}, {"controller", u.controller}}, 1);
    }
    auto policyLimit = makeFamily(cat::kClassPolicyLimit);
    for (const auto& l : in.policyLimits) {
        if (!isKnown(l.className))
            continue;
        Labels labels = {{"class", l.className}, {"key", l.key}};
        if (!l.device.empty())
            labels.push_back({"device", l.device});
        add(policyLimit, std::move(labels), l.value);
    }
    auto reloads = makeFamily(cat::kPolicyReloads);
    auto lastReload = makeFamily(cat::kPolicyLastReloadTimestamp);
    auto lastReloadOk = makeFamily(cat::kPolicyLastReloadSuccess);
    auto execs = makeFamily(cat::kExecs);
    if (in.daemon) {
        const auto& d = *in.daemon;
        add(reloads, {{"outcome", "applied"}}, num(d.reloadsApplied));
        add(reloads, {{"outcome", "invalid"}}, num(d.reloadsInvalid));
        add(reloads, {{"outcome", "failed"}}, num(d.reloadsFailed));
        add(lastReload, {}, d.lastReloadUnixSeconds);
        add(lastReloadOk, {}, d.lastReloadOk ? 1 : 0);
        // Execs naming a class this daemon does not have are one series per outcome
        // without a class label: their class names are what callers typed.
        std::map<std::string, uint64_t> unknown;
        for (const auto& [key, count] : d.execs) {
            if (!isKnown(key.first))
                unknown[key.second] += count;
        }
        for (const auto& [outcome, count] : unknown)
            add(execs, {{"outcome", outcome}}, num(count));
        for (const auto& [key, count] : d.execs) {
            if (isKnown(key.first))
                add(execs, {{"class", key.first}, {"outcome", key.second}}, num(count));
        }
    }
    auto managed = makeFamily(cat::kGroupsManaged);
    std::map<std::string, uint64_t> perClass;
    for (const auto& c : in.classes) {
        perClass[c.name] = 0;
    }
    for (const auto& w : in.workloads) {
        if (isKnown(w.className))
            ++perClass[w.className];
    }
    for (const auto& [c, n] : perClass) {
        add(managed, {{"class", c}}, num(n));
    }

    FilesSeen seen;
    auto readGroup = [&](const std::string& group) -> std::optional<runtime::GroupUsage> {
        auto usage = runtime::readUsage(*in.fs, group);
        if (!usage) {
            if (!isGone(usage.error())) {
                ++scrapeErrors_;
                lastError_ = usage.error().message();
            }
            return std::nullopt;
        }
        seen |= usage->filesRead;
        return std::move(*usage);
    };

    // Class slices: the live class-wide numbers (the kernel's hierarchical
    // counters include children that already ended while the slice exists).
    auto classFams = usageFamilies(cat::kClassPrefix);
    if (in.fs) {
        for (const auto& c : in.classes) {
            if (auto u = readGroup(c.group)) {
                appendUsage(classFams, {{"class", c.name}}, *u);
            }
        }
    }

    // Workload groups.
    auto groupFams = usageFamilies(cat::kGroupPrefix);
    for (auto& f : groupFams) {
        f.metric.reserve(in.workloads.size());
    }
    if (in.fs) {
        for (const auto& w : in.workloads) {
            if (!isKnown(w.className))
                continue;
            if (auto u = readGroup(w.group)) {
                appendUsage(groupFams, {{"class", w.className}, {"group", w.group}}, *u);
            }
        }
    }

    // Ended workloads: every class with persisted totals, and every class of the
    // input (nothing ended yet is a true zero).
    auto endedFams = endedFamilies();
    {
        std::map<std::string, const runtime::ClassTotals*> classes;
        static const runtime::ClassTotals kZero;
        for (const auto& c : in.classes) {
            classes[c.name] = &kZero;
        }
        for (const auto& [c, t] : in.endedTotals) {
            classes[c] = &t;
        }
        for (const auto& [c, t] : classes) {
            appendEnded(endedFams, {{"class", c}}, *t, in.availableControllers, seen);
        }
    }

    auto duration = makeFamily(cat::kScrapeDuration);
    if (previousScrapeSeconds_) {
        add(duration, {}, *previousScrapeSeconds_);
    }
    auto errors = makeFamily(cat::kScrapeErrors);
    add(errors, {}, num(scrapeErrors_));

    std::vector<MetricFamily> out;
    out.reserve(16 + classFams.size() + endedFams.size() + groupFams.size());
    auto keep = [&](MetricFamily&& f) {
        if (!f.metric.empty())
            out.push_back(std::move(f));
    };
    for (auto* f : {&buildInfo, &controllerAvailable, &unenforceable, &policyLimit, &reloads,
                    &lastReload, &lastReloadOk, &execs, &managed}) {
        keep(std::move(*f));
    }
    for (auto& f : classFams)
        keep(std::move(f));
    for (auto& f : endedFams)
        keep(std::move(f));
    for (auto& f : groupFams)
        keep(std::move(f));
    keep(std::move(duration));
    keep(std::move(errors));
    return out;
}

std::string Collector::scrape(ScrapeInput input) {
    auto start = Clock::now();
    auto families = collect(input);
    input = ScrapeInput{};
    std::string text = serialize(families);
    families = {};
    // The snapshot and the metric families of a scrape are transient (~2 MB at 1000
    // groups) and scrapes are seconds apart: give their pages back instead of keeping
    // the daemon's RSS at the scrape's high-water mark.
    ::malloc_trim(0);
    previousScrapeSeconds_ = std::chrono::duration<double>(Clock::now() - start).count();
    return text;
}

}  // namespace gov::exporter
