#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>

#include "TestUtil.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::runtime {
namespace {

using test::readFile;
using test::TempDir;
using test::writeFile;

class CgroupFsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto fs = CgroupFs::open(dir_.path());
        ASSERT_TRUE(fs.ok()) << fs.error().message();
        fs_.emplace(std::move(*fs));
    }
    TempDir dir_;
    std::optional<CgroupFs> fs_;
};

TEST(CgroupFsOpen, MissingRootIsAnErrorNamingIt) {
    auto fs = CgroupFs::open("/nonexistent/gov-root");
    ASSERT_FALSE(fs.ok());
    EXPECT_EQ(fs.error().message(),
              "open cgroup root /nonexistent/gov-root: No such file or directory");
}

TEST_F(CgroupFsTest, AbsoluteJoinsRootAndGroup) {
    EXPECT_EQ(fs_->absolute(""), dir_.path());
    EXPECT_EQ(fs_->absolute("a.slice/b.scope"), dir_.path() + "/a.slice/b.scope");
}

TEST_F(CgroupFsTest, MakeGroupCreatesAndExistingIsSuccess) {
    ASSERT_TRUE(fs_->makeGroup("adhoc.slice").ok());
    EXPECT_TRUE(fs_->exists("adhoc.slice"));
    EXPECT_TRUE(fs_->makeGroup("adhoc.slice").ok());
    ASSERT_TRUE(fs_->makeGroup("adhoc.slice/exec-1.scope").ok());
    EXPECT_TRUE(std::filesystem::is_directory(dir_ / "adhoc.slice/exec-1.scope"));
}

TEST_F(CgroupFsTest, MakeGroupWithoutParentFails) {
    auto r = fs_->makeGroup("missing.slice/x.scope");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "mkdir missing.slice/x.scope: No such file or directory");
}

TEST_F(CgroupFsTest, RemoveGroupMissingIsSuccessAndNonEmptyNamesIt) {
    EXPECT_TRUE(fs_->removeGroup("gone.scope").ok());
    ASSERT_TRUE(fs_->makeGroup("a.slice").ok());
    ASSERT_TRUE(fs_->makeGroup("a.slice/b.scope").ok());
    auto r = fs_->removeGroup("a.slice");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().context(), "rmdir a.slice");
    EXPECT_TRUE(fs_->removeGroup("a.slice/b.scope").ok());
    EXPECT_TRUE(fs_->removeGroup("a.slice").ok());
    EXPECT_FALSE(fs_->exists("a.slice"));
}

TEST_F(CgroupFsTest, RejectsPathsLeavingTheRoot) {
    for (const char* bad : {"/etc", "..", "a/../..", "a//b", "./a", "a/"}) {
        EXPECT_FALSE(isValidGroupPath(bad)) << bad;
        EXPECT_FALSE(fs_->makeGroup(bad).ok()) << bad;
        EXPECT_FALSE(fs_->write(bad, "cgroup.procs", "1").ok()) << bad;
        EXPECT_FALSE(fs_->read(bad, "cgroup.procs").ok()) << bad;
        EXPECT_FALSE(fs_->exists(bad)) << bad;
    }
    EXPECT_TRUE(isValidGroupPath(""));
    EXPECT_TRUE(isValidGroupPath("a.slice/b..c.scope"));
    EXPECT_FALSE(fs_->makeGroup("").ok());  // the root itself is never created/removed
    EXPECT_FALSE(fs_->removeGroup("").ok());
}

TEST_F(CgroupFsTest, ChildrenAreSortedDirectoriesOnly) {
    ASSERT_TRUE(fs_->makeGroup("noncore.slice").ok());
    ASSERT_TRUE(fs_->makeGroup("adhoc.slice").ok());
    ASSERT_TRUE(fs_->makeGroup("core.slice").ok());
    writeFile(dir_ / "cgroup.procs", "");
    auto kids = fs_->children("");
    ASSERT_TRUE(kids.ok()) << kids.error().message();
    EXPECT_EQ(*kids, (std::vector<std::string>{"adhoc.slice", "core.slice", "noncore.slice"}));
    auto none = fs_->children("adhoc.slice");
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    EXPECT_FALSE(fs_->children("missing.slice").ok());
}

TEST_F(CgroupFsTest, WriteWritesExactlyTheValueInPlace) {
    ASSERT_TRUE(fs_->makeGroup("g").ok());
    writeFile(dir_ / "g/memory.max", "max\n");
    ASSERT_TRUE(fs_->write("g", "memory.max", "1073741824").ok());
    // No newline added; no O_TRUNC (cgroupfs ignores it; a plain file keeps the tail).
    EXPECT_EQ(readFile(dir_ / "g/memory.max"), "1073741824");
}

TEST_F(CgroupFsTest, WriteToMissingFileNamesFileAndGroup) {
    ASSERT_TRUE(fs_->makeGroup("adhoc.slice").ok());
    auto r = fs_->write("adhoc.slice", "memory.max", "1");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "write memory.max in adhoc.slice: No such file or directory");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "adhoc.slice/memory.max"));  // no O_CREAT
    auto root = fs_->write("", "memory.max", "1");
    ASSERT_FALSE(root.ok());
    EXPECT_EQ(root.error().context(), "write memory.max in <root>");
}

TEST_F(CgroupFsTest, WriteErrnoFromTheFileIsReported) {
    // /dev/full returns ENOSPC on every write: stands in for a control file refusing a
    // value (EBUSY, EINVAL) through the same path.
    ASSERT_EQ(::symlink("/dev/full", (dir_ / "cgroup.kill").c_str()), 0);
    auto r = fs_->write("", "cgroup.kill", "1");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "write cgroup.kill in <root>: No space left on device");
    EXPECT_EQ(r.error().code().value(), ENOSPC);
}

volatile sig_atomic_t gAlarmed = 0;
void onAlarm(int) {
    gAlarmed = 1;
}

TEST_F(CgroupFsTest, ShortWriteIsAnError) {
    // A blocking write() into a full pipe that a signal interrupts after part of the
    // data went in returns the partial count: a real short write. The FIFO holds 4096
    // bytes, the value is 8192, and SIGALRM (no SA_RESTART) fires while it waits.
    ASSERT_EQ(::mkfifo((dir_ / "cgroup.procs").c_str(), 0600), 0);
    test::ScopedFd reader(::open((dir_ / "cgroup.procs").c_str(), O_RDONLY | O_NONBLOCK));
    ASSERT_GE(reader.fd, 0);
    ASSERT_GE(::fcntl(reader.fd, F_SETPIPE_SZ, 4096), 4096);
    const int capacity = ::fcntl(reader.fd, F_GETPIPE_SZ);
    struct sigaction sa {};
    struct sigaction old {};
    sa.sa_handler = onAlarm;
    ::sigaction(SIGALRM, &sa, &old);
    itimerval timer{};
    timer.it_value.tv_usec = 100 * 1000;
    ::setitimer(ITIMER_REAL, &timer, nullptr);
    const std::string value(static_cast<size_t>(capacity) * 2, '7');
    auto r = fs_->write("", "cgroup.procs", value);
    ::sigaction(SIGALRM, &old, nullptr);
    ASSERT_EQ(gAlarmed, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "write cgroup.procs in <root>: short write (" +
                                       std::to_string(capacity) + " of " +
                                       std::to_string(value.size()) + " bytes)");
}

TEST_F(CgroupFsTest, ReadReturnsWholeContentAndMissingIsError) {
    ASSERT_TRUE(fs_->makeGroup("g").ok());
    std::string big(10000, 'a');
    writeFile(dir_ / "g/memory.stat", big);
    auto r = fs_->read("g", "memory.stat");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, big);
    auto missing = fs_->read("g", "io.stat");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message(), "read io.stat in g: No such file or directory");
    auto maybe = fs_->readIfExists("g", "io.stat");
    ASSERT_TRUE(maybe.ok());
    EXPECT_FALSE(maybe->has_value());
}

TEST_F(CgroupFsTest, OpenGroupGivesDirectoryFd) {
    ASSERT_TRUE(fs_->makeGroup("g").ok());
    auto fd = fs_->openGroup("g");
    ASSERT_TRUE(fd.ok());
    struct stat st {};
    ASSERT_EQ(::fstat(fd->get(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    int flags = ::fcntl(fd->get(), F_GETFD);
    EXPECT_NE(flags & FD_CLOEXEC, 0);
    EXPECT_FALSE(fs_->openGroup("nope").ok());
}

TEST_F(CgroupFsTest, ControllersAndSubtreeControlAreParsed) {
    writeFile(dir_ / "cgroup.controllers", "cpuset cpu io memory pids\n");
    writeFile(dir_ / "cgroup.subtree_control", "cpu memory\n");
    auto c = fs_->controllers("");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(*c, (std::set<std::string>{"cpu", "cpuset", "io", "memory", "pids"}));
    auto s = fs_->subtreeControl("");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s, (std::set<std::string>{"cpu", "memory"}));
}

TEST_F(CgroupFsTest, EnableControllersWritesOnlyMissingOnes) {
    // On a plain file every write lands at offset 0, so the file ends up holding the
    // last write: enough to see which controllers were written and in which form.
    writeFile(dir_ / "cgroup.subtree_control", "memory pids\n");
    ASSERT_TRUE(fs_->enableControllers("", {"memory", "pids"}).ok());
    EXPECT_EQ(readFile(dir_ / "cgroup.subtree_control"), "memory pids\n");
    writeFile(dir_ / "cgroup.subtree_control", "memory\n");
    ASSERT_TRUE(fs_->enableControllers("", {"memory", "pids"}).ok());
    EXPECT_EQ(readFile(dir_ / "cgroup.subtree_control"), "+pidsy\n");
}

TEST_F(CgroupFsTest, EnableControllersListsEveryFailure) {
    ASSERT_TRUE(fs_->makeGroup("g").ok());
    auto r = fs_->enableControllers("g", {"memory"});
    ASSERT_FALSE(r.ok());  // no cgroup.subtree_control at all
    EXPECT_EQ(r.error().message(), "read cgroup.subtree_control in g: No such file or directory");
    // /proc/version reads fine (as no known controller) and refuses every write with
    // EIO, even for root: each controller is tried and each failure listed.
    ASSERT_TRUE(fs_->makeGroup("h").ok());
    ASSERT_EQ(::symlink("/proc/version", (dir_ / "h/cgroup.subtree_control").c_str()), 0);
    auto both = fs_->enableControllers("h", {"io", "memory"});
    ASSERT_FALSE(both.ok());
    EXPECT_EQ(both.error().message(),
              "enable controllers in h: io: Input/output error; memory: Input/output error");
    EXPECT_EQ(both.error().code().value(), EIO);
}

TEST_F(CgroupFsTest, MoveProcessWritesThePid) {
    ASSERT_TRUE(fs_->makeGroup("governord").ok());
    writeFile(dir_ / "governord/cgroup.procs", "");
    ASSERT_TRUE(fs_->moveProcess("governord", 4242).ok());
    EXPECT_EQ(readFile(dir_ / "governord/cgroup.procs"), "4242");
    auto pids = fs_->processes("governord");
    ASSERT_TRUE(pids.ok());
    EXPECT_EQ(*pids, (std::vector<pid_t>{4242}));
}

TEST_F(CgroupFsTest, MovedObjectKeepsWorking) {
    CgroupFs moved = std::move(*fs_);
    EXPECT_TRUE(moved.makeGroup("x").ok());
    EXPECT_TRUE(moved.exists("x"));
}

}  // namespace
}  // namespace gov::runtime
