// Clone3Spawner without cgroups or namespaces (those are in the live tests): command
// resolution, exec errors, stdio, env, cwd, exit codes, signals.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>

#include "TestUtil.hpp"
#include "gov/runtime/Namespaces.hpp"
#include "gov/runtime/Spawner.hpp"

namespace gov::runtime {
namespace {

using test::TempDir;
using test::writeFile;

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "LC_ALL=C"};

SpawnRequest command(std::vector<std::string> argv) {
    SpawnRequest r;
    r.argv = std::move(argv);
    r.env = kEnv;
    return r;
}

// Runs `req` with stdout captured; returns (exit code, stdout).
std::pair<int, std::string> runCaptured(SpawnRequest req) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    req.stdoutFd = p[1];
    Clone3Spawner spawner;
    auto proc = spawner.spawn(req);
    ::close(p[1]);
    if (!proc.ok()) {
        ::close(p[0]);
        ADD_FAILURE() << proc.error().message();
        return {-1, ""};
    }
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    auto code = waitExit(*proc);
    EXPECT_TRUE(code.ok());
    return {code.valueOr(-1), out};
}

bool noChildLeft() {
    int status = 0;
    return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

TEST(Clone3Spawner, RunsACommandAndReportsItsExitCode) {
    Clone3Spawner spawner;
    auto t = spawner.spawn(command({"true"}));
    ASSERT_TRUE(t.ok()) << t.error().message();
    EXPECT_GT(t->pid, 0);
    EXPECT_TRUE(t->pidfd.valid());
    auto code = waitExit(*t);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0);
    auto three = spawner.spawn(command({"sh", "-c", "exit 3"}));
    ASSERT_TRUE(three.ok());
    EXPECT_EQ(waitExit(*three).valueOr(-1), 3);
}

TEST(Clone3Spawner, DeathBySignalIs128PlusSignal) {
    Clone3Spawner spawner;
    auto p = spawner.spawn(command({"sh", "-c", "kill -9 $$"}));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(waitExit(*p).valueOr(-1), 128 + SIGKILL);
}

TEST(Clone3Spawner, MissingCommandIsAnErrorAndLeavesNoChild) {
    Clone3Spawner spawner;
    auto p = spawner.spawn(command({"gov-no-such-command-8d1f", "-x"}));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(), "exec gov-no-such-command-8d1f: No such file or directory");
    EXPECT_TRUE(noChildLeft());
    auto abs = spawner.spawn(command({"/nonexistent/tcpdump"}));
    ASSERT_FALSE(abs.ok());
    EXPECT_EQ(abs.error().message(), "exec /nonexistent/tcpdump: No such file or directory");
}

TEST(Clone3Spawner, PathComesFromTheRequestEnvironment) {
    Clone3Spawner spawner;
    SpawnRequest r = command({"sh", "-c", "true"});
    r.env = {"PATH=/nonexistent"};
    auto p = spawner.spawn(r);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(), "exec sh: No such file or directory");
}

TEST(Clone3Spawner, NonExecutableFileIsPermissionDenied) {
    TempDir dir;
    writeFile(dir / "script", "#!/bin/sh\n");
    Clone3Spawner spawner;
    auto p = spawner.spawn(command({dir / "script"}));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(), "exec " + (dir / "script") + ": Permission denied");
}

TEST(Clone3Spawner, ExecFailureInTheChildIsReported) {
    // Executable bit set but not a valid executable and no #!: execve says ENOEXEC,
    // which only the child can find out.
    TempDir dir;
    writeFile(dir / "junk", std::string("\x7f"
                                        "ELFjunk",
                                        8));
    ASSERT_EQ(::chmod((dir / "junk").c_str(), 0755), 0);
    Clone3Spawner spawner;
    auto p = spawner.spawn(command({dir / "junk"}));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(), "exec " + (dir / "junk") + ": Exec format error");
    EXPECT_TRUE(noChildLeft());
}

TEST(Clone3Spawner, StdoutEnvAndArgvReachTheChild) {
    SpawnRequest r = command({"sh", "-c", "echo \"$GOV_X|$0|$1\"", "zero", "one"});
    r.env.push_back("GOV_X=hello world");
    auto [code, out] = runCaptured(r);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out, "hello world|zero|one\n");
}

TEST(Clone3Spawner, EnvironmentIsExactlyTheRequestOne) {
    ::setenv("GOV_PARENT_ONLY", "1", 1);
    auto [code, out] = runCaptured(command({"env"}));
    ::unsetenv("GOV_PARENT_ONLY");
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out, "PATH=/usr/bin:/bin\nLC_ALL=C\n");
}

TEST(Clone3Spawner, StdinAndStderrAreRedirected) {
    TempDir dir;
    writeFile(dir / "in", "from stdin\n");
    int in = ::open((dir / "in").c_str(), O_RDONLY | O_CLOEXEC);
    int err = ::open((dir / "err").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    SpawnRequest r = command({"sh", "-c", "cat >&2"});
    r.stdinFd = in;
    r.stderrFd = err;
    Clone3Spawner spawner;
    auto p = spawner.spawn(r);
    ::close(in);
    ::close(err);
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(waitExit(*p).valueOr(-1), 0);
    EXPECT_EQ(test::readFile(dir / "err"), "from stdin\n");
}

TEST(Clone3Spawner, SwappedStdioFdsAreNotClobbered) {
    // stdout := the caller's fd 2 target, via a pipe placed at a low number.
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    SpawnRequest r = command({"sh", "-c", "echo out; echo err >&2"});
    r.stdoutFd = p[1];
    r.stderrFd = p[1];
    Clone3Spawner spawner;
    auto proc = spawner.spawn(r);
    ::close(p[1]);
    ASSERT_TRUE(proc.ok());
    std::string out;
    char buf[64];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    EXPECT_EQ(waitExit(*proc).valueOr(-1), 0);
    EXPECT_EQ(out, "out\nerr\n");
}

TEST(Clone3Spawner, CwdIsApplied) {
    TempDir dir;
    SpawnRequest r = command({"pwd"});
    r.cwd = dir.path();
    auto [code, out] = runCaptured(r);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out, dir.path() + "\n");
}

TEST(Clone3Spawner, BadCwdIsAnErrorNamingIt) {
    SpawnRequest r = command({"pwd"});
    r.cwd = "/nonexistent-gov-dir";
    Clone3Spawner spawner;
    auto p = spawner.spawn(r);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(),
              "spawn pwd: chdir /nonexistent-gov-dir: No such file or directory");
    EXPECT_TRUE(noChildLeft());
}

TEST(Clone3Spawner, SignalMaskAndIgnoredSignalsAreReset) {
    // The parent ignores SIGINT and blocks SIGTERM; the workload must not inherit that.
    struct sigaction ign {};
    struct sigaction old {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGINT, &ign, &old);
    sigset_t term, oldMask;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &term, &oldMask);
    auto [code, out] =
        runCaptured(command({"sh", "-c", "grep -E '^(SigBlk|SigIgn)' /proc/self/status"}));
    ::pthread_sigmask(SIG_SETMASK, &oldMask, nullptr);
    ::sigaction(SIGINT, &old, nullptr);
    EXPECT_EQ(code, 0);
    // SigBlk must be empty; SIGINT (bit 1) not ignored (the shell may ignore others).
    EXPECT_NE(out.find("SigBlk:\t0000000000000000"), std::string::npos) << out;
    auto ignPos = out.find("SigIgn:\t");
    ASSERT_NE(ignPos, std::string::npos);
    uint64_t ignored = 0;
    const char* hex = out.data() + ignPos + 8;
    ASSERT_EQ(std::from_chars(hex, hex + 16, ignored, 16).ec, std::errc());
    EXPECT_EQ(ignored & (1ULL << (SIGINT - 1)), 0u) << out;
}

TEST(Clone3Spawner, NewSessionMakesTheChildASessionLeader) {
    SpawnRequest r = command({"sh", "-c", "cut -d' ' -f6 /proc/$$/stat; echo $$"});
    r.newSession = true;
    auto [code, out] = runCaptured(r);
    ASSERT_EQ(code, 0);
    // sid == pid
    auto nl = out.find('\n');
    ASSERT_NE(nl, std::string::npos) << out;
    std::string sid = out.substr(0, nl);
    sid.erase(0, sid.find_first_not_of(' '));
    EXPECT_EQ(sid + "\n", out.substr(nl + 1));
}

TEST(Clone3Spawner, DropsToNobodyWhenRoot) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "dropping credentials to another uid needs root";
    }
    SpawnRequest r = command({"id"});
    r.uid = 65534;
    r.gid = 65534;
    r.groups = {65534};
    auto [code, out] = runCaptured(r);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out.substr(0, out.find(' ')), "uid=65534(nobody)") << out;
    EXPECT_NE(out.find("gid=65534(nogroup)"), std::string::npos) << out;
    EXPECT_NE(out.find("groups=65534(nogroup)"), std::string::npos) << out;
}

TEST(Clone3Spawner, FailingPrivilegeDropIsAnErrorAndNoChildRuns) {
    // More supplementary groups than the kernel allows (NGROUPS_MAX = 65536): setgroups
    // fails with EINVAL for root too, so the child must stop before exec.
    TempDir dir;
    SpawnRequest r = command({"touch", dir / "ran"});
    r.uid = ::geteuid();
    r.gid = ::getegid();
    r.groups.assign(70000, ::getegid());
    Clone3Spawner spawner;
    auto p = spawner.spawn(r);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(), "spawn touch: setgroups: Invalid argument");
    EXPECT_FALSE(std::filesystem::exists(dir / "ran"));
    EXPECT_TRUE(noChildLeft());
}

TEST(Clone3Spawner, SendSignalThroughThePidfd) {
    Clone3Spawner spawner;
    auto p = spawner.spawn(command({"sleep", "30"}));
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(sendSignal(*p, SIGTERM).ok());
    EXPECT_EQ(waitExit(*p).valueOr(-1), 128 + SIGTERM);
}

TEST(Clone3Spawner, EmptyArgvIsAnError) {
    Clone3Spawner spawner;
    SpawnRequest r;
    EXPECT_FALSE(spawner.spawn(r).ok());
}

TEST(Clone3Spawner, FallbackPathRunsAndReportsLikeClone3) {
    Clone3Spawner::Options fallbackOptions;
    fallbackOptions.forceFallback = true;
    Clone3Spawner fallback(fallbackOptions);
    auto p = fallback.spawn(command({"sh", "-c", "exit 5"}));
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_TRUE(p->pidfd.valid());  // from pidfd_open
    EXPECT_EQ(waitExit(*p).valueOr(-1), 5);
    TempDir dir;
    writeFile(dir / "junk", std::string("\x7f"
                                        "ELFjunk",
                                        8));
    ASSERT_EQ(::chmod((dir / "junk").c_str(), 0755), 0);
    auto bad = fallback.spawn(command({dir / "junk"}));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "exec " + (dir / "junk") + ": Exec format error");
    EXPECT_TRUE(noChildLeft());
}

TEST(Namespaces, TableCoversEveryPolicyNamespaceWithADistinctFlag) {
    uint64_t seen = 0;
    for (const auto& e : namespaceFlags()) {
        EXPECT_NE(e.cloneFlag, 0u);
        EXPECT_EQ(seen & e.cloneFlag, 0u) << e.name;
        seen |= e.cloneFlag;
    }
    EXPECT_EQ(namespaceFlags().size(), 7u);
    EXPECT_EQ(cloneFlagsOf({policies::Namespace::Pid, policies::Namespace::Mount}),
              static_cast<uint64_t>(CLONE_NEWPID | CLONE_NEWNS));
}

}  // namespace
}  // namespace gov::runtime
