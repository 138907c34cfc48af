// Edge cases of the compiler that the fixture files do not show well: exact
// values in the IR, toml++ syntax errors, huge numbers, unicode, boundaries and
// multi-file merging.
#include <gtest/gtest.h>

#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

std::string formatAll(const CompileResult& r) {
    std::string out;
    for (const auto& d : r.diagnostics) {
        out += d.format() + "\n";
    }
    return out;
}

// Compiles `body` as the single class "t" and returns it (failing the test when
// it does not compile).
ClassPolicy compileClass(const std::string& body) {
    CompileResult r = compileText("[classes.t]\n" + body, "t.toml");
    EXPECT_TRUE(r.ok()) << formatAll(r);
    if (!r.ok()) {
        return {};
    }
    EXPECT_EQ(r.policy->classes.size(), 1u);
    return r.policy->classes.front();
}

// The single diagnostic of compiling `body` as class "t".
Diagnostic onlyError(const std::string& body) {
    CompileResult r = compileText("[classes.t]\n" + body, "t.toml");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.diagnostics.size(), 1u) << formatAll(r);
    return r.diagnostics.empty() ? Diagnostic{} : r.diagnostics.front();
}

TEST(Compile, DiagnosticFormatNamesFileLineColumnKeyAndSuggestion) {
    Diagnostic d{
        {"policy.toml", 4, 1}, "classes.adhoc.memory.mx", "unknown key 'mx'", "memory.max"};
    EXPECT_EQ(d.format(),
              "policy.toml:4:1: error: classes.adhoc.memory.mx: unknown key 'mx' (did you mean "
              "'memory.max'?)");
    Diagnostic fileLevel{{"a.toml", 0, 0}, "", "no classes defined", ""};
    EXPECT_EQ(fileLevel.format(), "a.toml: error: no classes defined");
}

TEST(Compile, UnknownKeySuggestsTheFullKeyRelativeToTheClass) {
    Diagnostic d = onlyError("memory.mx = \"1GiB\"\n");
    EXPECT_EQ(d.where, (SourceLocation{"t.toml", 2, 8}));
    EXPECT_EQ(d.keyPath, "classes.t.memory.mx");
    EXPECT_EQ(d.message, "unknown key 'mx'");
    EXPECT_EQ(d.suggestion, "memory.max");
}

TEST(Compile, UnknownKeyFarFromEveryKeyHasNoSuggestion) {
    Diagnostic d = onlyError("colour = \"blue\"\n");
    EXPECT_EQ(d.keyPath, "classes.t.colour");
    EXPECT_EQ(d.suggestion, "");
}

TEST(Compile, ValuesLandInCgroupUnits) {
    ClassPolicy c = compileClass(R"(
memory.max = "1GiB"
memory.high = 1000
memory.low = "max"
memory.min = "1.5KiB"
pids.max = 1000
cpu.weight = 1
cpu.max = "250%"
cpuset.cpus = "3,0-2"
cpuset.mems = "1,0"
io.read_bps = "10MB/s"
io.write_iops = "max"
)");
    const Resources& r = c.limits;
    EXPECT_EQ(r.memoryMax, MaxOr::of(1073741824));
    EXPECT_EQ(r.memoryHigh, MaxOr::of(1000));
    EXPECT_EQ(r.memoryLow, MaxOr::max());
    EXPECT_EQ(r.memoryMin, MaxOr::of(1536));
    EXPECT_EQ(r.pidsMax, MaxOr::of(1000));
    EXPECT_EQ(r.cpuWeight, 1u);
    EXPECT_EQ(r.cpuMax, (CpuMax{250000, 100000}));
    EXPECT_EQ(r.cpusetCpus, "0-3");
    EXPECT_EQ(r.cpusetMems, "0-1");
    ASSERT_EQ(r.io.size(), 1u);
    EXPECT_TRUE(r.io[0].allDevices());
    EXPECT_EQ(r.io[0].readBps, MaxOr::of(10000000));
    EXPECT_FALSE(r.io[0].writeBps.has_value());
    EXPECT_EQ(r.io[0].writeIops, MaxOr::max());
    EXPECT_TRUE(c.workloadLimits.empty());
}

TEST(Compile, SwapMaxOfZeroMeansNoSwapAndNestsUnderMemory) {
    ClassPolicy c =
        compileClass("memory.swap.max = 0\nworkload.memory = { swap = { max = \"1GiB\" } }\n");
    EXPECT_EQ(c.limits.memorySwapMax, MaxOr::of(0));
    EXPECT_EQ(c.workloadLimits.memorySwapMax, MaxOr::of(1073741824));
}

TEST(Compile, CpuMaxTableGivesQuotaAndPeriod) {
    EXPECT_EQ(compileClass("cpu.max = { quota = \"20ms\", period = \"50ms\" }\n").limits.cpuMax,
              (CpuMax{20000, 50000}));
    EXPECT_EQ(compileClass("cpu.max = { quota = \"max\", period = \"1s\" }\n").limits.cpuMax,
              (CpuMax{std::nullopt, 1000000}));
    EXPECT_EQ(compileClass("cpu.max = { quota = \"5ms\" }\n").limits.cpuMax,
              (CpuMax{5000, 100000}));
    EXPECT_EQ(compileClass("cpu.max = \"max\"\n").limits.cpuMax, CpuMax{});
}

TEST(Compile, PerDeviceIoComesAfterTheAllDevicesEntryInDeviceOrder) {
    ClassPolicy c = compileClass(R"(
io.device."/dev/sdb".read_iops = 10
io.write_bps = "1MB/s"
io.device."008:000".write_bps = "2MB/s"
io.device."/dev/nvme0n1".write_bps = "20MiB/s"
)");
    const auto& io = c.limits.io;
    ASSERT_EQ(io.size(), 4u);
    EXPECT_TRUE(io[0].allDevices());
    EXPECT_EQ(io[0].writeBps, MaxOr::of(1000000));
    EXPECT_EQ(io[1].device, "/dev/nvme0n1");
    EXPECT_EQ(io[1].writeBps, MaxOr::of(20971520));
    EXPECT_EQ(io[2].device, "/dev/sdb");
    EXPECT_EQ(io[2].readIops, MaxOr::of(10));
    EXPECT_EQ(io[3].device, "8:0");  // MAJ:MIN normalized
    EXPECT_EQ(io[3].where, (SourceLocation{"t.toml", 5, 11}));
}

TEST(Compile, WorkloadLimitsAreSeparateFromClassLimits) {
    ClassPolicy c = compileClass(R"(
memory.max = "4GiB"
workload.memory.max = "512MiB"
workload.pids.max = 64
workload.io.device."8:0".write_bps = "1MB/s"
)");
    EXPECT_EQ(c.limits.memoryMax, MaxOr::of(4294967296));
    EXPECT_FALSE(c.limits.pidsMax.has_value());
    EXPECT_EQ(c.workloadLimits.memoryMax, MaxOr::of(536870912));
    EXPECT_EQ(c.workloadLimits.pidsMax, MaxOr::of(64));
    ASSERT_EQ(c.workloadLimits.io.size(), 1u);
    EXPECT_EQ(c.workloadLimits.io[0].device, "8:0");
}

TEST(Compile, NamespacesAreSortedAndPrincipalsKeepTheirOrder) {
    ClassPolicy c = compileClass(R"(
namespaces = ["user", "net", "pid"]
exec.users = ["zed", "alice"]
exec.groups = ["sre"]
control.groups = ["oncall"]
description = "unicode is fine here: 日本語"
)");
    EXPECT_EQ(c.namespaces,
              (std::vector<Namespace>{Namespace::Pid, Namespace::Net, Namespace::User}));
    EXPECT_EQ(c.execAllowed.users, (std::vector<std::string>{"zed", "alice"}));
    EXPECT_EQ(c.execAllowed.groups, (std::vector<std::string>{"sre"}));
    EXPECT_TRUE(c.controlAllowed.users.empty());
    EXPECT_EQ(c.controlAllowed.groups, (std::vector<std::string>{"oncall"}));
    EXPECT_EQ(c.description, "unicode is fine here: 日本語");
}

TEST(Compile, NamespaceTableRoundTrips) {
    ASSERT_EQ(allNamespaces().size(), 7u);
    for (Namespace ns : allNamespaces()) {
        EXPECT_EQ(namespaceFromName(namespaceName(ns)), ns);
    }
    EXPECT_EQ(namespaceFromName("mnt"), std::nullopt);
    EXPECT_STREQ(namespaceName(Namespace::Mount), "mount");
}

TEST(Compile, EmptyTextIsNoClassesDefined) {
    CompileResult r = compileText("", "empty.toml");
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].format(),
              "empty.toml: error: no classes defined (a policy needs at least one "
              "[classes.NAME] table)");
    EXPECT_FALSE(r.policy.has_value());
}

TEST(Compile, DuplicateKeyIsATomlErrorWithPosition) {
    CompileResult r = compileText("[classes.a]\npids.max = 1\npids.max = 2\n", "d.toml");
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].where.line, 3u);
    EXPECT_NE(r.diagnostics[0].message.find("redefine"), std::string::npos)
        << r.diagnostics[0].message;
}

TEST(Compile, HugeIntegersAreErrorsNotWraparounds) {
    // Beyond int64: toml++ refuses the literal itself.
    CompileResult r = compileText("[classes.a]\nmemory.max = 99999999999999999999\n", "h.toml");
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].where.line, 2u);
    // INT64_MAX bytes is the largest accepted size.
    EXPECT_EQ(compileClass("memory.max = 9223372036854775807\n").limits.memoryMax,
              MaxOr::of(9223372036854775807ULL));
    Diagnostic d = onlyError("memory.max = \"9223372036854775808B\"\n");
    EXPECT_NE(d.message.find("too large"), std::string::npos) << d.message;
    Diagnostic iops = onlyError("io.read_iops = -9223372036854775808\n");
    EXPECT_NE(iops.message.find("positive"), std::string::npos) << iops.message;
}

TEST(Compile, BoundaryValuesOfPidsWeightAndCpuMax) {
    EXPECT_EQ(compileClass("pids.max = 1\n").limits.pidsMax, MaxOr::of(1));
    EXPECT_EQ(compileClass("pids.max = 4194304\n").limits.pidsMax, MaxOr::of(4194304));
    EXPECT_NE(onlyError("pids.max = 4194305\n").message.find("at most 4194304"), std::string::npos);
    EXPECT_EQ(compileClass("cpu.weight = 10000\n").limits.cpuWeight, 10000u);
    EXPECT_NE(onlyError("cpu.weight = 10001\n").message.find("1 to 10000"), std::string::npos);
    EXPECT_NE(onlyError("cpu.weight = 0\n").message.find("1 to 10000"), std::string::npos);
    EXPECT_EQ(compileClass("cpu.max = \"1%\"\n").limits.cpuMax, (CpuMax{1000, 100000}));
    EXPECT_NE(onlyError("cpu.max = \"0.99%\"\n").message.find("out of range"), std::string::npos);
    EXPECT_EQ(compileClass("cpu.max = { quota = \"1ms\", period = \"1ms\" }\n").limits.cpuMax,
              (CpuMax{1000, 1000}));
    EXPECT_NE(onlyError("cpu.max = { quota = \"1ms\", period = \"999us\" }\n")
                  .message.find("out of range"),
              std::string::npos);
    EXPECT_EQ(compileClass("memory.low = 0\n").limits.memoryLow, MaxOr::of(0));
    EXPECT_NE(onlyError("memory.max = 0\n").message.find("greater than 0"), std::string::npos);
    EXPECT_EQ(compileClass("memory.max = 1\n").limits.memoryMax, MaxOr::of(1));
}

TEST(Compile, UnicodeKeysAreUnknownKeysQuotedInThePath) {
    Diagnostic d = onlyError("\"mémoire\".max = \"1GiB\"\n");
    EXPECT_EQ(d.keyPath, "classes.t.\"mémoire\"");
    EXPECT_EQ(d.where.line, 2u);
    CompileResult r = compileText("[classes.\"über\"]\n", "u.toml");
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_NE(r.diagnostics[0].message.find("invalid class name"), std::string::npos);
}

TEST(Compile, ControlCharactersInKeysAreEscapedInMessages) {
    Diagnostic d = onlyError("\"a\\u0001b\" = 1\n");
    EXPECT_EQ(d.keyPath, "classes.t.\"a\\u0001b\"");
}

TEST(Compile, ClassWhereIsItsHeader) {
    CompileResult r = compileText("\n\n[classes.x]\npids.max = 1\n", "w.toml");
    ASSERT_TRUE(r.ok()) << formatAll(r);
    EXPECT_EQ(r.policy->classes[0].where, (SourceLocation{"w.toml", 3, 1}));
}

TEST(Compile, AllErrorsOfAllFilesAreReportedInFileThenLineOrder) {
    CompileResult r = compile({
        {"a.toml", "[classes.a]\npids.max = 0\nmemory.max = \"1gib\"\n"},
        {"b.toml", "[classes.b]\ncpu.weight = 0\n"},
        {"c.toml", "[classes.c\n"},
    });
    ASSERT_EQ(r.diagnostics.size(), 4u) << formatAll(r);
    EXPECT_EQ(r.diagnostics[0].where, (SourceLocation{"a.toml", 2, 12}));
    EXPECT_EQ(r.diagnostics[1].where, (SourceLocation{"a.toml", 3, 14}));
    EXPECT_EQ(r.diagnostics[2].where, (SourceLocation{"b.toml", 2, 14}));
    EXPECT_EQ(r.diagnostics[3].where.file, "c.toml");
    EXPECT_FALSE(r.policy.has_value());
}

TEST(Compile, FilesMergeClassesSortedByName) {
    CompileResult r = compile({
        {"policy.toml", "[governor]\nadmins.users = [\"alice\"]\n[classes.zeta]\n"},
        {"policy.d/10-a.toml", "[governor]\nadmins.groups = [\"sre\"]\n[classes.alpha]\n"},
    });
    ASSERT_TRUE(r.ok()) << formatAll(r);
    ASSERT_EQ(r.policy->classes.size(), 2u);
    EXPECT_EQ(r.policy->classes[0].name, "alpha");
    EXPECT_EQ(r.policy->classes[1].name, "zeta");
    EXPECT_EQ(r.policy->admins.users, (std::vector<std::string>{"alice"}));
    EXPECT_EQ(r.policy->admins.groups, (std::vector<std::string>{"sre"}));
    EXPECT_EQ(r.policy->sources, (std::vector<std::string>{"policy.toml", "policy.d/10-a.toml"}));
    EXPECT_EQ(r.policy->classes[0].where.file, "policy.d/10-a.toml");
}

TEST(Compile, SameClassInTwoFilesNamesBothPlaces) {
    CompileResult r = compile({
        {"policy.toml", "[classes.adhoc]\nmemory.max = \"2GiB\"\n"},
        {"policy.d/extra.toml", "# more\n\n[classes.adhoc]\npids.max = 5\n"},
    });
    ASSERT_EQ(r.diagnostics.size(), 1u) << formatAll(r);
    EXPECT_EQ(r.diagnostics[0].format(),
              "policy.d/extra.toml:3:1: error: classes.adhoc: class 'adhoc' is already defined "
              "at policy.toml:1:1 (a class may be defined in one file only)");
}

TEST(Compile, GovernorKeySetInTwoFilesNamesBothPlaces) {
    CompileResult r = compile({
        {"a.toml", "[governor]\nadmins.users = [\"alice\"]\n[classes.a]\n"},
        {"b.toml", "[classes.b]\n[governor]\nadmins.users = [\"bob\"]\nadmins.groups = []\n"},
    });
    ASSERT_EQ(r.diagnostics.size(), 1u) << formatAll(r);
    EXPECT_EQ(r.diagnostics[0].format(),
              "b.toml:3:8: error: governor.admins.users: already set at a.toml:2:8 (each "
              "[governor] key may be set in one file only)");
}

TEST(Compile, ClassesInAnyFileSatisfyTheAtLeastOneClassRule) {
    CompileResult r = compile(
        {{"gov.toml", "[governor]\nadmins.users = [\"a\"]\n"}, {"classes.toml", "[classes.x]\n"}});
    EXPECT_TRUE(r.ok()) << formatAll(r);
    CompileResult none = compile({{"gov.toml", "[governor]\n"}, {"other.toml", "# nothing\n"}});
    ASSERT_EQ(none.diagnostics.size(), 1u);
    EXPECT_EQ(none.diagnostics[0].where, (SourceLocation{"gov.toml", 0, 0}));
}

TEST(Compile, InvalidUtf8IsADiagnosticNotACrash) {
    CompileResult r = compileText(std::string("[classes.a]\ndescription = \"\xff\xfe\"\n"), "x");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.diagnostics.size(), 1u);
    CompileResult nul = compileText(std::string("[classes.a]\n\0x = 1\n", 17), "n");
    EXPECT_FALSE(nul.ok());
}

}  // namespace
}  // namespace gov::policies
