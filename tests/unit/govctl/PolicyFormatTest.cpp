#include <gtest/gtest.h>

#include "PolicyFormat.hpp"

namespace gov::govctl {
namespace {

using policies::CpuMax;
using policies::IoLimit;
using policies::MaxOr;

TEST(PolicyFormat, SizeCellsAreHumanFriendly) {
    EXPECT_EQ(formatSizeCell(std::nullopt), "-");
    EXPECT_EQ(formatSizeCell(MaxOr::max()), "max");
    EXPECT_EQ(formatSizeCell(MaxOr::of(1073741824)), "1 GiB");
    EXPECT_EQ(formatSizeCell(MaxOr::of(1500000000)), "1500 MB");
}

TEST(PolicyFormat, CpuMaxIsAPercentWhenExact) {
    EXPECT_EQ(formatCpuMaxCell(std::nullopt), "-");
    EXPECT_EQ(formatCpuMaxCell(CpuMax{}), "max");
    EXPECT_EQ(formatCpuMaxCell(CpuMax{50000, 100000}), "50%");
    EXPECT_EQ(formatCpuMaxCell(CpuMax{250000, 100000}), "250%");
    EXPECT_EQ(formatCpuMaxCell(CpuMax{1000, 3000}), "1ms/3ms");
    EXPECT_EQ(formatCpuMaxCell(CpuMax{std::nullopt, 50000}), "max/50ms");
}

TEST(PolicyFormat, IoCellListsAllDevicesThenEachDevice) {
    IoLimit all;
    all.writeBps = MaxOr::of(1000000);
    all.readIops = MaxOr::max();
    IoLimit dev;
    dev.device = "/dev/sda";
    dev.readBps = MaxOr::of(20971520);
    EXPECT_EQ(formatIoCell({}), "-");
    EXPECT_EQ(formatIoCell({all, dev}), "wbps 1 MB/s riops max; /dev/sda: rbps 20 MiB/s");
}

TEST(PolicyFormat, TableEndsWithSourcesAndAdmins) {
    policies::Policy p = policies::defaultPolicy();
    p.sources = {"a.toml", "b.toml"};
    p.admins.users = {"alice"};
    std::string table = formatPolicyTable(p);
    EXPECT_NE(table.find("\n3 classes from a.toml,b.toml; '-' = not set (no limit)\n"
                         "admins: users alice\n"),
              std::string::npos)
        << table;
}

TEST(PolicyFormat, WorkloadLimitsGetTheirOwnRow) {
    auto r = policies::compileText("[classes.x]\nworkload.pids.max = 7\n");
    ASSERT_TRUE(r.ok());
    std::string table = formatPolicyTable(*r.policy);
    EXPECT_NE(table.find("\nx/workload "), std::string::npos) << table;
}

TEST(PolicyFormat, JsonDumpReplacesInvalidUtf8InsteadOfThrowing) {
    std::vector<policies::Diagnostic> d{{{"bad\xff.toml", 1, 2}, "", "oops", ""}};
    std::string text = dumpJson(diagnosticsToJson(d));
    EXPECT_NE(text.find("\"line\": 1"), std::string::npos);
    auto parsed = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << text;
}

}  // namespace
}  // namespace gov::govctl
