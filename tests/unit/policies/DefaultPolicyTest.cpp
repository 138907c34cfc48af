#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

TEST(DefaultPolicy, HasExactlyCoreNoncoreAdhocWithTheDesignLimits) {
    const Policy& p = defaultPolicy();
    ASSERT_EQ(p.classes.size(), 3u);

    const ClassPolicy* core = p.find("core");
    ASSERT_NE(core, nullptr);
    EXPECT_TRUE(core->limits.empty());
    EXPECT_TRUE(core->workloadLimits.empty());
    EXPECT_FALSE(core->description.empty());

    const ClassPolicy* noncore = p.find("noncore");
    ASSERT_NE(noncore, nullptr);
    Resources expectedNoncore;
    expectedNoncore.memoryMax = MaxOr::of(1073741824);
    IoLimit write;
    write.writeBps = MaxOr::of(1000000);
    expectedNoncore.io.push_back(write);
    EXPECT_EQ(noncore->limits, expectedNoncore);
    EXPECT_FALSE(noncore->description.empty());

    const ClassPolicy* adhoc = p.find("adhoc");
    ASSERT_NE(adhoc, nullptr);
    Resources expectedAdhoc;
    expectedAdhoc.memoryMax = MaxOr::of(2147483648);
    expectedAdhoc.pidsMax = MaxOr::of(1000);
    EXPECT_EQ(adhoc->limits, expectedAdhoc);
    EXPECT_FALSE(adhoc->description.empty());

    EXPECT_TRUE(p.admins.empty());
}

TEST(DefaultPolicy, TextCompilesToTheSamePolicy) {
    CompileResult r = compileText(defaultPolicyText());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r.policy, defaultPolicy());
}

TEST(DefaultPolicy, PackagedExampleCompilesToTheBuiltInDefault) {
    const std::string path = std::string(GOV_SOURCE_DIR) + "/packaging/policy.toml.example";
    std::ifstream in(path);
    ASSERT_TRUE(in) << "cannot open " << path;
    std::ostringstream text;
    text << in.rdbuf();
    CompileResult r = compileText(text.str(), path);
    std::string diags;
    for (const auto& d : r.diagnostics) {
        diags += d.format() + "\n";
    }
    ASSERT_TRUE(r.ok()) << diags;
    EXPECT_EQ(*r.policy, defaultPolicy());
}

TEST(DefaultPolicy, EqualityIgnoresLocationsButNotLimits) {
    Policy a = defaultPolicy();
    Policy b = a;
    b.classes[0].where = SourceLocation{"elsewhere.toml", 99, 9};
    b.sources = {"elsewhere.toml"};
    EXPECT_EQ(a, b);
    b.classes[0].limits.pidsMax = MaxOr::of(1);
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace gov::policies
