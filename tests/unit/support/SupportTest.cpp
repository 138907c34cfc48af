// The shared test helpers (tests/support) do what the tests using them rely on.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>

#include "FakeTree.hpp"
#include "Golden.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::testsupport {
namespace {

namespace fs = std::filesystem;

// Sets an environment variable for the scope of one test.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name))
            old_ = old;
        ::setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(Golden, AnUpdateRequestedUnderCiFailsAndDoesNotUpdate) {
    ScopedEnv ci("CI", "true");
    ScopedEnv update("GOV_UPDATE_SUPPORT_TEST", "1");
    bool result = true;
    EXPECT_NONFATAL_FAILURE(result = updateExpectedFiles("GOV_UPDATE_SUPPORT_TEST"),
                            "expected files are never rewritten in CI");
    EXPECT_FALSE(result);
}

TEST(Golden, AnUpdateRequestedOutsideCiIsGranted) {
    ScopedEnv ci("CI", "");
    ScopedEnv update("GOV_UPDATE_SUPPORT_TEST", "1");
    EXPECT_TRUE(updateExpectedFiles("GOV_UPDATE_SUPPORT_TEST"));
}

TEST(Golden, NoUpdateWithoutTheVariable) {
    ::unsetenv("GOV_UPDATE_SUPPORT_TEST");
    EXPECT_FALSE(updateExpectedFiles("GOV_UPDATE_SUPPORT_TEST"));
}

TEST(TempDir, IsCreatedEmptyAndRemovedWithItsContent) {
    std::string path;
    {
        TempDir dir("gov-support");
        path = dir.path();
        ASSERT_TRUE(fs::is_directory(path));
        EXPECT_TRUE(fs::is_empty(path));
        writeFile(dir / "a/b/c.txt", "x");
        EXPECT_EQ(readFile(dir / "a/b/c.txt"), "x");
    }
    EXPECT_FALSE(fs::exists(path));
}

TEST(FakeCgroupTree, AGroupHasTheFilesOfTheOfferedControllersOnly) {
    FakeCgroupTree tree("cpu pids");
    tree.makeGroup("a.slice", /*populated=*/true);
    EXPECT_EQ(tree.read("cgroup.controllers"), "cpu pids\n");
    EXPECT_EQ(tree.read("a.slice/cgroup.controllers"), "cpu pids\n");
    EXPECT_EQ(tree.read("a.slice/cgroup.events"), "populated 1\nfrozen 0\n");
    EXPECT_TRUE(tree.exists("a.slice/cpu.max"));
    EXPECT_TRUE(tree.exists("a.slice/pids.max"));
    EXPECT_FALSE(tree.exists("a.slice/memory.max"));
    EXPECT_FALSE(tree.exists("a.slice/io.max"));
}

TEST(FakeCgroupTree, WritesThroughCgroupFsLandInPlaceAndRefusedFilesFail) {
    FakeCgroupTree tree;
    tree.makeGroup("a.slice");
    auto cg = runtime::CgroupFs::open(tree.root().string());
    ASSERT_TRUE(cg.ok()) << cg.error().message();
    ASSERT_TRUE(cg->write("a.slice", "memory.max", "1024").ok());
    EXPECT_EQ(tree.read("a.slice/memory.max"), "1024");
    // No file, no write: as on cgroupfs, where a missing controller has no file.
    EXPECT_FALSE(cg->write("a.slice", "no.such.file", "1").ok());
    tree.refuseWrites("a.slice", "pids.max");
    EXPECT_FALSE(cg->write("a.slice", "pids.max", "5").ok());
    EXPECT_TRUE(cg->read("a.slice", "pids.max").ok());
}

TEST(FakeCgroupTree, DisksAppearInTheFakeSys) {
    FakeCgroupTree tree;
    tree.addDisk("vda", "254:0", 2097152);
    EXPECT_EQ(readFile(tree.sysRoot() / "block/vda/dev"), "254:0\n");
    EXPECT_EQ(readFile(tree.sysRoot() / "block/vda/size"), "2097152\n");
    EXPECT_TRUE(fs::is_directory(tree.sysRoot() / "dev/block/254:0"));
}

}  // namespace
}  // namespace gov::testsupport
