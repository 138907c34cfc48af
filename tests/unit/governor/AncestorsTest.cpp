#include <gtest/gtest.h>

#include <filesystem>

#include "FakeTree.hpp"
#include "gov/core/Ancestors.hpp"

namespace gov::core {
namespace {

namespace fs = std::filesystem;

using testsupport::readFile;
using testsupport::writeFile;

class Ancestors : public ::testing::Test {
  protected:
    void group(const fs::path& g, const std::string& offered, const std::string& enabled) {
        writeFile(g / "cgroup.controllers", offered);
        writeFile(g / "cgroup.subtree_control", enabled);
    }
    testsupport::TempDir dir_{"gov-ancestors"};
    // Stands for the cgroup2 mount.
    fs::path mount_ = dir_.path();
};

TEST_F(Ancestors, EnablesWhatIsOfferedAndMissingFromTheMountDown) {
    group(mount_, "cpu memory pids\n", "");
    group(mount_ / "infra", "memory\n", "memory\n");
    fs::create_directories(mount_ / "infra" / "governor");
    auto problems = enableAncestorControllers(mount_.string(), (mount_ / "infra/governor").string(),
                                              {"memory", "io"});
    EXPECT_TRUE(problems.empty()) << problems[0];
    // The mount offered memory (not io) and did not enable it: one write.
    EXPECT_EQ(readFile(mount_ / "cgroup.subtree_control"), "+memory");
    // Already enabled in infra: untouched.
    EXPECT_EQ(readFile(mount_ / "infra/cgroup.subtree_control"), "memory\n");
}

TEST_F(Ancestors, NothingOutsideTheMount) {
    group(mount_, "memory\n", "");
    EXPECT_TRUE(
        enableAncestorControllers(mount_.string(), "/elsewhere/governor", {"memory"}).empty());
    EXPECT_TRUE(enableAncestorControllers(mount_.string(), mount_.string(), {"memory"}).empty());
    EXPECT_EQ(readFile(mount_ / "cgroup.subtree_control"), "");
}

TEST_F(Ancestors, AMissingAncestorIsReported) {
    group(mount_, "memory\n", "memory\n");
    auto problems =
        enableAncestorControllers(mount_.string(), (mount_ / "gone/governor").string(), {"memory"});
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("gone"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace gov::core
