// Table-driven: every tests/fixtures/policies/valid/*.toml compiles; every
// invalid/NAME.toml yields exactly the diagnostics in invalid/NAME.expected (one
// formatted diagnostic per line). Diagnostics name the file as "NAME.toml".
//
// After an intended change of messages, regenerate with
// GOV_UPDATE_EXPECTED=1 ./policies_test --gtest_filter='PolicyFixtures.*' and review
// the diff (refused when CI is set).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Golden.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(GOV_SOURCE_DIR) / "tests/fixtures/policies";

std::string readAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<fs::path> filesIn(const fs::path& dir, const std::string& ext) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ext) {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string formatAll(const CompileResult& r) {
    std::string out;
    for (const auto& d : r.diagnostics) {
        out += d.format() + "\n";
    }
    return out;
}

TEST(PolicyFixtures, EveryValidFixtureCompilesWithoutDiagnostics) {
    auto files = filesIn(kFixtures / "valid", ".toml");
    ASSERT_GE(files.size(), 3u) << "fixtures missing under " << kFixtures;
    for (const auto& f : files) {
        CompileResult r = compileText(readAll(f), f.filename().string());
        EXPECT_TRUE(r.ok()) << f << ":\n" << formatAll(r);
    }
}

TEST(PolicyFixtures, EveryInvalidFixtureGivesExactlyItsExpectedDiagnostics) {
    auto files = filesIn(kFixtures / "invalid", ".toml");
    ASSERT_GE(files.size(), 10u) << "fixtures missing under " << kFixtures;
    const bool update = testsupport::updateExpectedFiles("GOV_UPDATE_EXPECTED");
    for (const auto& f : files) {
        CompileResult r = compileText(readAll(f), f.filename().string());
        EXPECT_FALSE(r.ok()) << f;
        EXPECT_FALSE(r.policy.has_value()) << f;
        fs::path expectedFile = f;
        expectedFile.replace_extension(".expected");
        std::string actual = formatAll(r);
        if (update) {
            std::ofstream(expectedFile, std::ios::binary) << actual;
            continue;
        }
        ASSERT_TRUE(fs::exists(expectedFile)) << "missing " << expectedFile;
        EXPECT_EQ(actual, readAll(expectedFile)) << f;
    }
}

TEST(PolicyFixtures, EveryExpectedFileHasItsPolicy) {
    for (const auto& e : filesIn(kFixtures / "invalid", ".expected")) {
        fs::path toml = e;
        toml.replace_extension(".toml");
        EXPECT_TRUE(fs::exists(toml)) << e << " has no policy file";
    }
}

}  // namespace
}  // namespace gov::policies
