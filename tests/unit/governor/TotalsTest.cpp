#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gov/core/Totals.hpp"

namespace gov::core {
namespace {

namespace fs = std::filesystem;

runtime::GroupUsage usage(uint64_t cpu, uint64_t peak, uint64_t oomKill) {
    runtime::GroupUsage u;
    u.cpu = runtime::CpuStat{cpu, cpu / 2, cpu / 4, 10, 3, 500};
    runtime::MemoryUsage m;
    m.current = 0;
    m.peak = peak;
    m.events.oomKill = oomKill;
    m.events.max = 2;
    u.memory = m;
    u.io = std::vector<runtime::IoStatLine>{{"8:0", 100, 200, 1, 2, 0, 0}};
    runtime::Pressure p;
    p.some.totalUsec = 7;
    p.full = runtime::PressureLine{0, 0, 0, 3};
    u.memoryPressure = p;
    return u;
}

class TempDir {
  public:
    TempDir() {
        path_ = fs::temp_directory_path() /
                ("gov-totals-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    std::string str() const { return path_.string(); }

  private:
    fs::path path_;
    static inline int counter_ = 0;
};

void writeFile(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

TEST(ClassTotals, FoldSumsCountersAndKeepsTheLargestPeak) {
    ClassTotals t;
    t.fold(usage(1000, 4096, 1));
    t.fold(usage(500, 1024, 0));
    EXPECT_EQ(t.workloadsEnded, 2u);
    EXPECT_EQ(t.cpuUsageUsec, 1500u);
    EXPECT_EQ(t.cpuUserUsec, 750u);
    EXPECT_EQ(t.cpuNrThrottled, 6u);
    EXPECT_EQ(t.cpuThrottledUsec, 1000u);
    EXPECT_EQ(t.memoryPeakBytes, 4096u);
    EXPECT_EQ(t.memoryEventsOomKill, 1u);
    EXPECT_EQ(t.memoryEventsMax, 4u);
    EXPECT_EQ(t.io.at("8:0").writeBytes, 400u);
    EXPECT_EQ(t.io.at("8:0").readOps, 2u);
    EXPECT_EQ(t.memoryPressure.someUsec, 14u);
    EXPECT_EQ(t.memoryPressure.fullUsec, 6u);
    EXPECT_EQ(t.cpuPressure.someUsec, 0u);
}

TEST(ClassTotals, FoldOfAHybridHostGroupCountsOnlyCpu) {
    runtime::GroupUsage u;
    u.cpu = runtime::CpuStat{42, 40, 2, std::nullopt, std::nullopt, std::nullopt};
    ClassTotals t;
    t.fold(u);
    EXPECT_EQ(t.workloadsEnded, 1u);
    EXPECT_EQ(t.cpuUsageUsec, 42u);
    EXPECT_EQ(t.cpuNrPeriods, 0u);
    EXPECT_EQ(t.memoryPeakBytes, 0u);
    EXPECT_TRUE(t.io.empty());
}

TEST(StateJson, RoundTripsEveryField) {
    State s;
    s.classes["adhoc"].fold(usage(1000, 4096, 1));
    s.classes["noncore"].fold(usage(7, 1, 0));
    s.pendingRemoval.push_back({"adhoc.slice/x.scope", 1234});
    auto back = stateFromJson(stateToJson(s));
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(*back, s);
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
    EXPECT_EQ(s->classes.at("a").cpuUsageUsec, 0u);
}

TEST(StateStore, FirstStartIsEmpty) {
    TempDir dir;
    auto loaded = StateStore(dir.str()).load();
    ASSERT_TRUE(loaded.ok());
    EXPECT_TRUE(loaded->state.classes.empty());
    EXPECT_TRUE(loaded->warning.empty());
}

TEST(StateStore, SaveThenLoadGivesTheSameState) {
    TempDir dir;
    StateStore store(dir.str() + "/nested");
    State s;
    s.classes["adhoc"].fold(usage(9, 9, 0));
    ASSERT_TRUE(store.save(s).ok());
    auto loaded = store.load();
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->state, s);
    EXPECT_FALSE(fs::exists(store.path() + ".tmp"));
}

TEST(StateStore, TornTemporaryFileFromACrashIsIgnored) {
    TempDir dir;
    StateStore store(dir.str());
    State s;
    s.classes["adhoc"].fold(usage(9, 9, 0));
    ASSERT_TRUE(store.save(s).ok());
    // A crash in the middle of the next save leaves a torn temp file behind.
    writeFile(store.path() + ".tmp", "{\"version\":1,\"classes\":{\"adh");
    auto loaded = store.load();
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->state, s);
    // And the next save replaces it.
    s.classes["adhoc"].fold(usage(1, 1, 0));
    ASSERT_TRUE(store.save(s).ok());
    EXPECT_EQ(store.load()->state, s);
}

TEST(StateStore, DamagedFileFallsBackToThePreviousGenerationWithAWarning) {
    TempDir dir;
    StateStore store(dir.str());
    State first;
    first.classes["adhoc"].fold(usage(1, 1, 0));
    ASSERT_TRUE(store.save(first).ok());
    State second = first;
    second.classes["adhoc"].fold(usage(2, 2, 0));
    ASSERT_TRUE(store.save(second).ok());
    // The current file is damaged later (truncated by a disk problem).
    writeFile(store.path(), "{\"version\":1,\"cla");
    auto loaded = store.load();
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->state, first);
    EXPECT_NE(loaded->warning.find("previous generation"), std::string::npos);
}

TEST(StateStore, BothGenerationsDamagedRefusesRatherThanResetting) {
    TempDir dir;
    StateStore store(dir.str());
    writeFile(store.path(), "garbage");
    writeFile(store.path() + ".prev", "garbage");
    auto loaded = store.load();
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message().find("totals.json"), std::string::npos)
        << loaded.error().message();
}

}  // namespace
}  // namespace gov::core
