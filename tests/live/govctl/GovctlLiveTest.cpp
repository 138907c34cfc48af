// Live tests of governord's D-Bus API through govctl (and busctl, a client we did
// not write). One private dbus-daemon (session-like config, temp socket) and one
// real governord (--bus that address, --cgroup-root a unique group under the v2
// mount, --state-dir a temp dir, no metrics) for the whole suite; both are ended
// by pid and the tree is removed at the end, even when a test fails.
//
// The test policy has: adhoc (root only), open (exec.users and control.users
// "nobody"), opengroup (exec.groups "nogroup"), closed (root only). Unprivileged
// calls run govctl (or busctl) as nobody, or as daemon (in no list), with setpriv.
//
// Every process the suite starts dies with the test binary (PR_SET_PDEATHSIG,
// tests/support/Process.hpp) and every wait is bounded; the tree and temp folder are
// recorded for the live tier's cleanup test in case the binary is killed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "DbusConnection.hpp"
#include "Process.hpp"
#include "TestTree.hpp"
#include "gov/runtime/Discovery.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred())
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return pred();
}

struct Ran {
    int status = -1;  // exit code, or 128+signal
    std::string out;
    std::string err;
};

int decode(int wstatus) {
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return -1;
}

// fork + execv `argv` with stdin from `input` (a file, or /dev/null), stdout and
// stderr to files; not waited for. It dies with the test binary.
pid_t start(const std::vector<std::string>& argv, const fs::path& outFile, const fs::path& errFile,
            const std::string& inFile = "/dev/null") {
    return gov::testsupport::startProcess(argv, outFile.string(), errFile.string(), inFile);
}

// The decoded status of the child `pid` once it exits; a child still running after
// `timeout` is killed and the test fails (-1).
int finish(pid_t pid, std::chrono::seconds timeout, const std::string& what) {
    if (auto status = gov::testsupport::waitExit(pid, timeout))
        return *status;
    ADD_FAILURE() << what << " did not exit within " << timeout.count() << " s; killed";
    gov::testsupport::stopProcess(pid, SIGKILL, 10s);
    return -1;
}

class GovctlLive : public ::testing::Test {
  protected:
    // Suite-wide state (one bus and one daemon for every test).
    static inline std::string skipReason_;
    static inline fs::path tmp_;
    static inline fs::path root_;
    static inline std::string address_;
    static inline pid_t busPid_ = -1;
    static inline pid_t daemonPid_ = -1;
    static inline int outCounter_ = 0;

    static void SetUpTestSuite() {
        if (::geteuid() != 0) {
            skipReason_ = "govctl live tests need root (governord writes the cgroup tree)";
            return;
        }
        if (::access("/usr/bin/dbus-daemon", X_OK) != 0) {
            skipReason_ = "no /usr/bin/dbus-daemon to run a private bus";
            return;
        }
        auto mount = gov::runtime::discoverCgroup2();
        if (!mount) {
            skipReason_ = "no cgroup v2 hierarchy: " + mount.error().message();
            return;
        }
        const std::string name = "gov-govctl-live-" + std::to_string(::getpid());
        root_ = fs::path(mount->path) / name;
        tmp_ = fs::temp_directory_path() / name;
        gov::testsupport::recordTestTree(root_, {tmp_});
        fs::remove_all(tmp_);
        fs::create_directories(tmp_ / "state");
        // nobody must reach the bus socket and the policy.
        ::chmod(tmp_.c_str(), 0755);

        const fs::path socket = tmp_ / "bus";
        address_ = "unix:path=" + socket.string();
        spit(tmp_ / "bus.conf",
             "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
             " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
             "<busconfig>\n"
             "  <type>session</type>\n"
             "  <listen>" +
                 address_ +
                 "</listen>\n"
                 "  <auth>EXTERNAL</auth>\n"
                 "  <policy context=\"default\">\n"
                 "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                 "    <allow eavesdrop=\"true\"/>\n"
                 "    <allow own=\"*\"/>\n"
                 // A session-type bus admits only its own user unless told otherwise:
                 // the tests also call as nobody.
                 "    <allow user=\"*\"/>\n"
                 "  </policy>\n"
                 "  <limit name=\"max_connections_per_user\">100000</limit>\n"
                 "  <limit name=\"max_incomplete_connections\">10000</limit>\n"
                 "  <limit name=\"max_match_rules_per_connection\">50000</limit>\n"
                 "</busconfig>\n");
        busPid_ = start({"/usr/bin/dbus-daemon", "--config-file=" + (tmp_ / "bus.conf").string(),
                         "--nofork", "--nopidfile", "--print-address=1"},
                        tmp_ / "bus.out", tmp_ / "bus.err");
        // The socket file exists from bind(), before listen(): a connection then is
        // refused. The address line is printed once the bus accepts connections.
        if (!waitFor([&] { return slurp(tmp_ / "bus.out").find('\n') != std::string::npos; },
                     10s)) {
            skipReason_ = "";
            FAIL() << "dbus-daemon did not report that it listens on " << socket << ": "
                   << slurp(tmp_ / "bus.err");
        }
        ::chmod(socket.c_str(), 0777);

        spit(tmp_ / "policy.toml",
             "[classes.adhoc]\ndescription = \"test adhoc\"\n\n"
             "[classes.open]\ndescription = \"nobody may exec and control\"\n"
             "exec.users = [\"nobody\"]\ncontrol.users = [\"nobody\"]\n\n"
             "[classes.opengroup]\ndescription = \"group nogroup may exec\"\n"
             "exec.groups = [\"nogroup\"]\n\n"
             "[classes.closed]\ndescription = \"root only\"\n\n"
             "[classes.isolated]\ndescription = \"own pid and mount namespaces\"\n"
             "namespaces = [\"pid\", \"mount\"]\n");
        ::chmod((tmp_ / "policy.toml").c_str(), 0644);
        ::setenv("GOVERNOR_BUS_ADDRESS", address_.c_str(), 1);
        if (!startDaemon()) {
            FAIL() << "governord did not come up on " << address_ << ":\n"
                   << slurp(tmp_ / "governord.log");
        }
    }

    // Starts governord on the suite's bus, tree and state, and waits until it
    // answers; false if it died or never answered.
    static bool startDaemon() {
        daemonPid_ = start({GOVERNORD, "--bus", address_, "--cgroup-root", root_.string(),
                            "--state-dir", (tmp_ / "state").string(), "--metrics-listen", "",
                            "--policy", (tmp_ / "policy.toml").string(), "--rescan-interval", "1"},
                           tmp_ / "governord.out", tmp_ / "governord.log");
        const bool up = waitFor(
            [&] {
                int st = 0;
                if (::waitpid(daemonPid_, &st, WNOHANG) == daemonPid_) {
                    daemonPid_ = -1;
                    return true;  // died: reported by the caller
                }
                return runGovctl({"status"}).status == 0;
            },
            30s);
        return up && daemonPid_ > 0;
    }

    static void TearDownTestSuite() {
        if (daemonPid_ > 0) {
            gov::testsupport::stopProcess(daemonPid_, SIGTERM, 10s);
            daemonPid_ = -1;
        }
        if (busPid_ > 0) {
            gov::testsupport::stopProcess(busPid_, SIGTERM, 10s);
            busPid_ = -1;
        }
        ::unsetenv("GOVERNOR_BUS_ADDRESS");
        if (!tmp_.empty())
            fs::remove_all(tmp_);
        // Only processes this suite started live there.
        gov::testsupport::removeTestTree(root_);
    }

    void SetUp() override {
        if (!skipReason_.empty())
            GTEST_SKIP() << skipReason_;
        ASSERT_GT(daemonPid_, 0) << "governord is not running (see the suite's setup failure)";
    }

    // Runs govctl with `args`; as nobody (setpriv, with nobody's groups) when
    // `asNobody`; stdin from `input` text when given.
    static Ran runGovctl(const std::vector<std::string>& args, bool asNobody = false,
                         const std::optional<std::string>& input = std::nullopt) {
        std::vector<std::string> argv = {GOVCTL};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, asNobody ? "nobody" : "", input);
    }

    // Runs `argv` (waited for, at most 120 s); as `user` with that user's groups
    // (setpriv) when not empty; stdin from `input` text when given.
    static Ran run(const std::vector<std::string>& command, const std::string& user = "",
                   const std::optional<std::string>& input = std::nullopt) {
        std::vector<std::string> argv;
        if (!user.empty()) {
            argv = {"/usr/bin/setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups",
                    "--"};
            if (user == "nobody")
                argv[2] = "--regid=nogroup";
        }
        argv.insert(argv.end(), command.begin(), command.end());
        const int n = outCounter_++;
        const fs::path out = tmp_ / ("out." + std::to_string(n));
        const fs::path err = tmp_ / ("err." + std::to_string(n));
        std::string in = "/dev/null";
        if (input) {
            in = (tmp_ / ("in." + std::to_string(n))).string();
            spit(in, *input);
        }
        pid_t pid = start(argv, out, err, in);
        Ran r{finish(pid, 120s, argv[user.empty() ? 0 : 5]), slurp(out), slurp(err)};
        fs::remove(out);
        fs::remove(err);
        if (input)
            fs::remove(in);
        return r;
    }

    // SignalWorkload(group, SIGTERM) through busctl (a client we did not write), as
    // `user` (setpriv, with the user's groups; root when empty).
    static Ran signalAs(const std::string& user, const std::string& group) {
        return run({"/usr/bin/busctl", "--address=" + address_, "call", "org.governor.Governor1",
                    "/org/governor/Governor1", "org.governor.Manager1", "SignalWorkload", "si",
                    group, "15"},
                   user);
    }

    // The workload groups (scopes) currently under `className`'s slice.
    static std::vector<std::string> scopesOf(const std::string& className) {
        std::vector<std::string> out;
        std::error_code ec;
        for (auto& e : fs::directory_iterator(root_ / (className + ".slice"), ec)) {
            if (e.is_directory() && e.path().extension() == ".scope")
                out.push_back(e.path().filename().string());
        }
        return out;
    }

    // The first process of a scope of `className` whose comm is `comm`.
    static pid_t findWorkload(const std::string& className, const std::string& comm,
                              std::string* group = nullptr) {
        for (const auto& scope : scopesOf(className)) {
            std::istringstream procs(
                slurp(root_ / (className + ".slice") / scope / "cgroup.procs"));
            pid_t pid;
            while (procs >> pid) {
                std::string c = slurp("/proc/" + std::to_string(pid) + "/comm");
                if (c == comm + "\n") {
                    if (group)
                        *group = className + ".slice/" + scope;
                    return pid;
                }
            }
        }
        return -1;
    }

    static std::string daemonLog() { return slurp(tmp_ / "governord.log"); }

    // Waits until the daemon has answered the Exec that started `group`: killing
    // the daemon before that is another case (govctl gets no answer). The daemon
    // logs the exec from a handler posted after the method returned, and sd-bus
    // has written the reply to the bus socket by then (the method's return sends
    // it); the bus daemon delivers what it has read even when the sender dies next.
    static bool execAnswered(const std::string& group) {
        return waitFor(
            [&] { return daemonLog().find(" in " + group + ": pid ") != std::string::npos; }, 10s);
    }

    // `govctl exec -c CLASS -- sleep SECONDS` left running in the background.
    struct Background {
        pid_t govctl = -1;
        pid_t workload = -1;  // -1: it never showed up (the test fails)
        std::string group;
        fs::path err;  // govctl's stderr
    };
    // Starts it; returns once its sleep is in a group of CLASS and the daemon has
    // answered its Exec.
    static Background execSleep(const std::string& className, const std::string& seconds) {
        Background bg;
        const int n = outCounter_++;
        bg.err = tmp_ / ("bg.err." + std::to_string(n));
        bg.govctl = start({GOVCTL, "exec", "-c", className, "--", "sleep", seconds},
                          tmp_ / ("bg.out." + std::to_string(n)), bg.err);
        const bool seen = waitFor(
            [&] { return (bg.workload = findWorkload(className, "sleep", &bg.group)) > 0; }, 10s);
        EXPECT_TRUE(seen) << "the sleep workload never appeared in " << className << ".slice";
        EXPECT_TRUE(seen && execAnswered(bg.group)) << daemonLog();
        if (!seen)
            bg.workload = -1;
        return bg;
    }
    // SIGKILLs governord (its workloads keep running) and reaps it.
    static void killDaemon() {
        gov::testsupport::stopProcess(daemonPid_, SIGKILL, 10s);
        daemonPid_ = -1;
    }
    // govctl's decoded exit status, or -1 when it did not exit within `timeout`.
    static int waitExited(pid_t govctl, std::chrono::seconds timeout) {
        int st = 0;
        if (!waitFor([&] { return ::waitpid(govctl, &st, WNOHANG) == govctl; }, timeout))
            return -1;
        return decode(st);
    }
};

TEST_F(GovctlLive, ExecRunsTheCommandInAFreshGroupOfTheClassAndReturnsItsStatus) {
    auto r =
        runGovctl({"exec", "--class", "adhoc", "--", "sh", "-c", "cat /proc/self/cgroup; exit 7"});
    EXPECT_EQ(r.status, 7) << r.err;
    const std::string prefix = "0::/" + root_.filename().string() + "/adhoc.slice/";
    EXPECT_NE(r.out.find(prefix), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(".scope\n"), std::string::npos) << r.out;
}

TEST_F(GovctlLive, ExecOptionsAfterTheCommandBelongToTheCommand) {
    auto r = runGovctl({"exec", "-c", "adhoc", "sh", "-c", "echo $0-$1", "a", "-b"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "a--b\n");
}

TEST_F(GovctlLive, ExecPassesStdinThrough) {
    auto r = runGovctl({"exec", "--class", "adhoc", "--", "cat"}, false, "hi\nthere\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hi\nthere\n");
}

TEST_F(GovctlLive, ExecPassesTheEnvironmentAndTheWorkingDirectory) {
    ::setenv("GOV_LIVE_MARKER", "marker-42", 1);
    const fs::path cwd = fs::current_path();
    fs::current_path(tmp_);
    auto r = runGovctl({"exec", "-c", "adhoc", "--", "sh", "-c", "echo $GOV_LIVE_MARKER; pwd"});
    fs::current_path(cwd);
    ::unsetenv("GOV_LIVE_MARKER");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "marker-42\n" + tmp_.string() + "\n");
}

TEST_F(GovctlLive, ExitStatusOfASignalledWorkloadIs128PlusTheSignal) {
    auto r = runGovctl({"exec", "-c", "adhoc", "--", "sh", "-c", "kill -9 $$"});
    EXPECT_EQ(r.status, 137) << r.err;
}

TEST_F(GovctlLive, SigtermToGovctlIsForwardedAndGovctlExits143) {
    auto bg = execSleep("adhoc", "100");
    ASSERT_GT(bg.workload, 0);
    ASSERT_EQ(::kill(bg.govctl, SIGTERM), 0);
    EXPECT_EQ(waitExited(bg.govctl, 10s), 143) << slurp(bg.err);
    // The workload is gone (killed and reaped by the daemon), and so is its group
    // once the daemon has accounted it.
    EXPECT_TRUE(waitFor([&] { return ::kill(bg.workload, 0) != 0; }, 5s));
    EXPECT_TRUE(waitFor([&] { return !fs::exists(root_ / bg.group); }, 5s)) << bg.group;
}

TEST_F(GovctlLive, ExecWhoseDaemonRestartsWaitsAndThenSaysTheStatusIsUnknown) {
    // The workload outlives the daemon (SIGKILL, then a new one adopts its group);
    // the new daemon does not know its exit status. govctl must neither hang nor
    // invent a status: it waits while the daemon is away, then reports.
    auto bg = execSleep("adhoc", "4");
    ASSERT_GT(bg.workload, 0);
    killDaemon();
    // govctl's liveness check (every 2 s while idle) finds nobody, and says so.
    ASSERT_TRUE(waitFor(
        [&] { return slurp(bg.err).find("governord went away while") != std::string::npos; }, 20s))
        << slurp(bg.err);
    ASSERT_TRUE(startDaemon()) << slurp(tmp_ / "governord.log");
    const int status = waitExited(bg.govctl, 20s);
    const std::string said = slurp(bg.err);
    EXPECT_EQ(status, 1) << "-1: govctl did not come back after the workload ended\n" << said;
    EXPECT_NE(said.find("governord went away while " + bg.group), std::string::npos) << said;
    EXPECT_NE(said.find(bg.group + " has ended, but governord restarted while it ran: its exit "
                                   "status is unknown"),
              std::string::npos)
        << said;
    EXPECT_TRUE(waitFor([&] { return !fs::exists(root_ / bg.group); }, 5s)) << bg.group;
}

TEST_F(GovctlLive, CtrlCStillReachesAWorkloadAfterItsDaemonRestarted) {
    // The new daemon adopted the group but did not start the process: SIGINT to
    // govctl must still end the workload (sent to each process of the group).
    auto bg = execSleep("adhoc", "100");
    ASSERT_GT(bg.workload, 0);
    killDaemon();
    ASSERT_TRUE(startDaemon()) << slurp(tmp_ / "governord.log");
    ASSERT_EQ(::kill(bg.govctl, SIGINT), 0);
    EXPECT_TRUE(waitFor([&] { return ::kill(bg.workload, 0) != 0; }, 10s))
        << "the workload survived the forwarded SIGINT: " << slurp(bg.err);
    EXPECT_EQ(waitExited(bg.govctl, 20s), 1) << slurp(bg.err);
    EXPECT_TRUE(waitFor([&] { return !fs::exists(root_ / bg.group); }, 5s)) << bg.group;
}

TEST_F(GovctlLive, CtrlCReachesAWorkloadInItsOwnPidNamespace) {
    // The kernel gives a pid namespace's init only the signals it handles: `sleep`
    // as pid 1 would ignore SIGINT. governor-init is pid 1 and passes it on.
    auto pid = runGovctl({"exec", "-c", "isolated", "--", "sh", "-c", "echo $$; cat /proc/1/comm"});
    EXPECT_EQ(pid.status, 0) << pid.err;
    EXPECT_EQ(pid.out, "2\ngovernor-init\n")
        << "the command is pid 2 under governor-init, in a fresh /proc";
    auto bg = execSleep("isolated", "100");
    ASSERT_GT(bg.workload, 0);
    ASSERT_EQ(::kill(bg.govctl, SIGINT), 0);
    EXPECT_EQ(waitExited(bg.govctl, 10s), 130) << "-1: the workload ignored SIGINT\n"
                                               << slurp(bg.err);
    EXPECT_TRUE(waitFor([&] { return !fs::exists(root_ / bg.group); }, 5s)) << bg.group;
}

TEST_F(GovctlLive, ExecIntoAFrozenClassIsRefusedAndTheDaemonStaysResponsive) {
    // A process cloned into a frozen class could not run to its exec: the daemon
    // would wait for it. It refuses instead, and answers everything else.
    ASSERT_EQ(runGovctl({"freeze", "closed"}).status, 0);
    auto refused = runGovctl({"exec", "-c", "closed", "--", "true"});
    auto status = runGovctl({"status"});
    ASSERT_EQ(runGovctl({"thaw", "closed"}).status, 0);
    EXPECT_EQ(refused.status, 1) << refused.err;
    EXPECT_EQ(
        refused.err,
        "govctl exec: class closed is frozen: thaw it (govctl thaw closed) to exec into it\n");
    EXPECT_EQ(status.status, 0) << status.err;
    EXPECT_TRUE(scopesOf("closed").empty()) << "a refused exec leaves no group behind";
    auto after = runGovctl({"exec", "-c", "closed", "--", "true"});
    EXPECT_EQ(after.status, 0) << after.err;
}

TEST_F(GovctlLive, ErrorsBeforeTheCommandRunsHaveDistinctCodesAndOneLineMessages) {
    auto unknown = runGovctl({"exec", "-c", "nosuchclass", "--", "true"});
    EXPECT_EQ(unknown.status, 3);
    EXPECT_EQ(unknown.err,
              "govctl exec: unknown class 'nosuchclass' (not in the policy in force)\n");

    auto notFound = runGovctl({"exec", "-c", "adhoc", "--", "no-such-command-xyz"});
    EXPECT_EQ(notFound.status, 127);
    EXPECT_EQ(notFound.err, "govctl exec: no-such-command-xyz: command not found\n");

    auto denied = runGovctl({"exec", "-c", "closed", "--", "true"}, true);
    EXPECT_EQ(denied.status, 4);
    EXPECT_EQ(denied.err, "govctl exec: uid 65534 (nobody) may not exec into class closed\n");

    ::setenv("GOVERNOR_BUS_ADDRESS", ("unix:path=" + (tmp_ / "no-bus").string()).c_str(), 1);
    auto unreachable = runGovctl({"exec", "-c", "adhoc", "--", "true"});
    auto unreachableLs = runGovctl({"ls"});
    ::setenv("GOVERNOR_BUS_ADDRESS", address_.c_str(), 1);
    EXPECT_EQ(unreachable.status, 5);
    EXPECT_NE(unreachable.err.find("governord is not reachable on unix:path="), std::string::npos)
        << unreachable.err;
    EXPECT_EQ(unreachableLs.status, 5);

    // No group is left behind by refused or failed execs.
    EXPECT_TRUE(waitFor([&] { return scopesOf("adhoc").empty(); }, 5s));
    EXPECT_TRUE(scopesOf("closed").empty());
}

TEST_F(GovctlLive, AnUnprivilegedUserRunsWithItsOwnIdentityWhereTheClassAllowsIt) {
    auto byUser = runGovctl({"exec", "-c", "open", "--", "id", "-u"}, true);
    EXPECT_EQ(byUser.status, 0) << byUser.err;
    EXPECT_EQ(byUser.out, "65534\n");

    auto byGroup =
        runGovctl({"exec", "-c", "opengroup", "--", "sh", "-c", "id -u; id -g; id -G"}, true);
    EXPECT_EQ(byGroup.status, 0) << byGroup.err;
    EXPECT_EQ(byGroup.out, "65534\n65534\n65534\n");

    // Root runs as root (and is allowed everywhere).
    auto byRoot = runGovctl({"exec", "-c", "closed", "--", "id", "-u"});
    EXPECT_EQ(byRoot.status, 0) << byRoot.err;
    EXPECT_EQ(byRoot.out, "0\n");
}

// docs/dbus.md's permission table on the real daemon: nobody is on class open's
// control list (and in no other), the policy has no admins.
TEST_F(GovctlLive, AControlListMemberFreezesThawsAndKillsInItsClassOnly) {
    // Both workloads are root's: the control list is about the class, not the owner.
    auto open = execSleep("open", "100");
    auto closed = execSleep("closed", "100");
    ASSERT_GT(open.workload, 0);
    ASSERT_GT(closed.workload, 0);
    const fs::path openEvents = root_ / open.group / "cgroup.events";
    const fs::path closedEvents = root_ / closed.group / "cgroup.events";

    auto frozen = runGovctl({"freeze", "open"}, true);
    EXPECT_EQ(frozen.status, 0) << frozen.err;
    // The kernel says every task of the populated workload group is frozen.
    EXPECT_NE(slurp(openEvents).find("populated 1\nfrozen 1"), std::string::npos)
        << slurp(openEvents);
    auto thawed = runGovctl({"thaw", "open"}, true);
    EXPECT_EQ(thawed.status, 0) << thawed.err;
    EXPECT_NE(slurp(openEvents).find("populated 1\nfrozen 0"), std::string::npos)
        << slurp(openEvents);

    auto freezeClosed = runGovctl({"freeze", "closed"}, true);
    EXPECT_EQ(freezeClosed.status, 4);
    EXPECT_EQ(freezeClosed.err, "govctl freeze: uid 65534 (nobody) may not freeze class closed\n");
    auto killClosed = runGovctl({"kill", closed.group}, true);
    EXPECT_EQ(killClosed.status, 4);
    EXPECT_EQ(killClosed.err,
              "govctl kill: uid 65534 (nobody) may not kill group " + closed.group + "\n");
    auto reload = runGovctl({"reload"}, true);
    EXPECT_EQ(reload.status, 4);
    EXPECT_EQ(reload.err, "govctl reload: uid 65534 (nobody) may not reload the policy\n");
    EXPECT_NE(slurp(closedEvents).find("populated 1\nfrozen 0"), std::string::npos)
        << slurp(closedEvents);
    EXPECT_EQ(::kill(closed.workload, 0), 0) << "a refused kill killed the workload";

    // The kill is seen to kill: the process is gone and its exec reports SIGKILL.
    auto killOpen = runGovctl({"kill", open.group}, true);
    EXPECT_EQ(killOpen.status, 0) << killOpen.err;
    EXPECT_TRUE(waitFor([&] { return ::kill(open.workload, 0) != 0; }, 10s));
    EXPECT_EQ(waitExited(open.govctl, 20s), 137) << slurp(open.err);

    auto unknown = runGovctl({"freeze", "nosuch"});
    EXPECT_EQ(unknown.status, 3);
    // Root may, and ends what is left.
    EXPECT_EQ(runGovctl({"kill", closed.group}).status, 0);
    EXPECT_EQ(waitExited(closed.govctl, 20s), 137) << slurp(closed.err);
}

TEST_F(GovctlLive, NobodyElseMayKillOrSignalRootsWorkloadNotEvenFromItsControlList) {
    auto adhoc = execSleep("adhoc", "100");
    auto open = execSleep("open", "100");
    ASSERT_GT(adhoc.workload, 0);
    ASSERT_GT(open.workload, 0);

    auto killClass = runGovctl({"kill", "adhoc"}, true);
    EXPECT_EQ(killClass.status, 4);
    EXPECT_EQ(killClass.err, "govctl kill: uid 65534 (nobody) may not kill class adhoc\n");
    auto killGroup = runGovctl({"kill", adhoc.group}, true);
    EXPECT_EQ(killGroup.status, 4) << killGroup.err;
    // Signalling is the owner's (and root's): a control list does not make one the owner.
    for (const auto& [user, group] : {std::pair{std::string("nobody"), adhoc.group},
                                      std::pair{std::string("nobody"), open.group},
                                      std::pair{std::string("daemon"), adhoc.group}}) {
        auto r = signalAs(user, group);
        EXPECT_NE(r.status, 0) << user << " signalled " << group;
        EXPECT_NE(r.err.find("may not signal the workload in " + group), std::string::npos)
            << user << ": " << r.err;
    }
    EXPECT_EQ(::kill(adhoc.workload, 0), 0) << "root's adhoc workload died";
    EXPECT_EQ(::kill(open.workload, 0), 0) << "root's open workload died";
    EXPECT_EQ(waitExited(adhoc.govctl, 0s), -1) << "root's govctl exec ended: " << slurp(adhoc.err);

    // Root signals its own (through govctl: SIGTERM forwarded) and kills the other.
    ASSERT_EQ(::kill(adhoc.govctl, SIGTERM), 0);
    EXPECT_EQ(waitExited(adhoc.govctl, 20s), 143) << slurp(adhoc.err);
    EXPECT_EQ(runGovctl({"kill", open.group}).status, 0);
    EXPECT_EQ(waitExited(open.govctl, 20s), 137) << slurp(open.err);
}

TEST_F(GovctlLive, AnUnprivilegedOwnerAndRootMaySignalTheOwnersWorkloadAndNoOneElse) {
    // nobody execs into opengroup (its group nogroup may); the workload is signalled
    // by its owner, then (a second one) by root; daemon (in no list) is refused.
    for (const std::string signaller : {"nobody", ""}) {
        SCOPED_TRACE(signaller.empty() ? "signalled by root" : "signalled by its owner");
        const int n = outCounter_++;
        const fs::path err = tmp_ / ("own.err." + std::to_string(n));
        pid_t govctl =
            start({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--init-groups", "--",
                   GOVCTL, "exec", "-c", "opengroup", "--", "sleep", "100"},
                  tmp_ / ("own.out." + std::to_string(n)), err);
        std::string group;
        pid_t workload = -1;
        ASSERT_TRUE(waitFor(
            [&] { return (workload = findWorkload("opengroup", "sleep", &group)) > 0; }, 10s))
            << slurp(err);
        ASSERT_TRUE(execAnswered(group)) << daemonLog();
        EXPECT_NE(slurp("/proc/" + std::to_string(workload) + "/status").find("Uid:\t65534"),
                  std::string::npos);
        auto byDaemonUser = signalAs("daemon", group);
        EXPECT_NE(byDaemonUser.status, 0);
        EXPECT_NE(byDaemonUser.err.find("may not signal the workload in " + group),
                  std::string::npos)
            << byDaemonUser.err;
        EXPECT_EQ(::kill(workload, 0), 0);

        auto allowed = signalAs(signaller, group);
        EXPECT_EQ(allowed.status, 0) << allowed.err;
        EXPECT_TRUE(waitFor([&] { return ::kill(workload, 0) != 0; }, 10s));
        EXPECT_EQ(waitExited(govctl, 20s), 143) << slurp(err);
        EXPECT_TRUE(waitFor([&] { return scopesOf("opengroup").empty(); }, 10s));
    }
}

TEST_F(GovctlLive, ExecOfAFileThatCannotBeExecutedExits126) {
    const fs::path script = tmp_ / "not-executable.sh";
    spit(script, "#!/bin/sh\necho ran\n");
    ::chmod(script.c_str(), 0644);
    auto file = runGovctl({"exec", "-c", "adhoc", "--", script.string()});
    EXPECT_EQ(file.status, 126) << file.err;
    EXPECT_EQ(file.out, "");
    EXPECT_EQ(file.err,
              "govctl exec: " + script.string() + ": cannot execute: Permission denied\n");
    auto dir = runGovctl({"exec", "-c", "adhoc", "--", tmp_.string()});
    EXPECT_EQ(dir.status, 126) << dir.err;
    EXPECT_TRUE(waitFor([&] { return scopesOf("adhoc").empty(); }, 5s))
        << "a failed exec left a group behind";
}

TEST_F(GovctlLive, KillingAWorkloadGroupEndsItsExecWith137) {
    const int n = outCounter_++;
    pid_t govctl =
        start({GOVCTL, "exec", "-c", "adhoc", "--", "sleep", "100"},
              tmp_ / ("kill.out." + std::to_string(n)), tmp_ / ("kill.err." + std::to_string(n)));
    std::string group;
    ASSERT_TRUE(waitFor([&] { return findWorkload("adhoc", "sleep", &group) > 0; }, 10s));

    auto status = runGovctl({"status", group, "--json"});
    ASSERT_EQ(status.status, 0) << status.err;
    auto j = nlohmann::json::parse(status.out);
    EXPECT_EQ(j["group"], group);
    EXPECT_EQ(j["class"], "adhoc");
    EXPECT_EQ(j["pids"].size(), 1u);

    auto killed = runGovctl({"kill", group});
    EXPECT_EQ(killed.status, 0) << killed.err;
    int st = 0;
    ASSERT_TRUE(waitFor([&] { return ::waitpid(govctl, &st, WNOHANG) == govctl; }, 10s));
    EXPECT_EQ(decode(st), 137);
}

// Two CPU hogs besides the test run, in a group of their own beside the daemon's
// tree, ended by pid (and the group removed) when the object goes.
class CpuHogs {
  public:
    explicit CpuHogs(const fs::path& group) : group_(group) {
        fs::create_directories(group_);
        for (int i = 0; i < 2; ++i) {
            const pid_t pid = ::fork();
            if (pid == 0) {
                std::ofstream(group_ / "cgroup.procs") << ::getpid();
                volatile unsigned long spins = 0;
                for (;;)
                    spins = spins + 1;
            }
            if (pid > 0)
                pids_.push_back(pid);
        }
    }
    ~CpuHogs() {
        for (pid_t pid : pids_) {
            ::kill(pid, SIGKILL);
            int st = 0;
            ::waitpid(pid, &st, 0);
        }
        ::rmdir(group_.c_str());
    }
    size_t running() const { return pids_.size(); }

  private:
    fs::path group_;
    std::vector<pid_t> pids_;
};

TEST_F(GovctlLive, TwoHundredConcurrentExecsAllSucceedAndLeaveNoGroupBehind) {
    // Under load (the issue: 24 of 200 got "governord restarted" and status 1):
    // the exit status is the workload's, always.
    CpuHogs hogs(root_.string() + "-hogs");
    ASSERT_EQ(hogs.running(), 2u);
    constexpr int kExecs = 200;
    std::vector<pid_t> pids;
    for (int i = 0; i < kExecs; ++i) {
        pids.push_back(start(
            {GOVCTL, "exec", "-c", "adhoc", "--", "sh", "-c", "exit " + std::to_string(i % 50)},
            "/dev/null", tmp_ / ("conc.err." + std::to_string(i))));
    }
    int wrong = 0;
    std::string firstError;
    for (int i = 0; i < kExecs; ++i) {
        const int status = finish(pids[i], 120s, "govctl exec " + std::to_string(i));
        const std::string said = slurp(tmp_ / ("conc.err." + std::to_string(i)));
        if (status != i % 50 || !said.empty()) {
            ++wrong;
            if (firstError.empty())
                firstError = "exec " + std::to_string(i) + ": status " + std::to_string(status) +
                             ": " + said;
        }
        fs::remove(tmp_ / ("conc.err." + std::to_string(i)));
    }
    EXPECT_EQ(wrong, 0) << firstError;
    EXPECT_TRUE(waitFor([&] { return scopesOf("adhoc").empty(); }, 10s))
        << scopesOf("adhoc").size() << " workload groups left in adhoc.slice";
}

TEST_F(GovctlLive, BusctlSeesTheInterface) {
    const fs::path out = tmp_ / "busctl.out";
    pid_t pid = start({"/usr/bin/busctl", "--address=" + address_, "introspect",
                       "org.governor.Governor1", "/org/governor/Governor1"},
                      out, tmp_ / "busctl.err");
    ASSERT_EQ(finish(pid, 60s, "busctl introspect"), 0) << slurp(tmp_ / "busctl.err");
    const std::string text = slurp(out);
    EXPECT_NE(text.find("org.governor.Manager1"), std::string::npos) << text;
    for (const char* member :
         {".Exec ", ".Freeze ", ".ListGroups ", ".DiffPolicy ", ".WorkloadExited "}) {
        EXPECT_NE(text.find(member), std::string::npos) << member;
    }
}

TEST_F(GovctlLive, StatusLsAndTopShowTheClassesAndGroups) {
    auto status = runGovctl({"status"});
    EXPECT_EQ(status.status, 0) << status.err;
    for (const char* cls : {"adhoc", "open", "opengroup", "closed", "isolated"})
        EXPECT_NE(status.out.find(std::string("\n") + cls + " "), std::string::npos) << cls;

    auto json = runGovctl({"status", "--json"});
    ASSERT_EQ(json.status, 0) << json.err;
    auto j = nlohmann::json::parse(json.out);
    ASSERT_EQ(j["classes"].size(), 5u);
    EXPECT_EQ(j["classes"][0]["name"], "adhoc");

    auto ls = runGovctl({"ls", "--json"});
    ASSERT_EQ(ls.status, 0) << ls.err;
    auto groups = nlohmann::json::parse(ls.out)["groups"];
    ASSERT_GE(groups.size(), 5u);
    EXPECT_EQ(groups[0]["group"], "adhoc.slice");

    auto top = runGovctl({"top", "-n", "2", "--delay", "0.1", "--json"});
    ASSERT_EQ(top.status, 0) << top.err;
    std::istringstream docs(top.out);
    int screens = 0;
    // One pretty-printed document per refresh: count the top-level objects.
    std::string line;
    std::string doc;
    while (std::getline(docs, line)) {
        doc += line + "\n";
        if (line == "}") {
            auto t = nlohmann::json::parse(doc);
            EXPECT_GE(t["groups"].size(), 4u);
            EXPECT_TRUE(t["groups"][0]["cpu_percent"].is_number());
            doc.clear();
            ++screens;
        }
    }
    EXPECT_EQ(screens, 2);
}

TEST_F(GovctlLive, PolicyDiffShowsTheWritesANewPolicyWouldMakeWithoutApplyingThem) {
    const fs::path file = tmp_ / "new.toml";
    spit(file,
         "[classes.adhoc]\ndescription = \"test adhoc\"\n\n"
         "[classes.extra]\ndescription = \"new\"\n");
    auto diff = runGovctl({"policy", "diff", file.string()});
    EXPECT_EQ(diff.status, 0) << diff.err;
    EXPECT_NE(diff.out.find("extra.slice"), std::string::npos) << diff.out;
    EXPECT_NE(diff.out.find("open.slice"), std::string::npos) << diff.out;  // removed
    EXPECT_FALSE(fs::exists(root_ / "extra.slice"));                        // nothing applied

    auto json = runGovctl({"policy", "diff", "--json", file.string()});
    ASSERT_EQ(json.status, 0) << json.err;
    auto j = nlohmann::json::parse(json.out);
    bool mkdirExtra = false;
    for (const auto& a : j["actions"])
        mkdirExtra |= a["kind"] == "mkdir" && a["group"] == "extra.slice";
    EXPECT_TRUE(mkdirExtra) << json.out;

    spit(file, "[classes.adhoc]\nmemory.mx = \"1G\"\n");
    auto invalid = runGovctl({"policy", "diff", file.string()});
    EXPECT_EQ(invalid.status, 1);
    EXPECT_NE(invalid.err.find("unknown key"), std::string::npos) << invalid.err;
}

TEST_F(GovctlLive, ReloadByRootAppliesTheChangedPolicyFile) {
    const std::string original = slurp(tmp_ / "policy.toml");
    spit(tmp_ / "policy.toml", original + "\n[classes.reloaded]\ndescription = \"added\"\n");
    auto r = runGovctl({"reload"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "policy reloaded\n");
    EXPECT_TRUE(fs::is_directory(root_ / "reloaded.slice"));
    auto status = runGovctl({"status", "--json"});
    ASSERT_EQ(status.status, 0) << status.err;
    EXPECT_EQ(nlohmann::json::parse(status.out)["classes"].size(), 6u) << status.out;

    // Back: the class is gone from the policy and its (empty) slice from the tree.
    spit(tmp_ / "policy.toml", original);
    auto back = runGovctl({"reload"});
    EXPECT_EQ(back.status, 0) << back.err;
    EXPECT_TRUE(waitFor([&] { return !fs::exists(root_ / "reloaded.slice"); }, 10s));
    auto after = runGovctl({"status", "--json"});
    ASSERT_EQ(after.status, 0) << after.err;
    EXPECT_EQ(nlohmann::json::parse(after.out)["classes"].size(), 5u) << after.out;
}

// The shipped system-bus policy (packaging/dbus) under a system-type private bus
// with the stock default-deny rules: root (governord) owns the name, everyone may
// call the interface (governord refuses by itself), nobody else may own it.
TEST_F(GovctlLive, ShippedSystemBusPolicyLetsEveryoneCallAndOnlyRootOwnTheName) {
    const fs::path dir = tmp_ / "sysbus";
    fs::create_directories(dir / "state");
    ::chmod(dir.c_str(), 0755);
    const std::string address = "unix:path=" + (dir / "bus").string();
    spit(dir / "sys.conf",
         "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
         " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
         "<busconfig><type>system</type><listen>" +
             address +
             "</listen>"
             "<auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
             "<deny own=\"*\"/><deny send_type=\"method_call\"/><allow send_type=\"signal\"/>"
             "<allow send_requested_reply=\"true\" send_type=\"method_return\"/>"
             "<allow send_requested_reply=\"true\" send_type=\"error\"/>"
             "<allow receive_type=\"method_call\"/><allow receive_type=\"method_return\"/>"
             "<allow receive_type=\"error\"/><allow receive_type=\"signal\"/>"
             "<allow send_destination=\"org.freedesktop.DBus\" "
             "send_interface=\"org.freedesktop.DBus\"/></policy>"
             "<include>" GOV_SOURCE_DIR
             "/packaging/dbus/org.governor.Governor1.conf</include>"
             "</busconfig>\n");
    pid_t bus = start({"/usr/bin/dbus-daemon", "--config-file=" + (dir / "sys.conf").string(),
                       "--nofork", "--nopidfile"},
                      dir / "bus.out", dir / "bus.err");
    ASSERT_TRUE(waitFor([&] { return fs::exists(dir / "bus"); }, 5s)) << slurp(dir / "bus.err");
    ::chmod((dir / "bus").c_str(), 0777);
    const fs::path root = root_.string() + "-sys";
    gov::testsupport::recordTestTree(root);
    pid_t daemon = start({GOVERNORD, "--bus", address, "--cgroup-root", root.string(),
                          "--state-dir", (dir / "state").string(), "--metrics-listen", ""},
                         dir / "governord.out", dir / "governord.log");
    ::setenv("GOVERNOR_BUS_ADDRESS", address.c_str(), 1);
    const bool up = waitFor([&] { return runGovctl({"status"}).status == 0; }, 30s);
    auto nobodyStatus = runGovctl({"status"}, true);
    auto nobodyExec = runGovctl({"exec", "-c", "adhoc", "--", "true"}, true);
    auto rootExec = runGovctl({"exec", "-c", "adhoc", "--", "true"});
    ::setenv("GOVERNOR_BUS_ADDRESS", address_.c_str(), 1);
    auto own = [&] {
        const int n = outCounter_++;
        pid_t p =
            start({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--init-groups", "--",
                   "/usr/bin/busctl", "--address=" + address, "call", "org.freedesktop.DBus",
                   "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su",
                   "org.governor.Governor1", "0"},
                  dir / ("own.out." + std::to_string(n)), dir / ("own.err." + std::to_string(n)));
        const int status = finish(p, 60s, "busctl RequestName");
        return std::make_pair(status, slurp(dir / ("own.err." + std::to_string(n))));
    }();

    gov::testsupport::stopProcess(daemon, SIGTERM, 10s);
    gov::testsupport::stopProcess(bus, SIGTERM, 10s);
    gov::testsupport::removeTestTree(root);

    ASSERT_TRUE(up) << "governord (root) could not own the name on the system-type bus:\n"
                    << slurp(dir / "governord.log");
    EXPECT_EQ(nobodyStatus.status, 0) << nobodyStatus.err;
    // The bus delivered the call; governord refused it (the built-in default
    // policy lets nobody but root exec).
    EXPECT_EQ(nobodyExec.status, 4);
    EXPECT_EQ(nobodyExec.err, "govctl exec: uid 65534 (nobody) may not exec into class adhoc\n");
    EXPECT_EQ(rootExec.status, 0) << rootExec.err;
    EXPECT_NE(own.first, 0);
    EXPECT_NE(own.second.find("Access denied"), std::string::npos)
        << "busctl exit status " << own.first << ": " << own.second;
}

TEST_F(GovctlLive, ARealRestartDuringAnExecIsReportedAsARestart) {
    // Stopped cleanly and started again at once: another connection owns the
    // name, so the status cannot be known and govctl says so.
    auto bg = execSleep("adhoc", "3");
    ASSERT_GT(bg.workload, 0);
    ::kill(daemonPid_, SIGTERM);
    int st = 0;
    ::waitpid(daemonPid_, &st, 0);
    daemonPid_ = -1;
    ASSERT_TRUE(startDaemon()) << daemonLog();
    const int status = waitExited(bg.govctl, 20s);
    const std::string said = slurp(bg.err);
    EXPECT_EQ(status, 1) << said;
    EXPECT_NE(said.find("its exit status is unknown"), std::string::npos) << said;
}

TEST_F(GovctlLive, ADaemonThatIsSlowToAnswerIsNotARestart) {
    // The daemon is stopped (SIGSTOP: no answer at all) across two of govctl's
    // checks while the workload ends: the same daemon still owns its name, so
    // govctl waits and reports the real status, and says nothing else.
    auto bg = execSleep("adhoc", "1");
    ASSERT_GT(bg.workload, 0);
    ASSERT_EQ(::kill(daemonPid_, SIGSTOP), 0);
    std::this_thread::sleep_for(5s);
    ASSERT_EQ(::kill(daemonPid_, SIGCONT), 0);
    EXPECT_EQ(waitExited(bg.govctl, 20s), 0) << slurp(bg.err);
    EXPECT_EQ(slurp(bg.err), "");
}

TEST_F(GovctlLive, ExecWaitsABoundedTimeForADaemonThatIsRestarting) {
    killDaemon();
    const int n = outCounter_++;
    const fs::path err = tmp_ / ("wait.err." + std::to_string(n));
    pid_t govctl = start({GOVCTL, "exec", "-c", "adhoc", "--", "sh", "-c", "exit 6"},
                         tmp_ / ("wait.out." + std::to_string(n)), err);
    std::this_thread::sleep_for(1500ms);  // systemd restarts governord after 2 s
    ASSERT_TRUE(startDaemon()) << daemonLog();
    EXPECT_EQ(waitExited(govctl, 20s), 6) << slurp(err);
    EXPECT_EQ(slurp(err), "govctl exec: governord is not on " + address_ +
                              " (restarting?): waiting up to 10 s for it\n");
}

TEST_F(GovctlLive, ARelativeWorkingDirectoryIsRefused) {
    // govctl always sends an absolute one: another client (the minimal D-Bus
    // client of govctl, used directly) sends "tmp".
    auto bus = gov::wire::Connection::open(address_);
    ASSERT_TRUE(bus.ok()) << bus.error().message();
    gov::wire::BodyWriter body;
    body.string("adhoc")
        .stringArray({"true"})
        .stringArray({"PATH=/usr/bin:/bin"})
        .string("tmp")
        .unixFd(0)
        .unixFd(1)
        .unixFd(2);
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    auto reply =
        bus->call(gov::wire::methodCall("org.governor.Governor1", "/org/governor/Governor1",
                                        "org.governor.Manager1", "Exec", body),
                  {null, null, null}, 10000);
    ::close(null);
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    EXPECT_EQ(reply->errorName, "org.governor.Error.InvalidArgument");
    EXPECT_EQ(gov::wire::errorMessage(*reply),
              "exec: the working directory must be an absolute path, not \"tmp\"");
}

TEST_F(GovctlLive, WhatAFileIsCalledInADirectoryTheCallerCannotSearchTellsItNothing) {
    const fs::path secret = tmp_ / "secret";
    fs::create_directories(secret);
    ::chmod(secret.c_str(), 0700);
    spit(secret / "present", "#!/bin/sh\nexit 0\n");
    ::chmod((secret / "present").c_str(), 0755);
    auto present = runGovctl({"exec", "-c", "open", "--", (secret / "present").string()}, true);
    auto absent = runGovctl({"exec", "-c", "open", "--", (secret / "absent").string()}, true);
    EXPECT_EQ(present.status, 126) << present.err;
    EXPECT_EQ(absent.status, 126) << absent.err;
    EXPECT_EQ(present.err, "govctl exec: " + (secret / "present").string() +
                               ": cannot execute: Permission denied\n");
    EXPECT_EQ(absent.err, "govctl exec: " + (secret / "absent").string() +
                              ": cannot execute: Permission denied\n");
    auto byRoot = runGovctl({"exec", "-c", "adhoc", "--", (secret / "absent").string()});
    EXPECT_EQ(byRoot.status, 127) << "root may look: " << byRoot.err;
}

TEST_F(GovctlLive, ClientTextInTheDaemonLogIsEscapedAndCut) {
    const std::string forged = "x\nFORGED-LINE info exec /bin/sh as uid 0 (root)";
    auto refused = runGovctl({"exec", "-c", "closed", "--", forged}, true);
    EXPECT_EQ(refused.status, 4) << refused.err;
    auto huge = runGovctl({"exec", "-c", std::string(100000, 'k'), "--", "true"}, true);
    EXPECT_EQ(huge.status, 3);
    ASSERT_TRUE(waitFor([&] { return daemonLog().find("[cut: 1000") != std::string::npos; }, 5s))
        << daemonLog().substr(0, 2000);
    std::istringstream log(daemonLog());
    std::string line;
    size_t longest = 0;
    while (std::getline(log, line)) {
        EXPECT_NE(line.rfind("FORGED-LINE", 0), 0u) << "a forged line: " << line;
        longest = std::max(longest, line.size());
    }
    EXPECT_LT(longest, 2000u);
    EXPECT_NE(daemonLog().find("exec \"x\\nFORGED-LINE"), std::string::npos);
}

// --- never more than the caller -------------------------------------------------------

// The attributes of the workload, one "key:value" per line.
const char* kWorkloadAttributes = R"SH(#!/bin/sh
s=/proc/self/status
for k in NoNewPrivs CapBnd CapEff CapPrm CapInh Umask; do
    echo "$k:$(sed -n "s/^$k:[[:space:]]*//p" $s)"
done
echo "uid:$(id -u)"
echo "nice:$(cut -d' ' -f19 /proc/self/stat)"
echo "oom:$(cat /proc/self/oom_score_adj)"
echo "login:$(cat /proc/self/loginuid)"
echo "session:$(cat /proc/self/sessionid)"
echo "nofile:$(ulimit -n)"
echo "stack:$(ulimit -s)"
echo "nproc:$(sed -n 's/^Max processes  *\([0-9]*\).*/\1/p' /proc/self/limits)"
echo "sched:$(cut -d' ' -f41 /proc/self/stat)"
echo "io:$(ionice -p $$)"
)SH";

std::map<std::string, std::string> keyValues(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon != std::string::npos)
            out[line.substr(0, colon)] = line.substr(colon + 1);
    }
    return out;
}

TEST_F(GovctlLive, ARestrictedCallersWorkloadIsNeverLessRestricted) {
    // The issue's caller: nobody, no_new_privs, bounding set CAP_CHOWN only, nice
    // 7, oom_score_adj 300, umask 077, 512 files, a 4 MiB stack, 64 processes,
    // audit loginuid 4242, idle io and cpu scheduling.
    const fs::path show = tmp_ / "attributes.sh";
    spit(show, kWorkloadAttributes);
    ::chmod(show.c_str(), 0755);
    const fs::path caller = tmp_ / "caller.sh";
    spit(caller,
         "echo 4242 > /proc/self/loginuid || exit 90\n"
         "exec prlimit --nofile=512 --stack=4194304 --nproc=64 -- "
         "setpriv --reuid=nobody --regid=nogroup --init-groups --no-new-privs "
         "--bounding-set=-all,+chown -- nice -n 7 choom -n 300 -- ionice -c 3 "
         "chrt --idle 0 sh -c 'umask 077; exec \"$0\" exec -c open -- \"$1\"' " +
             std::string(GOVCTL) + " " + show.string() + "\n");
    const int n = outCounter_++;
    const fs::path out = tmp_ / ("ids.out." + std::to_string(n));
    const fs::path err = tmp_ / ("ids.err." + std::to_string(n));
    pid_t p = start({"/bin/sh", caller.string()}, out, err);
    int st = 0;
    ::waitpid(p, &st, 0);
    ASSERT_EQ(decode(st), 0) << slurp(err) << slurp(out);
    auto got = keyValues(slurp(out));
    EXPECT_EQ(got["uid"], "65534");
    EXPECT_EQ(got["NoNewPrivs"], "1");
    EXPECT_EQ(got["CapBnd"], "0000000000000001");
    EXPECT_EQ(got["CapEff"], "0000000000000000");
    EXPECT_EQ(got["CapPrm"], "0000000000000000");
    EXPECT_EQ(got["Umask"], "0077");
    EXPECT_EQ(got["nice"], "7");
    EXPECT_EQ(got["oom"], "300");
    EXPECT_EQ(got["nofile"], "512");
    EXPECT_EQ(got["stack"], "4096");
    EXPECT_EQ(got["nproc"], "64");
    EXPECT_EQ(got["login"], "4242");
    EXPECT_NE(got["session"], "4294967295") << "a session of its own, allocated by the kernel";
    EXPECT_EQ(got["sched"], "5") << "SCHED_IDLE";
    EXPECT_EQ(got["io"], "idle");
}

TEST_F(GovctlLive, ASetuidProgramGetsNoMoreThanTheCallerCouldGet) {
    // A setuid-root copy of cat, reading its own status: with the caller's
    // no_new_privs the bit does nothing; without it, root's powers are cut to the
    // caller's bounding set.
    const fs::path cat = tmp_ / "suid-cat";
    ASSERT_EQ(
        std::system(("cp /bin/cat " + cat.string() + " && chmod 4755 " + cat.string()).c_str()), 0);
    auto run = [&](const std::string& setprivOptions) {
        const int n = outCounter_++;
        const fs::path out = tmp_ / ("suid.out." + std::to_string(n));
        const fs::path err = tmp_ / ("suid.err." + std::to_string(n));
        pid_t p =
            start({"/bin/sh", "-c",
                   "exec setpriv --reuid=nobody --regid=nogroup --init-groups " + setprivOptions +
                       " -- " + GOVCTL + " exec -c open -- " + cat.string() + " /proc/self/status"},
                  out, err);
        int st = 0;
        ::waitpid(p, &st, 0);
        EXPECT_EQ(decode(st), 0) << slurp(err);
        return "\n" + slurp(out);
    };
    const std::string nnp = run("--no-new-privs");
    EXPECT_NE(nnp.find("\nUid:\t65534\t65534\t65534"), std::string::npos) << nnp;
    EXPECT_NE(nnp.find("\nCapEff:\t0000000000000000"), std::string::npos) << nnp;
    const std::string bounded = run("--bounding-set=-all,+chown");
    EXPECT_NE(bounded.find("\nUid:\t65534\t0\t0"), std::string::npos) << bounded;
    EXPECT_NE(bounded.find("\nCapEff:\t0000000000000001"), std::string::npos) << bounded;
}

TEST_F(GovctlLive, ARootCallerWithReducedCapabilitiesKeepsThemReduced) {
    const int n = outCounter_++;
    const fs::path out = tmp_ / ("rootcaps.out." + std::to_string(n));
    const fs::path err = tmp_ / ("rootcaps.err." + std::to_string(n));
    pid_t p = start({"/usr/bin/setpriv", "--bounding-set=-all,+net_raw,+chown", "--inh-caps=-all",
                     "--", GOVCTL, "exec", "-c", "adhoc", "--", "sh", "-c",
                     "grep -E '^Cap(Bnd|Eff)' /proc/self/status; id -u"},
                    out, err);
    int st = 0;
    ::waitpid(p, &st, 0);
    ASSERT_EQ(decode(st), 0) << slurp(err);
    EXPECT_EQ(slurp(out), "CapEff:\t0000000000002001\nCapBnd:\t0000000000002001\n0\n");
}

// --- a terminal command ----------------------------------------------------------------

// A pseudo-terminal the test opens: the terminal govctl runs on (the test plays
// the terminal emulator: it types into the master and reads the screen from it).
struct LiveTerminal {
    int master = -1;
    int slave = -1;
    std::string screen;
    LiveTerminal() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master >= 0 && ::grantpt(master) == 0 && ::unlockpt(master) == 0)
            slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        struct winsize w {};
        w.ws_row = 24;
        w.ws_col = 80;
        ::ioctl(master, TIOCSWINSZ, &w);
    }
    ~LiveTerminal() {
        if (slave >= 0)
            ::close(slave);
        if (master >= 0)
            ::close(master);
    }
    void pump() {
        struct pollfd p = {master, POLLIN, 0};
        while (::poll(&p, 1, 20) > 0) {
            char buf[4096];
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0)
                return;
            screen.append(buf, static_cast<size_t>(n));
        }
    }
    // Waits until `text` appears on the screen after `from`; returns where it
    // ends (npos when it did not within `timeout`).
    size_t expect(const std::string& text, size_t from, std::chrono::seconds timeout = 10s) {
        size_t at = std::string::npos;
        waitFor(
            [&] {
                pump();
                at = screen.find(text, from);
                return at != std::string::npos;
            },
            timeout);
        return at == std::string::npos ? at : at + text.size();
    }
    void type(const std::string& keys) { (void)!::write(master, keys.data(), keys.size()); }
    struct termios modes() const {
        struct termios t {};
        ::tcgetattr(slave, &t);
        return t;
    }
};

bool sameModes(const struct termios& a, const struct termios& b) {
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
           a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

// Starts govctl ARGS on `t` as its controlling terminal (its session leader).
pid_t startOnTerminal(LiveTerminal& t, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {GOVCTL};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        ::ioctl(t.slave, TIOCSCTTY, 0);
        for (int fd = 0; fd <= 2; ++fd)
            ::dup2(t.slave, fd);
        ::setenv("TERM", "xterm", 1);
        ::setenv("PS1", "gov$ ", 1);
        std::vector<char*> a;
        for (auto& s : argv)
            a.push_back(s.data());
        a.push_back(nullptr);
        ::execv(a[0], a.data());
        ::_exit(121);
    }
    return pid;
}

TEST_F(GovctlLive, BashInATerminalHasJobControlADevTtyAndItsOwnCtrlCAndCtrlZ) {
    for (const char* cls : {"adhoc", "isolated"}) {
        SCOPED_TRACE(cls);
        LiveTerminal t;
        ASSERT_GE(t.slave, 0);
        const struct termios before = t.modes();
        const pid_t govctl = startOnTerminal(
            t, {"exec", "-c", cls, "--", "/bin/bash", "--norc", "--noprofile", "-i"});
        size_t at = t.expect("gov$ ", 0);
        ASSERT_NE(at, std::string::npos) << t.screen;
        EXPECT_EQ(t.screen.find("no job control"), std::string::npos) << t.screen;
        EXPECT_EQ(t.screen.find("cannot set terminal process group"), std::string::npos)
            << t.screen;
        // Job control on, and /dev/tty works. (What is expected is computed by the
        // shell, so that the echo of the typed line cannot match it.)
        t.type(
            "case $- in *m*) echo JOBS-$((2*3));; esac; echo via-$((6*7)) > /dev/tty && "
            "echo TTY-$((1+1))\r");
        at = t.expect("TTY-2\r\n", at);
        EXPECT_NE(at, std::string::npos) << t.screen;
        EXPECT_NE(t.screen.find("JOBS-6"), std::string::npos) << t.screen;
        EXPECT_NE(t.screen.find("via-42"), std::string::npos) << t.screen;
        // Ctrl-C ends the foreground job only.
        t.type("sleep 100\r");
        std::this_thread::sleep_for(500ms);
        t.type("\x03");
        t.type("echo ALIVE-$?\r");
        at = t.expect("ALIVE-130", at);
        EXPECT_NE(at, std::string::npos) << t.screen;
        // Ctrl-Z suspends the job inside the workload's shell.
        t.type("sleep 100\r");
        std::this_thread::sleep_for(500ms);
        t.type("\x1a");
        at = t.expect("Stopped", at);
        EXPECT_NE(at, std::string::npos) << t.screen;
        t.type("jobs; kill -9 %1; echo KILLED-$((3+4))\r");
        at = t.expect("KILLED-7", at);
        EXPECT_NE(at, std::string::npos) << t.screen;
        // A window change reaches the foreground program: SIGWINCH and the size.
        t.type(
            "sh -c 'trap \"stty size; exit 0\" WINCH; echo WAIT$((1+1))ING; while :; do "
            "sleep 0.1; done'\r");
        at = t.expect("WAIT2ING", at);
        ASSERT_NE(at, std::string::npos) << t.screen;
        struct winsize w {};
        w.ws_row = 50;
        w.ws_col = 160;
        ASSERT_EQ(::ioctl(t.master, TIOCSWINSZ, &w), 0);
        at = t.expect("50 160", at);
        EXPECT_NE(at, std::string::npos) << t.screen;
        t.type("exit 3\r");
        EXPECT_EQ(waitExited(govctl, 10s), 3) << t.screen;
        EXPECT_TRUE(sameModes(t.modes(), before)) << "the terminal's modes are restored";
    }
}

TEST_F(GovctlLive, SigtermToGovctlOnATerminalRestoresItAndEndsTheShell) {
    LiveTerminal t;
    ASSERT_GE(t.slave, 0);
    const struct termios before = t.modes();
    const pid_t govctl = startOnTerminal(
        t, {"exec", "-c", "adhoc", "--", "/bin/bash", "--norc", "--noprofile", "-i"});
    ASSERT_NE(t.expect("gov$ ", 0), std::string::npos) << t.screen;
    std::string group;
    ASSERT_TRUE(waitFor([&] { return findWorkload("adhoc", "bash", &group) > 0; }, 10s));
    ASSERT_EQ(::kill(govctl, SIGTERM), 0);
    // bash ignores SIGTERM; the hang-up of its terminal ends it (SIGHUP).
    EXPECT_EQ(waitExited(govctl, 10s), 128 + SIGHUP) << t.screen;
    EXPECT_TRUE(sameModes(t.modes(), before));
    EXPECT_TRUE(waitFor([&] { return !fs::exists(root_ / group); }, 10s)) << group;
}

TEST_F(GovctlLive, WithoutATerminalNothingChanges) {
    // Pipes stay pipes (the workload sees govctl's descriptors, not a terminal).
    auto r = runGovctl({"exec", "-c", "adhoc", "--", "sh", "-c",
                        "test -t 0 || echo stdin-not-tty; test -t 1 || echo stdout-not-tty"},
                       false, std::string("x\n"));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "stdin-not-tty\nstdout-not-tty\n");
}

}  // namespace
