#include <gtest/gtest.h>

#include <algorithm>

#include "gov/policies/CgroupWrites.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

DeviceTable twoDisks() {
    DeviceTable d;
    d.wholeDisks = {"8:0", "252:0"};
    d.resolved = {{"/dev/sda", "8:0"},
                  {"8:0", "8:0"},
                  {"/dev/vda", "252:0"},
                  {"/dev/sda1", "8:1"},
                  {"8:16", "8:16"}};
    return d;
}

std::vector<KnobWrite> writesFor(const std::string& cls, const DeviceTable& devices) {
    const ClassPolicy* c = defaultPolicy().find(cls);
    EXPECT_NE(c, nullptr);
    auto w = desiredWrites(c->limits, devices);
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message());
    return w.ok() ? *w : std::vector<KnobWrite>{};
}

Resources compileLimits(const std::string& body) {
    CompileResult r = compileText("[classes.t]\n" + body);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.policy->classes[0].limits : Resources{};
}

// Every knob at its kernel default, in write order.
const std::vector<KnobWrite> kBaseDefaults = {
    {"cpuset", "cpuset.cpus", "", "cpuset.cpus", true},
    {"cpuset", "cpuset.mems", "", "cpuset.mems", true},
    {"cpu", "cpu.idle", "0", "cpu.idle", true},
    {"cpu", "cpu.weight", "100", "cpu.weight", true},
    {"cpu", "cpu.max", "max 100000", "cpu.max", true},
    {"cpu", "cpu.max.burst", "0", "cpu.burst", true},
    {"memory", "memory.min", "0", "memory.min", true},
    {"memory", "memory.low", "0", "memory.low", true},
    {"memory", "memory.oom.group", "0", "memory.oom.group", true},
    {"memory", "memory.high", "max", "memory.high", true},
    {"memory", "memory.max", "max", "memory.max", true},
    {"memory", "memory.swap.max", "max", "memory.swap.max", true},
    {"memory", "memory.zswap.max", "max", "memory.zswap.max", true},
    {"pids", "pids.max", "max", "pids.max", true},
    {"io", "io.weight", "default 100", "io.weight", true},
};

// kBaseDefaults with `file` set to `value` (no longer the kernel default).
std::vector<KnobWrite> defaultsWith(std::vector<KnobWrite> writes,
                                    const std::vector<std::pair<std::string, std::string>>& set) {
    for (const auto& [file, value] : set) {
        for (auto& w : writes) {
            if (w.file == file) {
                w.value = value;
                w.kernelDefault = false;
            }
        }
    }
    return writes;
}

TEST(CgroupWrites, CoreWritesEveryKnobAtItsUnlimitedDefault) {
    EXPECT_EQ(writesFor("core", twoDisks()), kBaseDefaults);
}

TEST(CgroupWrites, NoncoreLimitsMemoryAndWritesOfEveryWholeDisk) {
    std::vector<KnobWrite> expected = defaultsWith(kBaseDefaults, {{"memory.max", "1073741824"}});
    // Sorted by MAJ:MIN numerically: 8:0 before 252:0.
    expected.push_back(
        {"io", "io.max", "8:0 rbps=max wbps=1000000 riops=max wiops=max", "io.write_bps"});
    expected.push_back(
        {"io", "io.max", "252:0 rbps=max wbps=1000000 riops=max wiops=max", "io.write_bps"});
    EXPECT_EQ(writesFor("noncore", twoDisks()), expected);
}

TEST(CgroupWrites, AdhocLimitsMemoryAndPids) {
    std::vector<KnobWrite> expected =
        defaultsWith(kBaseDefaults, {{"memory.max", "2147483648"}, {"pids.max", "1000"}});
    EXPECT_EQ(writesFor("adhoc", twoDisks()), expected);
}

TEST(CgroupWrites, WorkloadGroupsGetTheWorkloadDefaultsOfUnsetKnobs) {
    auto workload = desiredWrites(Resources{}, DeviceTable{}, GroupLevel::Workload);
    ASSERT_TRUE(workload.ok());
    EXPECT_EQ(*workload, defaultsWith(kBaseDefaults, {{"memory.oom.group", "1"}}));
    auto off = desiredWrites(compileLimits("memory.oom.group = false\n"), DeviceTable{},
                             GroupLevel::Workload);
    ASSERT_TRUE(off.ok());
    EXPECT_EQ(*off, kBaseDefaults);
}

TEST(CgroupWrites, AnIdleGroupGetsNoCpuWeightWhichTheKernelWouldRefuse) {
    auto w = desiredWrites(compileLimits("cpu.idle = true\n"), DeviceTable{});
    ASSERT_TRUE(w.ok());
    std::vector<std::string> files;
    for (const auto& k : *w) {
        files.push_back(k.file + "=" + k.value);
    }
    EXPECT_NE(std::find(files.begin(), files.end(), "cpu.idle=1"), files.end());
    EXPECT_EQ(std::find_if(files.begin(), files.end(),
                           [](const std::string& f) { return f.rfind("cpu.weight=", 0) == 0; }),
              files.end());
}

TEST(CgroupWrites, EverySetKnobIsWrittenInCgroupSyntax) {
    auto w = desiredWrites(compileLimits(R"(
cpuset.cpus = "2,0-1"
cpuset.mems = "0"
cpu.weight = 50
cpu.max = { quota = "20ms", period = "50ms" }
memory.min = "1MiB"
memory.low = "max"
memory.high = "1GB"
pids.max = "max"
)"),
                           DeviceTable{});
    ASSERT_TRUE(w.ok());
    std::vector<std::string> values;
    for (const auto& k : *w) {
        if (!k.kernelDefault || k.key == "pids.max") {
            values.push_back(k.file + "=" + k.value);
        }
    }
    // In write order; pids.max = "max" is set, and is the kernel default.
    EXPECT_EQ(values, (std::vector<std::string>{"cpuset.cpus=0-2", "cpuset.mems=0", "cpu.weight=50",
                                                "cpu.max=20000 50000", "memory.min=1048576",
                                                "memory.low=max", "memory.high=1000000000",
                                                "pids.max=max"}));
}

// The io.max lines of `writes`, in order.
std::vector<KnobWrite> ioLines(const std::vector<KnobWrite>& writes) {
    std::vector<KnobWrite> io;
    for (const auto& w : writes) {
        if (w.file == "io.max") {
            io.push_back(w);
        }
    }
    return io;
}

TEST(CgroupWrites, PerDeviceKeysOverrideAllDevicesKeysOneByOne) {
    auto w = desiredWrites(compileLimits(R"(
io.read_bps = "10MB/s"
io.write_bps = "1MB/s"
io.device."/dev/sda".write_bps = "5MB/s"
io.device."/dev/sda1".read_iops = 100
)"),
                           twoDisks());
    ASSERT_TRUE(w.ok()) << w.error().message();
    std::vector<KnobWrite> io = ioLines(*w);
    ASSERT_EQ(io.size(), 3u);
    EXPECT_EQ(io[0].value, "8:0 rbps=10000000 wbps=5000000 riops=max wiops=max");
    EXPECT_EQ(io[0].key, "io.read_bps,io.write_bps,io.device.\"/dev/sda\".write_bps");
    // A partition that is not a whole disk gets the all-devices keys too.
    EXPECT_EQ(io[1].value, "8:1 rbps=10000000 wbps=1000000 riops=100 wiops=max");
    EXPECT_EQ(io[2].value, "252:0 rbps=10000000 wbps=1000000 riops=max wiops=max");
}

TEST(CgroupWrites, OnlyNamedDevicesGetALineWithoutAnAllDevicesLimit) {
    auto w = desiredWrites(compileLimits("io.device.\"8:16\".write_iops = 7\n"), twoDisks());
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(ioLines(*w).size(), 1u);
    EXPECT_EQ(w->back(), (KnobWrite{"io", "io.max", "8:16 rbps=max wbps=max riops=max wiops=7",
                                    "io.device.\"8:16\".write_iops"}));
}

TEST(CgroupWrites, UnknownDeviceIsAnErrorNamingIt) {
    auto w = desiredWrites(compileLimits("io.device.\"/dev/nvme9n9\".write_bps = \"1MB/s\"\n"),
                           twoDisks());
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().message(), "io.device \"/dev/nvme9n9\": no such block device on this host");
}

TEST(CgroupWrites, TwoNamesOfOneDeviceAreAnError) {
    auto w = desiredWrites(compileLimits("io.device.\"/dev/sda\".write_bps = \"1MB/s\"\n"
                                         "io.device.\"8:0\".read_bps = \"1MB/s\"\n"),
                           twoDisks());
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().message().find("same device (8:0)"), std::string::npos)
        << w.error().message();
}

TEST(CgroupWrites, IoResetLineLiftsEveryLimit) {
    EXPECT_EQ(ioResetLine("8:0"), "8:0 rbps=max wbps=max riops=max wiops=max");
}

}  // namespace
}  // namespace gov::policies
