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

// The lines of a /proc/<pid>/status that parseProcCreds reads.
std::string status(const std::string& uids, const std::string& gids, const std::string& groups,
                   const std::string& capPrm = "0000000000000000",
                   const std::string& capEff = "0000000000000000") {
    return "Name:\tcount\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t" + uids + "\nGid:\t" + gids +
           "\nFDSize:\t64\nGroups:\t" + groups + "\nCapInh:\t0000000000000000\nCapPrm:\t" + capPrm +
           "\nCapEff:\t" + capEff + "\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n";
}

TEST(ProcessTree, ParsesCredentialsFromStatus) {
    auto c = parseProcCreds(status("1000\t1000\t0\t1000", "100\t100\t100\t27", "27 100 1000 ",
                                   "0000000000003000", "0000000000001000"));
    ASSERT_TRUE(c.ok()) << c.error().message();
    EXPECT_EQ(c->uids[0], 1000u);
    EXPECT_EQ(c->uids[2], 0u);
    EXPECT_EQ(c->gids[3], 27u);
    EXPECT_EQ(c->groups, (std::vector<gid_t>{27, 100, 1000}));
    EXPECT_EQ(c->capPermitted, 0x3000u);
    EXPECT_EQ(c->capEffective, 0x1000u);
    EXPECT_EQ(c->capAmbient, 0u);
    auto none = parseProcCreds(status("0\t0\t0\t0", "0\t0\t0\t0", ""));
    ASSERT_TRUE(none.ok()) << none.error().message();
    EXPECT_TRUE(none->groups.empty());
}

TEST(ProcessTree, RefusesStatusWithoutItsCredentials) {
    struct Case {
        const char* name;
        std::string text;
    };
    const Case cases[] = {
        {"empty", ""},
        {"three uids", status("1\t1\t1", "1\t1\t1\t1", "")},
        {"a word for a gid", status("1\t1\t1\t1", "1\tx\t1\t1", "")},
        {"no CapEff", "Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nCapPrm:\t0\n"},
        {"CapPrm not hex", status("1\t1\t1\t1", "1\t1\t1\t1", "", "zz")},
        {"bad groups", status("1\t1\t1\t1", "1\t1\t1\t1", "27 x")},
    };
    for (const auto& c : cases) {
        EXPECT_FALSE(parseProcCreds(c.text).ok()) << c.name;
    }
}

ProcCreds creds(uid_t r, uid_t e, uid_t s, uid_t f, gid_t g, gid_t eg, uint64_t caps = 0,
                std::vector<gid_t> groups = {}) {
    ProcCreds c;
    c.uids[0] = r;
    c.uids[1] = e;
    c.uids[2] = s;
    c.uids[3] = f;
    c.gids[0] = c.gids[2] = c.gids[3] = g;
    c.gids[1] = eg;
    c.capPermitted = c.capEffective = caps;
    c.groups = std::move(groups);
    return c;
}

TEST(ProcessTree, PlainOwnerTable) {
    struct Case {
        const char* name;
        std::vector<ProcCreds> procs;
        std::optional<uid_t> owner;
    };
    const Case cases[] = {
        {"one plain process", {creds(1000, 1000, 1000, 1000, 100, 100)}, 1000},
        {"two of one user",
         {creds(1000, 1000, 1000, 1000, 100, 100), creds(1000, 1000, 1000, 1000, 27, 27)},
         1000},
        {"two users",
         {creds(1000, 1000, 1000, 1000, 100, 100), creds(1001, 1001, 1001, 1001, 100, 100)},
         std::nullopt},
        {"a setuid-root program", {creds(1000, 0, 0, 0, 100, 100)}, std::nullopt},
        {"a saved uid of root", {creds(1000, 1000, 0, 1000, 100, 100)}, std::nullopt},
        {"a setgid program", {creds(1000, 1000, 1000, 1000, 100, 42)}, std::nullopt},
        {"file capabilities", {creds(1000, 1000, 1000, 1000, 100, 100, 1u << 13)}, std::nullopt},
        {"root with capabilities", {creds(0, 0, 0, 0, 0, 0, 0x1ffffffffff)}, 0},
        {"root and a user",
         {creds(0, 0, 0, 0, 0, 0), creds(1000, 1000, 1000, 1000, 100, 100)},
         std::nullopt},
        {"nothing", {}, std::nullopt},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(plainOwner(c.procs), c.owner) << c.name;
    }
}

TEST(ProcessTree, HeldGidsAreEveryGidOnce) {
    EXPECT_EQ(heldGids({creds(1000, 1000, 1000, 1000, 100, 42, 0, {27, 100}),
                        creds(1000, 1000, 1000, 1000, 100, 100, 0, {1000})}),
              (std::vector<gid_t>{27, 42, 100, 1000}));
    EXPECT_TRUE(heldGids({}).empty());
}

TEST(ProcessTree, ReadsTheCredentialsOfThisProcess) {
    auto c = readCreds("/proc", {::getpid()});
    ASSERT_TRUE(c.ok()) << c.error().message();
    ASSERT_EQ(c->size(), 1u);
    EXPECT_EQ((*c)[0].pid, ::getpid());
    EXPECT_EQ((*c)[0].uids[0], ::getuid());
    EXPECT_EQ((*c)[0].uids[1], ::geteuid());
    EXPECT_EQ((*c)[0].gids[0], ::getgid());
}

TEST(ProcessTree, AMissingProcessIsAnErrorNamingItsFile) {
    auto r = readParents("/proc", {999999999});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("/proc/999999999/stat"), std::string::npos);
}

}  // namespace
}  // namespace gov::runtime
