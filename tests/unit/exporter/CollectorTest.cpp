#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "FakeTree.hpp"
#include "FixtureDaemon.hpp"
#include "Golden.hpp"
#include "gov/exporter/Catalogue.hpp"
#include "gov/exporter/Collector.hpp"
#include "gov/exporter/PolicyLimits.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::exporter {
namespace {

using test::fixtureFile;
using test::fixtureTree;
using test::loadFixtureDaemon;

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool hasLine(const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0)
            return true;
    }
    return false;
}

std::unique_ptr<test::FixtureDaemon> fixture() {
    auto d = loadFixtureDaemon(fixtureTree());
    if (!d) {
        ADD_FAILURE() << d.error().message();
        return nullptr;
    }
    return std::move(*d);
}

// The whole exposition of the fixture tree against the checked-in expected text.
// GOV_UPDATE_GOLDEN=1 rewrites the expected file (review the diff before committing;
// refused when CI is set).
TEST(Collector, ExpositionOfFixtureTreeMatchesGoldenFile) {
    auto d = fixture();
    ASSERT_TRUE(d);
    Collector collector;
    std::string text = collector.scrape(d->input());
    std::string goldenPath = fixtureFile("expected.prom");
    if (testsupport::updateExpectedFiles("GOV_UPDATE_GOLDEN")) {
        std::ofstream(goldenPath, std::ios::binary | std::ios::trunc) << text;
    }
    ASSERT_TRUE(std::filesystem::exists(goldenPath)) << goldenPath;
    EXPECT_EQ(text, readFile(goldenPath));
}

TEST(Collector, MissingControllerFilesProduceNoSeries) {
    auto d = fixture();
    ASSERT_TRUE(d);
    std::string text = Collector().scrape(d->input());
    // core.slice is a hybrid-host group: cpu.stat usage, pressure, events only.
    EXPECT_TRUE(hasLine(text, "governor_class_cpu_usage_seconds_total{class=\"core\"}"));
    EXPECT_FALSE(hasLine(text, "governor_class_memory_current_bytes{class=\"core\"}"));
    EXPECT_FALSE(hasLine(text, "governor_class_tasks_current{class=\"core\"}"));
    EXPECT_FALSE(hasLine(text, "governor_class_cpu_throttled_periods_total{class=\"core\"}"));
    EXPECT_FALSE(hasLine(text, "governor_class_io_read_bytes_total{class=\"core\""));
}

TEST(Collector, UnlimitedMaxHasNoLimitSeries) {
    auto d = fixture();
    ASSERT_TRUE(d);
    std::string text = Collector().scrape(d->input());
    EXPECT_TRUE(hasLine(text, "governor_class_memory_max_bytes{class=\"adhoc\"} 2147483648"));
    EXPECT_TRUE(hasLine(text, "governor_class_memory_max_bytes{class=\"noncore\"} 1073741824"));
    // exec-1.scope has memory.max "max" and pids.max "max".
    EXPECT_FALSE(hasLine(
        text,
        "governor_group_memory_max_bytes{class=\"adhoc\",group=\"adhoc.slice/exec-1.scope\"}"));
    EXPECT_FALSE(hasLine(
        text, "governor_group_tasks_max{class=\"adhoc\",group=\"adhoc.slice/exec-1.scope\"}"));
    EXPECT_TRUE(hasLine(text,
                        "governor_group_memory_high_bytes{class=\"adhoc\",group=\"adhoc.slice/"
                        "exec-1.scope\"} 402653184"));
}

TEST(Collector, GroupThatVanishedIsSkippedWithoutCountingAnError) {
    auto d = fixture();
    ASSERT_TRUE(d);
    std::string text = Collector().scrape(d->input());
    EXPECT_EQ(text.find("gone.scope"), std::string::npos);
    EXPECT_TRUE(hasLine(text, "governor_scrape_errors_total 0"));
    // Still counted as managed: the daemon tracks it until it reaps it.
    EXPECT_TRUE(hasLine(text, "governor_groups_managed{class=\"adhoc\"} 2"));
}

TEST(Collector, MalformedFileIsCountedAsScrapeErrorAndGroupSkipped) {
    testsupport::FakeCgroupTree tree("cpu");
    tree.setEvents("adhoc.slice", true);
    tree.write("adhoc.slice/cpu.stat", "usage_usec 10\nuser_usec 5\nsystem_usec 5\n");
    tree.setEvents("adhoc.slice/bad.scope", true);
    tree.write("adhoc.slice/bad.scope/cpu.stat", "usage_usec x1\n");
    auto fs = runtime::CgroupFs::open(tree.root().string());
    ASSERT_TRUE(fs) << fs.error().message();
    ScrapeInput in;
    in.fs = &*fs;
    in.classes = {{"adhoc", "adhoc.slice"}};
    in.workloads = {{"adhoc.slice/bad.scope", "adhoc"}};
    Collector collector;
    std::string first = collector.scrape(in);
    std::string second = collector.scrape(in);
    EXPECT_TRUE(hasLine(first, "governor_class_cpu_usage_seconds_total{class=\"adhoc\"} 1e-05"))
        << first;
    EXPECT_EQ(first.find("bad.scope"), std::string::npos);
    EXPECT_TRUE(hasLine(first, "governor_scrape_errors_total 1"));
    EXPECT_TRUE(hasLine(second, "governor_scrape_errors_total 2"));
    EXPECT_NE(collector.lastError().find("cpu.stat"), std::string::npos) << collector.lastError();
}

TEST(Collector, EndedTotalsOfUnavailableControllersAreAbsent) {
    auto d = fixture();
    ASSERT_TRUE(d);
    d->snapshot.availableControllers = {"cpu"};
    std::string text = Collector().scrape(d->input());
    EXPECT_TRUE(hasLine(text, "governor_class_ended_workloads_total{class=\"adhoc\"} 7"));
    EXPECT_TRUE(
        hasLine(text, "governor_class_ended_cpu_throttled_periods_total{class=\"adhoc\"} 12"));
    EXPECT_FALSE(hasLine(text, "governor_class_ended_memory_events_oom_kill_total"));
    EXPECT_FALSE(hasLine(text, "governor_class_ended_tasks_peak"));
    EXPECT_TRUE(hasLine(text, "governor_controller_available{controller=\"memory\"} 0"));
    EXPECT_TRUE(hasLine(text, "governor_controller_available{controller=\"cpu\"} 1"));
}

TEST(Collector, PolicyClassWithoutEndedWorkloadsExportsZeroAndRetiredClassKeepsTotals) {
    auto d = fixture();
    ASSERT_TRUE(d);
    std::string text = Collector().scrape(d->input());
    EXPECT_TRUE(hasLine(text, "governor_class_ended_workloads_total{class=\"noncore\"} 0"));
    EXPECT_TRUE(hasLine(text, "governor_class_ended_workloads_total{class=\"old\"} 2"));
}

TEST(Collector, ScrapeDurationIsThatOfThePreviousScrape) {
    auto d = fixture();
    ASSERT_TRUE(d);
    Collector collector;
    std::string first = collector.scrape(d->input());
    std::string second = collector.scrape(d->input());
    EXPECT_FALSE(hasLine(first, "governor_scrape_duration_seconds "));
    EXPECT_TRUE(hasLine(second, "governor_scrape_duration_seconds "));
}

TEST(Collector, EmptyInputStillExportsSelfMetrics) {
    ScrapeInput in;
    in.version = "1.2.3";
    std::string text = Collector().scrape(in);
    EXPECT_TRUE(hasLine(text, "governor_build_info{version=\"1.2.3\"} 1"));
    EXPECT_TRUE(hasLine(text, "governor_scrape_errors_total 0"));
    EXPECT_EQ(text.find("governor_class_"), std::string::npos);
}

TEST(Collector, PolicyLimitsAreExportedWhetherOrNotTheKernelEnforcesThem) {
    ScrapeInput in;
    for (const auto& c : policies::defaultPolicy().classes)
        in.classes.push_back({c.name, c.name + ".slice"});
    in.policyLimits = policyLimits(policies::defaultPolicy());
    std::string text = Collector().scrape(in);
    EXPECT_TRUE(
        hasLine(text, "governor_class_policy_limit{class=\"adhoc\",key=\"memory.max\"} 2147483648"))
        << text;
    EXPECT_TRUE(
        hasLine(text, "governor_class_policy_limit{class=\"adhoc\",key=\"pids.max\"} 1000"));
    EXPECT_TRUE(hasLine(
        text, "governor_class_policy_limit{class=\"noncore\",key=\"memory.max\"} 1073741824"));
    EXPECT_TRUE(hasLine(text,
                        "governor_class_policy_limit{class=\"noncore\",key=\"io.write_bps\","
                        "device=\"all\"} 1000000"));
    EXPECT_EQ(text.find("governor_class_policy_limit{class=\"core\""), std::string::npos);
}

TEST(Collector, OomGroupKillsAreExportedForGroupsClassesAndEndedWorkloads) {
    auto d = fixture();
    ASSERT_TRUE(d);
    std::string text = Collector().scrape(d->input());
    EXPECT_TRUE(
        hasLine(text, "governor_class_memory_events_oom_group_kill_total{class=\"adhoc\"} 0"));
    EXPECT_TRUE(
        hasLine(text,
                "governor_group_memory_events_oom_group_kill_total{class=\"adhoc\",group=\"adhoc."
                "slice/exec-1.scope\"} 0"));
    EXPECT_TRUE(hasLine(
        text, "governor_class_ended_memory_events_oom_group_kill_total{class=\"adhoc\"} 1"));
}

// Issue: an Exec counted under whatever class name the caller sent grew the scrape
// without bound. Whatever the snapshot's counters hold, a class label is a class of
// the snapshot (or one with ended totals).
TEST(Collector, ClassLabelsComeOnlyFromTheSnapshotsClasses) {
    auto d = fixture();
    ASSERT_TRUE(d);
    d->snapshot.daemon->execs[{"bogus-from-a-caller", "unknown_class"}] = 3;
    d->snapshot.daemon->execs[{"another\nbogus", "unknown_class"}] = 4;
    d->snapshot.daemon->execs[{"yet-another", "denied"}] = 1;
    d->snapshot.unenforceable.push_back({"bogus-unenforceable", "memory.max", "memory"});
    d->snapshot.policyLimits.push_back({"bogus-limit", "memory.max", "", 1});
    d->snapshot.workloads.push_back({"adhoc.slice/exec-1.scope", "bogus-workload-class"});
    std::string text = Collector().scrape(d->input());
    EXPECT_EQ(text.find("bogus"), std::string::npos) << text;
    EXPECT_EQ(text.find("yet-another"), std::string::npos);
    // Counted, once per outcome, without a class label.
    EXPECT_TRUE(hasLine(text, "governor_execs_total{outcome=\"unknown_class\"} 7")) << text;
    EXPECT_TRUE(hasLine(text, "governor_execs_total{outcome=\"denied\"} 1"));
    EXPECT_TRUE(hasLine(text, "governor_execs_total{class=\"adhoc\",outcome=\"ok\"} 5"));
    // A retired class with totals is a class of the daemon: its execs keep their label.
    d->snapshot.daemon->execs[{"old", "ok"}] = 9;
    text = Collector().scrape(d->input());
    EXPECT_TRUE(hasLine(text, "governor_execs_total{class=\"old\",outcome=\"ok\"} 9"));
}

size_t lineCount(const std::string& text) {
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(Collector, HundredThousandBogusClassExecsAddNoSeries) {
    auto d = fixture();
    ASSERT_TRUE(d);
    d->snapshot.daemon->execs[{"bogus-0", "unknown_class"}] = 1;
    const std::string one = Collector().scrape(d->input());
    for (int i = 1; i < 100000; ++i)
        d->snapshot.daemon->execs[{"bogus-" + std::to_string(i), "unknown_class"}] = 1;
    const std::string many = Collector().scrape(d->input());
    EXPECT_EQ(lineCount(many), lineCount(one));
    // The same text but for the count: "1" became "100000".
    EXPECT_EQ(many.size(), one.size() + 5);
    EXPECT_TRUE(hasLine(many, "governor_execs_total{outcome=\"unknown_class\"} 100000"));
}

// Every family name the exporter can serve is in the catalogue, and every one is
// documented in docs/metrics.md (as `name`, or as `suffix` in the usage and ended
// tables, whose names carry the prefix of their section).
TEST(Catalogue, EveryFamilyOfTheGoldenFileIsInTheCatalogueAndEveryNameIsDocumented) {
    const auto names = allFamilyNames();
    std::set<std::string> known(names.begin(), names.end());
    EXPECT_EQ(known.size(), names.size()) << "a name is listed twice";
    std::istringstream golden(readFile(fixtureFile("expected.prom")));
    for (std::string line; std::getline(golden, line);) {
        if (line.rfind("# TYPE ", 0) == 0) {
            std::string name = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_TRUE(known.count(name)) << name << " is served but not in the catalogue";
        }
    }
    const std::string docs = readFile(std::string(GOV_SOURCE_DIR) + "/docs/metrics.md");
    for (const auto& name : names) {
        std::string shown = name;
        for (const char* prefix :
             {catalogue::kEndedPrefix, catalogue::kGroupPrefix, catalogue::kClassPrefix}) {
            if (name.rfind(prefix, 0) == 0 && docs.find("`" + name) == std::string::npos) {
                shown = name.substr(std::string(prefix).size());
                break;
            }
        }
        // `name` or, with its extra labels, `name{device}`.
        const bool documented = docs.find("`" + shown + "`") != std::string::npos ||
                                docs.find("`" + shown + "{") != std::string::npos;
        EXPECT_TRUE(documented) << name << " is not documented in docs/metrics.md";
    }
}

}  // namespace
}  // namespace gov::exporter

namespace gov::exporter {
namespace {

TEST(Serialize, FixtureExpositionIsByteIdenticalToTextSerializer) {
    auto d = test::loadFixtureDaemon(test::fixtureTree());
    ASSERT_TRUE(d) << d.error().message();
    auto families = Collector().collect((*d)->input());
    EXPECT_EQ(serialize(families), serializeWithTextSerializer(families));
}

TEST(Serialize, EscapesAndNumbersAreWrittenLikeTextSerializer) {
    prometheus::MetricFamily counter;
    counter.name = "t_total";
    counter.help = "help with \\ backslash and \"quotes\"";
    counter.type = prometheus::MetricType::Counter;
    prometheus::MetricFamily gauge;
    gauge.name = "t_gauge";
    gauge.help = "";
    gauge.type = prometheus::MetricType::Gauge;
    const double values[] = {0,
                             1,
                             0.1,
                             1e-05,
                             -3.25,
                             8.123456,
                             2147483648.0,
                             9007199254740992.0,
                             123456789012345678.0,
                             999999999999999.0,
                             1e15,
                             1e16,
                             1.5e300,
                             1795348555.669976,
                             std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
    int i = 0;
    for (double v : values) {
        prometheus::ClientMetric m;
        m.label = {{"a", "plain"}, {"b", "back\\slash \"quoted\"\nnewline " + std::to_string(i++)}};
        m.counter.value = v;
        m.gauge.value = v;
        counter.metric.push_back(m);
        m.label.clear();
        gauge.metric.push_back(m);
    }
    std::vector<prometheus::MetricFamily> families = {counter, gauge};
    EXPECT_EQ(serialize(families), serializeWithTextSerializer(families));
}

TEST(Serialize, OtherMetricTypesGoThroughTextSerializer) {
    prometheus::MetricFamily untyped;
    untyped.name = "u";
    untyped.help = "h";
    untyped.type = prometheus::MetricType::Untyped;
    prometheus::ClientMetric m;
    m.untyped.value = 3;
    untyped.metric.push_back(m);
    std::vector<prometheus::MetricFamily> families = {untyped};
    std::string text = serialize(families);
    EXPECT_EQ(text, serializeWithTextSerializer(families));
    EXPECT_NE(text.find("u 3"), std::string::npos) << text;
}

}  // namespace
}  // namespace gov::exporter
