#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

namespace fs = std::filesystem;

class LoadPolicyFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("gov-policy-load-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "policy.d");
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string write(const std::string& rel, const std::string& text) {
        std::ofstream(dir_ / rel) << text;
        return (dir_ / rel).string();
    }
    fs::path dir_;
};

TEST_F(LoadPolicyFiles, NoFilesAndEmptyDirectoryGiveTheDefaultPolicy) {
    CompileResult r = loadPolicyFiles({}, (dir_ / "policy.d").string());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r.policy, defaultPolicy());
    CompileResult missingDir = loadPolicyFiles({}, (dir_ / "nope").string());
    ASSERT_TRUE(missingDir.ok());
    EXPECT_EQ(*missingDir.policy, defaultPolicy());
}

TEST_F(LoadPolicyFiles, ReadsFilesThenDirectoryInNameOrder) {
    std::string main = write("policy.toml", "[classes.main]\n");
    write("policy.d/20-b.toml", "[classes.b]\n");
    write("policy.d/10-a.toml", "[classes.a]\n");
    write("policy.d/README", "not toml, ignored");
    CompileResult r = loadPolicyFiles({main}, (dir_ / "policy.d").string());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.policy->sources.size(), 3u);
    EXPECT_EQ(r.policy->sources[0], main);
    EXPECT_EQ(fs::path(r.policy->sources[1]).filename(), "10-a.toml");
    EXPECT_EQ(fs::path(r.policy->sources[2]).filename(), "20-b.toml");
    EXPECT_EQ(r.policy->classes.size(), 3u);
}

TEST_F(LoadPolicyFiles, DuplicateClassAcrossFilesNamesBothFiles) {
    std::string main = write("policy.toml", "[classes.adhoc]\n");
    std::string extra = write("policy.d/x.toml", "\n[classes.adhoc]\n");
    CompileResult r = loadPolicyFiles({main}, (dir_ / "policy.d").string());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].format(),
              extra + ":2:1: error: classes.adhoc: class 'adhoc' is already defined at " + main +
                  ":1:1 (a class may be defined in one file only)");
}

TEST_F(LoadPolicyFiles, MissingFileIsADiagnosticAndOtherFilesStillReportTheirErrors) {
    std::string bad = write("bad.toml", "[classes.a]\npids.max = 0\n");
    CompileResult r = loadPolicyFiles({(dir_ / "missing.toml").string(), bad}, "");
    ASSERT_EQ(r.diagnostics.size(), 2u);
    EXPECT_EQ(r.diagnostics[0].format(),
              (dir_ / "missing.toml").string() +
                  ": error: cannot read the file: No such file or directory");
    EXPECT_EQ(r.diagnostics[1].where.file, bad);
    EXPECT_FALSE(r.policy.has_value());
}

}  // namespace
}  // namespace gov::policies
