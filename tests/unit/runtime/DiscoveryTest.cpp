#include <gtest/gtest.h>

#include "TestUtil.hpp"
#include "gov/runtime/Discovery.hpp"

namespace gov::runtime {
namespace {

using test::fixture;
using test::TempDir;
using test::writeFile;

TEST(ParseMountInfo, FindsEveryCgroupMountOnTheRealHybridHost) {
    auto mounts = parseMountInfo(fixture("mountinfo-hybrid"));
    size_t v1 = 0;
    std::vector<std::string> v2;
    for (const auto& m : mounts) {
        if (m.v2) {
            v2.push_back(m.path);
        } else {
            ++v1;
        }
    }
    EXPECT_EQ(v2, (std::vector<std::string>{"/sys/fs/cgroup/unified"}));
    EXPECT_EQ(v1, 9u);  // cpu cpuacct cpuset memory devices freezer blkio pids systemd
}

TEST(ParseMountInfo, DecodesOctalEscapesAndSkipsGarbage) {
    auto mounts = parseMountInfo(
        "garbage\n"
        "1 2 0:1 / /my\\040cgroup rw - cgroup2 cgroup2 rw\n"
        "3 4 0:2 / /x rw shared:1 master:2 - cgroup cgroup rw,memory\n"
        "5 6 0:3 / /no-separator rw cgroup2 cgroup2 rw\n");
    ASSERT_EQ(mounts.size(), 2u);
    EXPECT_EQ(mounts[0], (CgroupMountPoint{"/my cgroup", true, "/"}));
    EXPECT_EQ(mounts[1], (CgroupMountPoint{"/x", false, "/"}));
}

TEST(ChooseCgroup2, HybridHostUsesUnified) {
    auto m = chooseCgroup2(parseMountInfo(fixture("mountinfo-hybrid")));
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->path, "/sys/fs/cgroup/unified");
    EXPECT_TRUE(m->hybrid);
}

TEST(ChooseCgroup2, PureV2HostUsesSysFsCgroup) {
    auto m = chooseCgroup2(parseMountInfo(fixture("mountinfo-v2")));
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->path, "/sys/fs/cgroup");
    EXPECT_FALSE(m->hybrid);
}

TEST(ChooseCgroup2, ReportsWhetherCgroup2IsMountedWithMemoryRecursiveprot) {
    // systemd mounts "rw,nsdelegate,memory_recursiveprot"; the hybrid host's is "rw".
    auto v2 = chooseCgroup2(parseMountInfo(fixture("mountinfo-v2")));
    ASSERT_TRUE(v2.ok());
    EXPECT_TRUE(v2->memoryRecursiveProt);
    auto hybrid = chooseCgroup2(parseMountInfo(fixture("mountinfo-hybrid")));
    ASSERT_TRUE(hybrid.ok());
    EXPECT_FALSE(hybrid->memoryRecursiveProt);
    auto mounts = parseMountInfo(
        "1 2 0:1 / /a rw - cgroup2 cgroup2 rw,memory_recursiveprotx\n"
        "3 4 0:2 / /b rw - cgroup2 cgroup2 memory_recursiveprot\n");
    ASSERT_EQ(mounts.size(), 2u);
    EXPECT_FALSE(mounts[0].memoryRecursiveProt);
    EXPECT_TRUE(mounts[1].memoryRecursiveProt);
}

TEST(ChooseCgroup2, NoCgroup2IsAnError) {
    auto m = chooseCgroup2(parseMountInfo(fixture("mountinfo-none")));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().message(), "find cgroup2 mount: no cgroup2 filesystem mounted");
}

TEST(ChooseCgroup2, PrefersConventionalPathsOverOthers) {
    auto m = chooseCgroup2({{"/elsewhere", true, "/"}, {"/sys/fs/cgroup/unified", true, "/"}});
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->path, "/sys/fs/cgroup/unified");
    auto other = chooseCgroup2({{"/elsewhere", true, "/"}});
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->path, "/elsewhere");
}

TEST(DiscoverCgroup2, ReadsMountinfoAndRootControllersFromFakeRoots) {
    TempDir proc;
    TempDir fsRoot;
    writeFile(proc / "self/mountinfo", fixture("mountinfo-v2"));
    writeFile(fsRoot / "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    auto m = discoverCgroup2(proc.path(), fsRoot.path());
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->path, "/sys/fs/cgroup");
    EXPECT_EQ(m->controllers, (std::set<std::string>{"cpu", "cpuset", "io", "memory", "pids"}));
}

TEST(DiscoverCgroup2, MissingMountinfoIsAnErrorNamingIt) {
    TempDir proc;
    auto m = discoverCgroup2(proc.path());
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().message(), "discover cgroup2: read " + proc.path() +
                                       "/self/mountinfo: No such file or directory");
}

TEST(DiscoverCgroup2, RealHostHasAV2Mount) {
    auto m = discoverCgroup2();
    if (!m.ok() && m.error().code() == std::errc::no_such_file_or_directory) {
        GTEST_SKIP() << "this host has no cgroup2 mount: " << m.error().message();
    }
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_FALSE(m->path.empty());
}

TEST(RequireCgroup2, PlainDirectoryIsRefused) {
    TempDir dir;
    auto r = requireCgroup2(dir.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "cgroup root " + dir.path() +
                                       ": not on a cgroup2 filesystem (another filesystem), "
                                       "refusing to use it");
    auto missing = requireCgroup2("/nonexistent-gov");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message(), "cgroup root /nonexistent-gov: No such file or directory");
}

TEST(ParseProcCgroup, FindsTheV2Line) {
    auto hybrid = parseProcCgroup(fixture("proc-cgroup-hybrid"));
    ASSERT_TRUE(hybrid.ok()) << hybrid.error().message();
    EXPECT_EQ(hybrid->front(), '/');
    auto v2 = parseProcCgroup(fixture("proc-cgroup-v2"));
    ASSERT_TRUE(v2.ok());
    EXPECT_EQ(*v2, "/system.slice/governor.service/governord");
    auto v1 = parseProcCgroup(fixture("proc-cgroup-v1-only"));
    ASSERT_FALSE(v1.ok());
    EXPECT_NE(v1.error().message().find("no cgroup v2"), std::string::npos);
    EXPECT_FALSE(parseProcCgroup("0::relative\n").ok());
}

TEST(CurrentCgroup, ReadsProcPidCgroupUnderTheGivenRoot) {
    TempDir proc;
    writeFile(proc / "42/cgroup", "0::/adhoc.slice/x.scope\n");
    auto cg = currentCgroup(proc.path(), 42);
    ASSERT_TRUE(cg.ok()) << cg.error().message();
    EXPECT_EQ(*cg, "/adhoc.slice/x.scope");
    EXPECT_FALSE(currentCgroup(proc.path(), 43).ok());
}

TEST(ParseControllerList, SplitsOnBlanksAndNewlines) {
    EXPECT_EQ(parseControllerList("cpu io\nmemory  pids\n"),
              (std::set<std::string>{"cpu", "io", "memory", "pids"}));
    EXPECT_TRUE(parseControllerList("\n").empty());
}

}  // namespace
}  // namespace gov::runtime
