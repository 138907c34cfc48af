#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "FakeTree.hpp"
#include "gov/core/Totals.hpp"

namespace gov::core {
namespace {

namespace fs = std::filesystem;

// An ended workload's counters (the fold itself is tested in runtime's CountersTest).
runtime::GroupUsage usage(uint64_t cpu, uint64_t peak, uint64_t oomKill) {
    using C = runtime::CounterId;
    runtime::GroupUsage u;
    u.values.set(C::CpuUsage, cpu);
    u.values.set(C::CpuUser, cpu / 2);
    u.values.set(C::CpuThrottledPeriods, 3);
    u.values.set(C::MemoryPeak, peak);
    u.values.set(C::MemoryEventsOomKill, oomKill);
    u.values.set(C::MemoryEventsOomGroupKill, oomKill);
    runtime::DeviceValues d{"8:0", {}};
    d.values.set(C::IoReadBytes, 100);
    d.values.set(C::IoWriteOps, 2);
    u.devices.push_back(d);
    u.values.set(C::MemoryPressureSome, 7);
    u.values.set(C::MemoryPressureFull, 3);
    return u;
}

using testsupport::readFile;
using testsupport::TempDir;
using testsupport::writeFile;

TEST(StateJson, RoundTripsEveryField) {
    State s;
    s.classes["adhoc"].fold(usage(1000, 4096, 1));
    s.classes["noncore"].fold(usage(7, 1, 0));
    s.pendingRemoval.push_back({"adhoc.slice/x.scope", 1234});
    auto back = stateFromJson(stateToJson(s));
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(*back, s);
}

// totals.json as governord 0.1.0 wrote it (before the counter table): every value
// reads back under its counter, and a counter added since (oom_group_kill) is 0.
TEST(StateJson, ReadsAFileWrittenBeforeTheCounterTable) {
    std::ifstream in(std::string(GOV_SOURCE_DIR) + "/tests/fixtures/state/totals-0.1.0.json");
    std::stringstream text;
    text << in.rdbuf();
    auto s = stateFromJson(text.str());
    ASSERT_TRUE(s.ok()) << s.error().message();
    using C = runtime::CounterId;
    const auto& t = s->classes.at("adhoc");
    EXPECT_EQ(t.workloadsEnded, 3u);
    EXPECT_EQ(t[C::CpuUsage], 11u);
    EXPECT_EQ(t[C::CpuThrottledTime], 16u);
    EXPECT_EQ(t[C::MemoryPeak], 17u);
    EXPECT_EQ(t[C::MemoryEventsOom], 21u);
    EXPECT_EQ(t[C::MemoryEventsOomKill], 22u);
    EXPECT_EQ(t[C::MemoryEventsOomGroupKill], 0u);
    EXPECT_EQ(t[C::TasksPeak], 23u);
    EXPECT_EQ(t[C::TasksMaxEvents], 24u);
    EXPECT_EQ(t.devices.at("254:1")[runtime::index(C::IoReadBytes)], 29u);
    EXPECT_EQ(t.devices.at("8:0")[runtime::index(C::IoWriteOps)], 28u);
    EXPECT_EQ(t[C::CpuPressureFull], 34u);
    EXPECT_EQ(t[C::MemoryPressureSome], 35u);
    EXPECT_EQ(t[C::IoPressureFull], 38u);
    EXPECT_EQ(s->classes.at("core"), ClassTotals{});
    ASSERT_EQ(s->pendingRemoval.size(), 1u);
    EXPECT_EQ(s->pendingRemoval[0].cgroupId, 99u);
    // Written again, it is the same text plus the new counter.
    std::string again = stateToJson(*s);
    std::string expected = text.str();
    // (keys are sorted: "oom_group_kill" comes just before "oom_kill")
    const std::string added = "      \"oom_group_kill\": 0,\n";
    for (size_t at = 0; (at = expected.find("      \"oom_kill\": ", at)) != std::string::npos;) {
        expected.insert(at, added);
        at += added.size() + 1;
    }
    EXPECT_EQ(again, expected);
}

TEST(StateJson, RejectsDamagedText) {
    for (const std::string bad :
         {"", "{", "[]", "{\"version\":2,\"classes\":{}}", "{\"version\":1}",
          "{\"version\":1,\"classes\":{\"a\":{\"cpu_usage_usec\":-5}}}",
          "{\"version\":1,\"classes\":{\"a\":{\"cpu_usage_usec\":\"7\"}}}",
          "{\"version\":1,\"classes\":{},\"pending_removal\":[{}]}"}) {
        EXPECT_FALSE(stateFromJson(bad).ok()) << bad;
    }
}

TEST(StateJson, FieldsAddedLaterDefaultToZero) {
    auto s = stateFromJson("{\"version\":1,\"classes\":{\"a\":{\"workloads_ended\":3}}}");
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->classes.at("a").workloadsEnded, 3u);
    EXPECT_EQ(s->classes.at("a")[runtime::CounterId::CpuUsage], 0u);
}

TEST(StateStore, FirstStartIsEmpty) {
    TempDir dir;
    auto loaded = StateStore(dir.path()).load();
    EXPECT_TRUE(loaded.state.classes.empty());
    EXPECT_TRUE(loaded.warning.empty());
    EXPECT_FALSE(loaded.reset);
}

TEST(StateStore, SaveThenLoadGivesTheSameState) {
    TempDir dir;
    StateStore store(dir.path() + "/nested");
    State s;
    s.classes["adhoc"].fold(usage(9, 9, 0));
    ASSERT_TRUE(store.save(s).ok());
    auto loaded = store.load();
    EXPECT_EQ(loaded.state, s);
    EXPECT_FALSE(fs::exists(store.path() + ".tmp"));
}

TEST(StateStore, TornTemporaryFileFromACrashIsIgnored) {
    TempDir dir;
    StateStore store(dir.path());
    State s;
    s.classes["adhoc"].fold(usage(9, 9, 0));
    ASSERT_TRUE(store.save(s).ok());
    // A crash in the middle of the next save leaves a torn temp file behind.
    writeFile(store.path() + ".tmp", "{\"version\":1,\"classes\":{\"adh");
    auto loaded = store.load();
    EXPECT_EQ(loaded.state, s);
    // And the next save replaces it.
    s.classes["adhoc"].fold(usage(1, 1, 0));
    ASSERT_TRUE(store.save(s).ok());
    EXPECT_EQ(store.load().state, s);
}

TEST(StateStore, DamagedFileFallsBackToThePreviousGenerationWithAWarning) {
    TempDir dir;
    StateStore store(dir.path());
    State first;
    first.classes["adhoc"].fold(usage(1, 1, 0));
    ASSERT_TRUE(store.save(first).ok());
    State second = first;
    second.classes["adhoc"].fold(usage(2, 2, 0));
    ASSERT_TRUE(store.save(second).ok());
    // The current file is damaged later (truncated by a disk problem).
    writeFile(store.path(), "{\"version\":1,\"cla");
    auto loaded = store.load();
    EXPECT_EQ(loaded.state, first);
    EXPECT_FALSE(loaded.reset);
    EXPECT_NE(loaded.warning.find("previous generation"), std::string::npos);
    // Set aside, not deleted, and not in the way of the next save.
    ASSERT_EQ(loaded.setAside.size(), 1u);
    EXPECT_EQ(readFile(loaded.setAside[0]), "{\"version\":1,\"cla");
    EXPECT_FALSE(fs::exists(store.path()));
}

std::vector<std::string> filesIn(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

TEST(StateStore, TheSaveAfterARecoveryKeepsTheGoodGenerationAsThePreviousOne) {
    // The failure this prevents: the damaged current file was linked over the good
    // previous generation by the first save after the recovery.
    TempDir dir;
    StateStore store(dir.path());
    State first;
    first.classes["adhoc"].fold(usage(1, 1, 0));
    ASSERT_TRUE(store.save(first).ok());
    ASSERT_TRUE(store.save(first).ok());  // first is now in both generations
    writeFile(store.path(), "garbage");
    auto loaded = store.load();
    ASSERT_EQ(loaded.state, first);
    State next = loaded.state;
    next.classes["adhoc"].fold(usage(5, 5, 0));
    ASSERT_TRUE(store.save(next).ok());
    auto prev = stateFromJson(readFile(store.previousPath()));
    ASSERT_TRUE(prev.ok()) << prev.error().message();
    EXPECT_EQ(*prev, first);
    EXPECT_EQ(store.load().state, next);
}

TEST(StateStore, ACurrentFileDamagedSinceItWasWrittenIsSetAsideNotRotated) {
    TempDir dir;
    StateStore store(dir.path());
    State first;
    first.classes["adhoc"].fold(usage(1, 1, 0));
    ASSERT_TRUE(store.save(first).ok());
    ASSERT_TRUE(store.save(first).ok());
    writeFile(store.path(), "{\"version\":1,\"cla");  // damaged behind the daemon's back
    State next = first;
    next.classes["adhoc"].fold(usage(2, 2, 0));
    ASSERT_TRUE(store.save(next).ok());
    EXPECT_EQ(*stateFromJson(readFile(store.previousPath())), first);
    EXPECT_EQ(store.load().state, next);
    auto names = filesIn(dir.path());
    ASSERT_EQ(names.size(), 3u) << ::testing::PrintToString(names);
    EXPECT_EQ(names[1].rfind("totals.json.damaged-", 0), 0u) << names[1];
}

TEST(StateStore, BothGenerationsDamagedStartFromZeroWithBothFilesSetAside) {
    TempDir dir;
    StateStore store(dir.path());
    writeFile(store.path(), "garbage");
    writeFile(store.previousPath(), "more garbage");
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'392'952));
    auto loaded = store.load(now);
    EXPECT_TRUE(loaded.reset);
    EXPECT_TRUE(loaded.state.classes.empty());
    EXPECT_NE(loaded.warning.find("totals.json"), std::string::npos) << loaded.warning;
    EXPECT_NE(loaded.warning.find("start from zero"), std::string::npos) << loaded.warning;
    // Renamed with the time, never deleted.
    EXPECT_EQ(filesIn(dir.path()),
              (std::vector<std::string>{"totals.json.damaged-20251129T050912Z",
                                        "totals.json.prev.damaged-20251129T050912Z"}));
    EXPECT_EQ(readFile(dir.path() + "/totals.json.damaged-20251129T050912Z"), "garbage");
    // A second damage the same second does not overwrite the first one set aside.
    writeFile(store.path(), "garbage again");
    auto again = store.load(now);
    EXPECT_TRUE(again.reset);
    EXPECT_TRUE(fs::exists(dir.path() + "/totals.json.damaged-20251129T050912Z-2"));
    EXPECT_EQ(readFile(dir.path() + "/totals.json.damaged-20251129T050912Z"), "garbage");
    // And the daemon's next save starts a clean history.
    State s;
    s.classes["adhoc"].fold(usage(3, 3, 0));
    ASSERT_TRUE(store.save(s).ok());
    EXPECT_EQ(store.load().state, s);
}

}  // namespace
}  // namespace gov::core
