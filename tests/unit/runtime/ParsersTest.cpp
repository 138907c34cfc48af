#include <gtest/gtest.h>

#include "TestUtil.hpp"
#include "gov/runtime/Accounting.hpp"
#include "gov/runtime/Parsers.hpp"

namespace gov::runtime {
namespace {

using test::fixture;

TEST(ParseFlatKeyed, ReadsRealHybridCpuStat) {
    auto kv = parseFlatKeyed(fixture("hybrid-group/cpu.stat"));
    ASSERT_TRUE(kv.ok()) << kv.error().message();
    EXPECT_EQ(kv->at("usage_usec"), 532179u);
    EXPECT_EQ(kv->at("user_usec"), 531219u);
    EXPECT_EQ(kv->at("system_usec"), 959u);
    EXPECT_EQ(kv->at("nice_usec"), 0u);
    EXPECT_EQ(kv->size(), 4u);
}

TEST(ParseFlatKeyed, ReadsRealCgroupStatAndEvents) {
    auto st = parseFlatKeyed(fixture("hybrid-group/cgroup.stat"));
    ASSERT_TRUE(st.ok()) << st.error().message();
    EXPECT_EQ(st->at("nr_descendants"), 0u);
    EXPECT_EQ(st->at("nr_subsys_perf_event"), 1u);
    auto ev = parseFlatKeyed(fixture("hybrid-group/cgroup.events"));
    ASSERT_TRUE(ev.ok()) << ev.error().message();
    EXPECT_EQ(ev->at("populated"), 1u);
    EXPECT_EQ(ev->at("frozen"), 0u);
}

TEST(ParseFlatKeyed, ReadsMemoryStatWithEveryKey) {
    auto kv = parseFlatKeyed(fixture("v2-group/memory.stat"));
    ASSERT_TRUE(kv.ok()) << kv.error().message();
    EXPECT_EQ(kv->at("anon"), 1561313280u);
    EXPECT_EQ(kv->at("pgmajfault"), 17u);
    EXPECT_EQ(kv->size(), 51u);
}

struct FlatCase {
    const char* name;
    const char* text;
    bool ok;
    const char* reasonPart;  // for errors
};

class ParseFlatKeyedCases : public ::testing::TestWithParam<FlatCase> {};

TEST_P(ParseFlatKeyedCases, AcceptsOrRejects) {
    const auto& c = GetParam();
    auto r = parseFlatKeyed(c.text);
    EXPECT_EQ(r.ok(), c.ok) << c.name;
    if (!r.ok()) {
        EXPECT_NE(r.error().message().find(c.reasonPart), std::string::npos) << r.error().message();
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseFlatKeyedCases,
    ::testing::Values(FlatCase{"empty", "", true, ""}, FlatCase{"blank lines", "\n\n", true, ""},
                      FlatCase{"no trailing newline", "a 1", true, ""},
                      FlatCase{"crlf", "a 1\r\nb 2\r\n", true, ""},
                      FlatCase{"max u64", "a 18446744073709551615\n", true, ""},
                      FlatCase{"overflow", "a 18446744073709551616\n", false, "bad number"},
                      FlatCase{"negative", "a -1\n", false, "bad number '-1'"},
                      FlatCase{"letters", "a 1\noom x1\n", false, "line 2: bad number 'x1'"},
                      FlatCase{"missing value", "populated\n", false, "no value"},
                      FlatCase{"extra field", "a 1 2\n", false, "unexpected text"},
                      FlatCase{"float", "a 1.5\n", false, "bad number"},
                      FlatCase{"plus sign", "a +1\n", false, "bad number"}),
    [](const auto& testInfo) {
        std::string n = testInfo.param.name;
        for (auto& ch : n) {
            if (!std::isalnum(static_cast<unsigned char>(ch)))
                ch = '_';
        }
        return n;
    });

TEST(ParseFlatKeyed, LastRepeatedKeyWins) {
    auto kv = parseFlatKeyed("a 1\na 2\n");
    ASSERT_TRUE(kv.ok());
    EXPECT_EQ(kv->at("a"), 2u);
}

TEST(ParseMax, ReadsMaxAndNumbers) {
    auto m = parseMax("max\n");
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(m->isMax);
    auto n = parseMax(fixture("v2-group/memory.max"));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, MaxOr::of(2147483648u));
    auto z = parseMax("0");
    ASSERT_TRUE(z.ok());
    EXPECT_EQ(*z, MaxOr::of(0));
}

TEST(ParseMax, RejectsGarbage) {
    for (const char* bad : {"", "\n", "MAX", "1k", "-5", "max max", "1 2"}) {
        auto r = parseMax(bad);
        EXPECT_FALSE(r.ok()) << "'" << bad << "'";
    }
}

TEST(ParseU64, ReadsSingleNumberOnly) {
    auto v = parseU64(fixture("v2-group/memory.current"));
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, 1803546624u);
    EXPECT_FALSE(parseU64("max").ok());
    EXPECT_FALSE(parseU64("").ok());
}

TEST(ParsePressure, ReadsRealHybridCpuPressureWithBothLines) {
    auto p = parsePressure(fixture("hybrid-group/cpu.pressure"));
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(p->some.totalUsec, 353176u);
    ASSERT_TRUE(p->full.has_value());
    EXPECT_EQ(p->full->totalUsec, 353176u);
}

TEST(ParsePressure, ReadsAveragesAsDoubles) {
    auto p = parsePressure(fixture("v2-group/io.pressure"));
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_DOUBLE_EQ(p->some.avg10, 12.04);
    EXPECT_DOUBLE_EQ(p->some.avg60, 8.33);
    EXPECT_DOUBLE_EQ(p->some.avg300, 2.61);
    EXPECT_EQ(p->some.totalUsec, 90210311u);
    ASSERT_TRUE(p->full.has_value());
    EXPECT_DOUBLE_EQ(p->full->avg10, 11.90);
    EXPECT_EQ(p->full->totalUsec, 88817254u);
}

TEST(ParsePressure, FullLineIsOptionalForOldKernels) {
    auto p = parsePressure(fixture("cpu.pressure-no-full"));
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_FALSE(p->full.has_value());
    EXPECT_EQ(p->some.totalUsec, 2918273u);
}

TEST(ParsePressure, RejectsMalformedLines) {
    struct Case {
        const char* text;
        const char* reasonPart;
    };
    for (const Case& c : {
             Case{"", "no 'some' line"},
             Case{"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "no 'some' line"},
             Case{"some avg10=0.00 avg60=0.00 avg300=0.00\n", "needs avg10"},
             Case{"some avg10=x avg60=0.00 avg300=0.00 total=0\n", "bad number 'x'"},
             Case{"some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", "bad number '-1'"},
             Case{"some avg10 avg60=0.00 avg300=0.00 total=1\n", "expected key=value"},
             Case{"some avg10=nan avg60=0.00 avg300=0.00 total=1\n", "bad number 'nan'"},
             Case{"some avg10=inf avg60=0.00 avg300=0.00 total=1\n", "bad number 'inf'"},
             Case{"some avg10=-1.00 avg60=0.00 avg300=0.00 total=1\n", "bad number '-1.00'"},
         }) {
        auto r = parsePressure(c.text);
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_NE(r.error().message().find(c.reasonPart), std::string::npos) << r.error().message();
    }
}

// Each "MAJ:MIN k=v ..." line as (device, key, value) triples, for the wanted keys.
std::vector<std::string> deviceFields(std::string_view text, Result<void>& r) {
    std::vector<std::string> out;
    std::string device;
    r = forEachDeviceField(
        text, [&](std::string_view d) { device = std::string(d); },
        [](std::string_view key) { return key == "rbytes" || key == "wios"; },
        [&](std::string_view key, uint64_t v) {
            out.push_back(device + " " + std::string(key) + "=" + std::to_string(v));
        });
    return out;
}

TEST(ForEachDeviceField, ReadsEveryDeviceAndOnlyTheWantedKeys) {
    Result<void> r = success();
    auto fields = deviceFields(fixture("v2-group/io.stat"), r);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(fields, (std::vector<std::string>{"254:0 rbytes=90430464", "254:0 wios=144",
                                                "8:16 rbytes=1459200", "8:16 wios=353"}));
}

TEST(ForEachDeviceField, SkipsUnwantedFieldsEvenNonNumericOnes) {
    Result<void> r = success();
    auto fields = deviceFields("8:0 rbytes=10 wbytes=x cost.vrate=100.00\n", r);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(fields, (std::vector<std::string>{"8:0 rbytes=10"}));
}

TEST(ForEachDeviceField, RejectsBadDevicesAndNumbers) {
    for (const char* bad : {"sda rbytes=1\n", "8: rbytes=1\n", "8:0 rbytes=1x\n", "8:0 rbytes\n"}) {
        Result<void> r = success();
        deviceFields(bad, r);
        EXPECT_FALSE(r.ok()) << bad;
    }
    Result<void> r = success();
    EXPECT_TRUE(deviceFields("", r).empty());
    EXPECT_TRUE(r.ok());
}

TEST(ParseIoMax, ReadsLimitsAndMax) {
    auto io = parseIoMax(fixture("v2-group/io.max"));
    ASSERT_TRUE(io.ok()) << io.error().message();
    ASSERT_EQ(io->size(), 2u);
    EXPECT_EQ((*io)[0].majMin, "254:0");
    EXPECT_TRUE((*io)[0].rbps.isMax);
    EXPECT_EQ((*io)[0].wbps, MaxOr::of(1000000));
    EXPECT_EQ((*io)[1].rbps, MaxOr::of(2097152));
    EXPECT_EQ((*io)[1].riops, MaxOr::of(120));
    EXPECT_TRUE((*io)[1].wiops.isMax);
}

TEST(ParseIoMax, RejectsBadValues) {
    EXPECT_FALSE(parseIoMax("8:0 rbps=fast\n").ok());
    EXPECT_FALSE(parseIoMax("x rbps=1\n").ok());
}

TEST(ParseCpuMax, ReadsQuotaAndPeriod) {
    auto c = parseCpuMax(fixture("v2-group/cpu.max"));
    ASSERT_TRUE(c.ok()) << c.error().message();
    EXPECT_EQ(c->quotaUsec, std::optional<uint64_t>(50000));
    EXPECT_EQ(c->periodUsec, 100000u);
    auto m = parseCpuMax("max 250000\n");
    ASSERT_TRUE(m.ok());
    EXPECT_FALSE(m->quotaUsec.has_value());
    EXPECT_EQ(m->periodUsec, 250000u);
    auto bare = parseCpuMax("max");
    ASSERT_TRUE(bare.ok());
    EXPECT_EQ(bare->periodUsec, 100000u);
}

TEST(ParseCpuMax, RejectsGarbage) {
    for (const char* bad : {"", "x 100000", "max y", "1 2 3", "-1 100000"}) {
        EXPECT_FALSE(parseCpuMax(bad).ok()) << "'" << bad << "'";
    }
}

TEST(ParsePidList, ReadsRealCgroupProcs) {
    auto pids = parsePidList(fixture("hybrid-group/cgroup.procs"));
    ASSERT_TRUE(pids.ok()) << pids.error().message();
    ASSERT_EQ(pids->size(), 1u);
    EXPECT_GT((*pids)[0], 0);
    EXPECT_FALSE(parsePidList("12\nabc\n").ok());
    EXPECT_FALSE(parsePidList("0\n").ok());
}

TEST(IsMajMin, AcceptsOnlyTwoDecimalNumbersInRange) {
    EXPECT_TRUE(isMajMin("8:0"));
    EXPECT_TRUE(isMajMin("254:16"));
    EXPECT_FALSE(isMajMin("8"));
    EXPECT_FALSE(isMajMin(":0"));
    EXPECT_FALSE(isMajMin("8:"));
    EXPECT_FALSE(isMajMin("a:b"));
    EXPECT_FALSE(isMajMin("8:0:1"));
    EXPECT_FALSE(isMajMin("4096:0"));
    EXPECT_FALSE(isMajMin("-8:0"));
}

TEST(ParseCgroupEvents, MalformedIsAnError) {
    EXPECT_FALSE(parseCgroupEvents("populated yes\n").ok());
}

}  // namespace
}  // namespace gov::runtime
