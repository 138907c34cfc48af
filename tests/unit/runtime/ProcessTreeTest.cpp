// The process facts a checkpoint decides on: the ppid parser, the one-tree rule,
// which stdio is lost, and the /proc readers on this test's own children.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gov/runtime/ProcessTree.hpp"

namespace gov::runtime {
namespace {

TEST(ProcessTree, ParsesPpidAfterTheLastParenthesis) {
    EXPECT_EQ(*parseStatPpid("812 (sleep) S 1 812 812 0 -1"), 1);
    EXPECT_EQ(*parseStatPpid("900 (a) b (c)) R 812 900 0"), 812);
    EXPECT_EQ(*parseStatPpid("7 (x y) Z 0 0"), 0);
}

TEST(ProcessTree, RefusesStatLinesWithoutPpid) {
    EXPECT_FALSE(parseStatPpid("").ok());
    EXPECT_FALSE(parseStatPpid("812 sleep S 1").ok());
    EXPECT_FALSE(parseStatPpid("812 (sleep) S").ok());
    EXPECT_FALSE(parseStatPpid("812 (sleep) S x").ok());
    EXPECT_FALSE(parseStatPpid("812 (sleep) S -4").ok());
}

TEST(ProcessTree, FindsTheOneRoot) {
    EXPECT_EQ(*findTreeRoot({{812, 1}}), 812);
    EXPECT_EQ(*findTreeRoot({{812, 700}, {813, 812}, {814, 813}, {815, 812}}), 812);
}

TEST(ProcessTree, RefusesSeveralTreesNamingTheRoots) {
    auto r = findTreeRoot({{812, 700}, {813, 812}, {900, 1}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(),
              "find the process tree: 2 processes have their parent outside the group (812, "
              "900); CRIU dumps exactly one process tree");
    EXPECT_FALSE(findTreeRoot({}).ok());
}

StdioFd fd(pid_t pid, int n, std::string target, int mode = O_WRONLY) {
    StdioFd f;
    f.pid = pid;
    f.fd = n;
    f.target = std::move(target);
    f.accessMode = mode;
    return f;
}

TEST(ProcessTree, LostStdioTable) {
    StdioFd tty = fd(10, 0, "/dev/pts/3", O_RDWR);
    tty.terminal = true;
    tty.ttyKey = "tty[8803:1a]";
    std::vector<StdioFd> fds = {
        fd(10, 0, "/dev/null", O_RDONLY),           // kept: reopened by path
        fd(10, 1, "/var/log/job.log"),              // kept
        fd(10, 2, "pipe:[100]"),                    // lost: the reader is outside
        fd(11, 1, "pipe:[200]"),                    // kept: 12 reads it ...
        fd(12, 0, "pipe:[200]", O_RDONLY),          // ... inside the tree
        fd(12, 1, "socket:[300]", O_RDWR),          // lost
        fd(12, 2, "anon_inode:[eventfd]", O_RDWR),  // left to CRIU
        tty,                                        // lost
    };
    auto lost = findLostStdio(fds);
    ASSERT_EQ(lost.size(), 3u);
    EXPECT_EQ(lost[0].pid, 10);
    EXPECT_EQ(lost[0].fd, 2);
    EXPECT_EQ(lost[0].resource, "pipe:[100]");
    EXPECT_EQ(lost[1].resource, "socket:[300]");
    EXPECT_EQ(lost[2].resource, "tty[8803:1a]");
}

TEST(ProcessTree, APipeReadAndWrittenByOneProcessIsKept) {
    auto lost = findLostStdio({fd(10, 0, "pipe:[5]", O_RDWR)});
    EXPECT_TRUE(lost.empty());
}

// A child that waits on a pipe; its stdio as given.
struct Child {
    pid_t pid = -1;
    int release = -1;
    ~Child() {
        if (release >= 0) {
            ::close(release);
        }
        if (pid > 0) {
            ::waitpid(pid, nullptr, 0);
        }
    }
};

// Returns once the child has its stdio in place (it says so on a pipe).
void startChild(Child& c, int in, int out, int err) {
    int p[2];
    int ready[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::close(p[1]);  // so that the parent's close is an EOF here
        (void)!::write(ready[1], "r", 1);
        char b;
        (void)!::read(p[0], &b, 1);
        ::_exit(0);
    }
    ::close(p[0]);
    ::close(ready[1]);
    c.pid = pid;
    c.release = p[1];
    char b;
    ASSERT_EQ(::read(ready[0], &b, 1), 1);
    ::close(ready[0]);
}

TEST(ProcessTree, ReadsStdioParentsAndCommandOfARealChild) {
    int devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(devNull, 0);
    int pipeFds[2];
    ASSERT_EQ(::pipe2(pipeFds, O_CLOEXEC), 0);
    Child c;
    startChild(c, devNull, pipeFds[1], devNull);
    auto stdio = readStdio("/proc", {c.pid});
    ASSERT_TRUE(stdio.ok()) << stdio.error().message();
    ASSERT_EQ(stdio->size(), 3u);
    EXPECT_EQ((*stdio)[0].target, "/dev/null");
    EXPECT_FALSE((*stdio)[0].terminal);
    EXPECT_EQ((*stdio)[1].target.rfind("pipe:[", 0), 0u);
    EXPECT_EQ((*stdio)[1].accessMode, O_WRONLY);
    auto lost = findLostStdio(*stdio);
    ASSERT_EQ(lost.size(), 1u);
    EXPECT_EQ(lost[0].fd, 1);

    auto parents = readParents("/proc", {c.pid});
    ASSERT_TRUE(parents.ok()) << parents.error().message();
    EXPECT_EQ(parents->at(c.pid), ::getpid());
    auto cmd = readCommandLine("/proc", ::getpid());
    ASSERT_TRUE(cmd.ok());
    ASSERT_FALSE(cmd->empty());
    EXPECT_NE(cmd->front().find("checkpoint_test"), std::string::npos);
    ::close(devNull);
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
}

TEST(ProcessTree, AMissingProcessIsAnErrorNamingItsFile) {
    auto r = readParents("/proc", {999999999});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("/proc/999999999/stat"), std::string::npos);
}

}  // namespace
}  // namespace gov::runtime
