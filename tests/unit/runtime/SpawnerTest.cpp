// Clone3Spawner without cgroups or namespaces (those are in the live tests): command
// resolution (in the child, with the workload's permissions), exec errors, stdio,
// env, cwd, exit codes, signals, the inherited process attributes (as root), the
// controlling terminal, the asynchronous start; and the ProcessAttributes reader.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>

#include "TestUtil.hpp"
#include "gov/runtime/Namespaces.hpp"
#include "gov/runtime/ProcessAttributes.hpp"
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

// What the daemon would read from a restricted caller (readProcessAttributes).
ProcessAttributes restricted() {
    ProcessAttributes a;
    for (int r = 0; r < kResourceLimits; ++r)
        ::getrlimit(static_cast<__rlimit_resource_t>(r), &a.limits[static_cast<size_t>(r)]);
    a.limits[RLIMIT_NOFILE] = {512, 512};
    a.limits[RLIMIT_STACK] = {4u << 20, 4u << 20};
    a.limits[RLIMIT_NPROC] = {5000, 5000};
    a.nice = 7;
    a.oomScoreAdj = 300;
    a.umask = 077;
    a.noNewPrivs = true;
    a.capBounding = 0x1;  // CAP_CHOWN only
    a.loginUid = 4242;
    a.schedPolicy = SCHED_IDLE;
    a.ioPriority = 3 << 13;  // the idle class
    return a;
}

std::string statusField(const std::string& status, const std::string& key) {
    auto at = status.find("\n" + key + ":");
    if (at == std::string::npos)
        return "?";
    at += key.size() + 2;
    while (status[at] == '\t' || status[at] == ' ')
        ++at;
    return status.substr(at, status.find('\n', at) - at);
}

// The attributes as the child sees them after its exec.
constexpr const char* kShowAttributes =
    "cat /proc/self/status; echo; echo \"oom:$(cat /proc/self/oom_score_adj)\"; "
    "echo \"login:$(cat /proc/self/loginuid)\"; echo \"umask:$(umask)\"; "
    "echo \"nofile:$(ulimit -n)\"; echo \"stack:$(ulimit -s)\"; "
    "echo \"nproc:$(sed -n 's/^Max processes  *\\([0-9]*\\).*/\\1/p' /proc/self/limits)\"; "
    "echo \"stat:$(cut -d' ' -f19 /proc/self/stat)\"; "
    "echo \"sched:$(cut -d' ' -f41 /proc/self/stat)\"; echo";

TEST(Clone3Spawner, AnUnprivilegedWorkloadGetsExactlyTheGivenAttributes) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "applying another process's limits needs root";
    SpawnRequest r = command({"sh", "-c", kShowAttributes});
    r.uid = 65534;
    r.gid = 65534;
    r.attributes = restricted();
    auto [code, out] = runCaptured(r);
    ASSERT_EQ(code, 0) << out;
    const std::string s = "\n" + out;
    EXPECT_EQ(statusField(s, "NoNewPrivs"), "1");
    EXPECT_EQ(statusField(s, "CapBnd"), "0000000000000001");
    EXPECT_EQ(statusField(s, "CapEff"), "0000000000000000");
    EXPECT_EQ(statusField(s, "CapPrm"), "0000000000000000");
    EXPECT_EQ(statusField(s, "Umask"), "0077");
    EXPECT_EQ(statusField(s, "oom"), "300");
    EXPECT_EQ(statusField(s, "login"), "4242");
    EXPECT_EQ(statusField(s, "nofile"), "512");
    EXPECT_EQ(statusField(s, "stack"), "4096");
    EXPECT_EQ(statusField(s, "nproc"), "5000");
    EXPECT_EQ(statusField(s, "stat"), "7") << "nice";
    EXPECT_EQ(statusField(s, "sched"), "5") << "SCHED_IDLE";
}

TEST(Clone3Spawner, ARootWorkloadKeepsTheCallersReducedCapabilitySets) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    ProcessAttributes a = restricted();
    a.noNewPrivs = false;
    a.capBounding = (1u << 0) | (1u << 13);  // CAP_CHOWN, CAP_NET_RAW
    a.capPermitted = (1u << 13);
    a.capEffective = (1u << 13);
    a.capInheritable = 0;
    a.loginUid.reset();
    SpawnRequest r = command({"sh", "-c", kShowAttributes});
    r.uid = 0;
    r.gid = 0;
    r.attributes = a;
    auto [code, out] = runCaptured(r);
    ASSERT_EQ(code, 0) << out;
    const std::string s = "\n" + out;
    EXPECT_EQ(statusField(s, "CapBnd"), "0000000000002001");
    // Root's exec gives it its bounding set again (the kernel's rule for uid 0),
    // which is the caller's: never more than the caller would get.
    EXPECT_EQ(statusField(s, "CapEff"), "0000000000002001");
    EXPECT_EQ(statusField(s, "NoNewPrivs"), "0");
    EXPECT_EQ(statusField(s, "login"), "4294967295");
}

TEST(Clone3Spawner, AttributesOfASharedMemoryChildAreNotTheParents) {
    // A root child keeps our uid: it shares our memory until its exec (vfork),
    // and oom_score_adj is shared by processes sharing memory unless the writer
    // is a vfork child. Ours must not change.
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    const std::string oomBefore = test::readFile("/proc/self/oom_score_adj");
    const int niceBefore = ::getpriority(PRIO_PROCESS, 0);
    const mode_t umaskBefore = ::umask(022);
    ::umask(umaskBefore);
    ProcessAttributes a = restricted();
    a.noNewPrivs = false;
    a.capBounding = ~uint64_t{0};
    a.oomScoreAdj = 555;
    SpawnRequest r = command({"sh", "-c", "cat /proc/self/oom_score_adj"});
    r.attributes = a;
    auto [code, out] = runCaptured(r);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out, "555\n");
    EXPECT_EQ(test::readFile("/proc/self/oom_score_adj"), oomBefore);
    EXPECT_EQ(::getpriority(PRIO_PROCESS, 0), niceBefore);
    EXPECT_EQ(::umask(umaskBefore), umaskBefore);
    struct rlimit nofile {};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    EXPECT_NE(nofile.rlim_cur, 512u);
}

TEST(Clone3Spawner, ASetuidProgramIsStoppedByTheCallersNoNewPrivs) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root (a setuid-root copy of id)";
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string id = dir / "suid-id";
    ASSERT_EQ(std::system(("cp /usr/bin/id " + id + " && chmod 4755 " + id).c_str()), 0);
    SpawnRequest r = command({id, "-u"});
    r.uid = 65534;
    r.gid = 65534;
    ProcessAttributes a = restricted();
    a.capBounding = ~uint64_t{0};
    a.noNewPrivs = false;
    r.attributes = a;
    auto [escalated, out1] = runCaptured(r);
    EXPECT_EQ(out1, "0\n") << "without no_new_privs the setuid bit works";
    a.noNewPrivs = true;
    r.attributes = a;
    auto [stopped, out2] = runCaptured(r);
    EXPECT_EQ(out2, "65534\n") << "with the caller's no_new_privs it does not";
}

TEST(Clone3Spawner, ThePathIsSearchedWithTheWorkloadsPermissions) {
    // A directory nobody may not search: whether a file is in it must not change
    // the answer nobody gets.
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to drop to nobody";
    TempDir dir;
    ::chmod(dir.path().c_str(), 0700);
    writeFile(dir / "present", "#!/bin/sh\nexit 0\n");
    ASSERT_EQ(::chmod((dir / "present").c_str(), 0755), 0);
    auto asNobody = [&](std::vector<std::string> argv, const std::string& path) {
        SpawnRequest r = command(std::move(argv));
        r.env = {"PATH=" + path};
        r.uid = 65534;
        r.gid = 65534;
        Clone3Spawner spawner;
        auto p = spawner.spawn(r);
        if (p.ok()) {
            (void)waitExit(*p);
            return std::string("ran");
        }
        return p.error().message();
    };
    EXPECT_EQ(asNobody({dir / "present"}, "/usr/bin"),
              "exec " + (dir / "present") + ": Permission denied");
    EXPECT_EQ(asNobody({dir / "absent"}, "/usr/bin"),
              "exec " + (dir / "absent") + ": Permission denied");
    EXPECT_EQ(asNobody({"present"}, dir.path()), "exec present: Permission denied");
    EXPECT_EQ(asNobody({"absent"}, dir.path()), "exec absent: Permission denied");
    EXPECT_TRUE(noChildLeft());
    // Root sees the difference, as it would alone.
    Clone3Spawner spawner;
    SpawnRequest r = command({"absent"});
    r.env = {"PATH=" + dir.path()};
    auto absent = spawner.spawn(r);
    ASSERT_FALSE(absent.ok());
    EXPECT_EQ(absent.error().message(), "exec absent: No such file or directory");
    r.argv = {"present"};
    auto present = spawner.spawn(r);
    ASSERT_TRUE(present.ok()) << present.error().message();
    EXPECT_EQ(waitExit(*present).valueOr(-1), 0);
}

TEST(Clone3Spawner, ARelativeCommandIsFoundInTheWorkingDirectory) {
    TempDir dir;
    writeFile(dir / "local.sh", "#!/bin/sh\necho local\n");
    ASSERT_EQ(::chmod((dir / "local.sh").c_str(), 0755), 0);
    SpawnRequest r = command({"./local.sh"});
    r.cwd = dir.path();
    auto [code, out] = runCaptured(r);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out, "local\n");
}

TEST(Clone3Spawner, ATerminalOnStdinBecomesTheControllingTerminalOfTheNewSession) {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(master, 0);
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(slave, 0);
    auto run = [&](bool controlling) {
        SpawnRequest r = command({"sh", "-c", "echo via-dev-tty > /dev/tty"});
        r.stdinFd = slave;
        r.stdoutFd = slave;
        r.stderrFd = slave;
        r.newSession = true;
        r.controllingTerminal = controlling;
        Clone3Spawner spawner;
        auto p = spawner.spawn(r);
        if (!p.ok())
            return -1;
        return waitExit(*p).valueOr(-1);
    };
    EXPECT_EQ(run(true), 0);
    std::string seen;
    char buf[256];
    struct pollfd pfd = {master, POLLIN, 0};
    while (::poll(&pfd, 1, 200) > 0) {
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0)
            break;
        seen.append(buf, static_cast<size_t>(n));
    }
    EXPECT_NE(seen.find("via-dev-tty"), std::string::npos) << seen;
    EXPECT_NE(run(false), 0) << "without a controlling terminal /dev/tty is ENXIO";
    ::close(slave);
    ::close(master);
}

TEST(Clone3Spawner, TheAsynchronousStartReportsWhenTheChildHasExecd) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "the copying clone is taken for another uid: needs root";
    Clone3Spawner spawner;
    SpawnRequest r = command({"sleep", "5"});
    r.uid = 65534;
    r.gid = 65534;
    auto pending = spawner.start(r);
    ASSERT_TRUE(pending.ok()) << pending.error().message();
    struct pollfd p = {pending->report.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    auto proc = spawner.finish(*pending);
    ASSERT_TRUE(proc.ok()) << proc.error().message();
    auto none = spawner.reap(*proc);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value()) << "still running";
    ASSERT_TRUE(sendSignal(*proc, SIGTERM).ok());
    std::optional<ExitStatus> exit;
    for (int i = 0; i < 500 && !exit; ++i) {
        auto reaped = spawner.reap(*proc);
        ASSERT_TRUE(reaped.ok());
        exit = *reaped;
        if (!exit)
            ::usleep(10000);
    }
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->status, 128 + SIGTERM);
    EXPECT_EQ(exit->signal, SIGTERM);
}

TEST(ProcessAttributes, StatusFieldsAreParsedAndAMissingOneIsAnError) {
    const std::string status =
        "Name:\tsh\nUmask:\t0077\nState:\tS (sleeping)\nUid:\t65534\t65534\t65534\t65534\n"
        "NoNewPrivs:\t1\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
        "CapEff:\t0000000000000000\nCapBnd:\t0000000000000001\nCapAmb:\t0000000000000000\n";
    auto f = parseProcStatus(status);
    ASSERT_TRUE(f.ok()) << f.error().message();
    EXPECT_EQ(f->uid, 65534u);
    EXPECT_TRUE(f->noNewPrivs);
    EXPECT_EQ(f->capBounding, 1u);
    EXPECT_EQ(f->umask, 077u);
    std::string noUmask = status;
    noUmask.erase(noUmask.find("Umask"), 12);
    EXPECT_FALSE(parseProcStatus(noUmask).ok());
    EXPECT_FALSE(parseProcStatus("Uid:\tx\n").ok());
}

TEST(ProcessAttributes, StatGivesNiceAndPolicyWhateverTheCommandIsCalled) {
    std::string stat = "812 (a) b (c) S 1 812 812 0 -1 4194560 1 2 3 4 5 6 7 8 20 7 1 0 9 10 11 ";
    for (int f = 25; f <= 40; ++f)
        stat += "0 ";
    stat += "5 0 0\n";  // field 41: SCHED_IDLE
    auto f = parseProcStat(stat);
    ASSERT_TRUE(f.ok()) << f.error().message();
    EXPECT_EQ(f->nice, 7);
    EXPECT_EQ(f->schedPolicy, 5);
    EXPECT_FALSE(parseProcStat("812 (short) S 1 2 3\n").ok());
    auto mine = parseProcStat(test::readFile("/proc/self/stat"));
    ASSERT_TRUE(mine.ok()) << mine.error().message();
    EXPECT_EQ(mine->nice, ::getpriority(PRIO_PROCESS, 0));
}

TEST(ProcessAttributes, LimitsAreReadRowByRowWithUnlimitedAsInfinity) {
    auto mine = parseProcLimits(test::readFile("/proc/self/limits"));
    ASSERT_TRUE(mine.ok()) << mine.error().message();
    for (int r = 0; r < kResourceLimits; ++r) {
        struct rlimit real {};
        ::getrlimit(static_cast<__rlimit_resource_t>(r), &real);
        EXPECT_EQ((*mine)[static_cast<size_t>(r)].rlim_cur, real.rlim_cur) << r;
        EXPECT_EQ((*mine)[static_cast<size_t>(r)].rlim_max, real.rlim_max) << r;
    }
    std::string text = test::readFile("/proc/self/limits");
    text.erase(text.find("Max open files"),
               text.find('\n', text.find("Max open files")) - text.find("Max open files") + 1);
    auto missing = parseProcLimits(text);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message().find("Max open files"), std::string::npos);
}

TEST(ProcessAttributes, AnUnsetAuditIdIsNullopt) {
    EXPECT_EQ(parseAuditId("4294967295").valueOr(std::optional<uint32_t>(1)), std::nullopt);
    EXPECT_EQ(parseAuditId("4242\n").valueOr(std::nullopt), std::optional<uint32_t>(4242));
    EXPECT_FALSE(parseAuditId("-1").ok());
}

TEST(ProcessAttributes, OurOwnAreReadAndAnotherUidIsRefused) {
    auto mine = readProcessAttributes(::getpid(), ::getuid());
    ASSERT_TRUE(mine.ok()) << mine.error().message();
    EXPECT_EQ(mine->nice, ::getpriority(PRIO_PROCESS, 0));
    struct rlimit nofile {};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    EXPECT_EQ(mine->limits[RLIMIT_NOFILE].rlim_cur, nofile.rlim_cur);
    auto other = readProcessAttributes(::getpid(), ::getuid() + 1);
    ASSERT_FALSE(other.ok());
    EXPECT_NE(other.error().message().find("is uid"), std::string::npos) << other.error().message();
}

TEST(ProcessAttributes, AProcessThatHasExitedIsAnError) {
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    int st = 0;
    ::waitpid(child, &st, 0);
    auto gone = readProcessAttributes(child, ::getuid());
    EXPECT_FALSE(gone.ok());
}

TEST(Namespaces, TableCoversEveryPolicyNamespaceWithADistinctFlag) {
    uint64_t seen = 0;
    for (const auto& e : namespaceFlags()) {
        EXPECT_NE(e.cloneFlag, 0u);
        EXPECT_EQ(seen & e.cloneFlag, 0u) << e.name;
        seen |= e.cloneFlag;
    }
    EXPECT_EQ(namespaceFlags().size(), 7u);
    EXPECT_EQ(cloneFlagsOf({Namespace::Pid, Namespace::Mount}),
              static_cast<uint64_t>(CLONE_NEWPID | CLONE_NEWNS));
}

}  // namespace
}  // namespace gov::runtime
