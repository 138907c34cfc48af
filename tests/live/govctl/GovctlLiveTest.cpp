// Live tests of governord's D-Bus API through govctl (and busctl, a client we did
// not write). One private dbus-daemon (session-like config, temp socket) and one
// real governord (--bus that address, --cgroup-root a unique group under the v2
// mount, --state-dir a temp dir, no metrics) for the whole suite; both are ended
// by pid and the tree is removed at the end, even when a test fails.
//
// The test policy has: adhoc (root only), open (exec.users and control.users
// "nobody"), opengroup (exec.groups "nogroup"), closed (root only). Unprivileged
// calls run govctl as nobody with setpriv.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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
// stderr to files in `dir`; optionally not waited for.
pid_t start(const std::vector<std::string>& argv, const fs::path& outFile, const fs::path& errFile,
            const std::string& inFile = "/dev/null") {
    pid_t pid = ::fork();
    if (pid == 0) {
        int in = ::open(inFile.c_str(), O_RDONLY);
        int out = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0)
            ::_exit(120);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(121);
    }
    return pid;
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
                         "--nofork", "--nopidfile"},
                        tmp_ / "bus.out", tmp_ / "bus.err");
        if (!waitFor([&] { return fs::exists(socket); }, 5s)) {
            skipReason_ = "";
            FAIL() << "dbus-daemon did not create " << socket << ": " << slurp(tmp_ / "bus.err");
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
            ::kill(daemonPid_, SIGTERM);
            int st;
            if (!waitFor([&] { return ::waitpid(daemonPid_, &st, WNOHANG) == daemonPid_; }, 10s)) {
                ::kill(daemonPid_, SIGKILL);
                ::waitpid(daemonPid_, &st, 0);
            }
            daemonPid_ = -1;
        }
        if (busPid_ > 0) {
            ::kill(busPid_, SIGTERM);
            int st;
            ::waitpid(busPid_, &st, 0);
            busPid_ = -1;
        }
        ::unsetenv("GOVERNOR_BUS_ADDRESS");
        // Only processes this suite started live there.
        gov::testsupport::removeTestTree(root_);
        if (!tmp_.empty())
            fs::remove_all(tmp_);
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
        std::vector<std::string> argv;
        if (asNobody) {
            argv = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--init-groups", "--"};
        }
        argv.push_back(GOVCTL);
        argv.insert(argv.end(), args.begin(), args.end());
        const int n = outCounter_++;
        const fs::path out = tmp_ / ("out." + std::to_string(n));
        const fs::path err = tmp_ / ("err." + std::to_string(n));
        std::string in = "/dev/null";
        if (input) {
            in = (tmp_ / ("in." + std::to_string(n))).string();
            spit(in, *input);
        }
        pid_t pid = start(argv, out, err, in);
        int st = 0;
        ::waitpid(pid, &st, 0);
        Ran r{decode(st), slurp(out), slurp(err)};
        fs::remove(out);
        fs::remove(err);
        if (input)
            fs::remove(in);
        return r;
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

    // Waits until the daemon has answered the Exec that started `group` (it logs
    // the exec once the reply is on its way), plus a margin for the bus to deliver
    // it: killing the daemon before that is another case (govctl gets no answer).
    static bool execAnswered(const std::string& group) {
        const bool logged = waitFor(
            [&] { return daemonLog().find(" in " + group + ": pid ") != std::string::npos; }, 10s);
        std::this_thread::sleep_for(200ms);
        return logged;
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
        ::kill(daemonPid_, SIGKILL);
        int st = 0;
        ::waitpid(daemonPid_, &st, 0);
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
    std::this_thread::sleep_for(2500ms);  // govctl's liveness check finds nobody
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
    EXPECT_EQ(waitExited(bg.govctl, 10s), 130)
        << "-1: the workload ignored SIGINT\n" << slurp(bg.err);
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
    EXPECT_EQ(refused.err,
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

TEST_F(GovctlLive, FreezeThawKillAreAuthorizedAndRefusalsSayWhoWasRefusedWhat) {
    auto denied = runGovctl({"freeze", "closed"}, true);
    EXPECT_EQ(denied.status, 4);
    EXPECT_EQ(denied.err, "govctl freeze: uid 65534 (nobody) may not freeze class closed\n");
    auto reload = runGovctl({"reload"}, true);
    EXPECT_EQ(reload.status, 4);
    EXPECT_EQ(reload.err, "govctl reload: uid 65534 (nobody) may not reload the policy\n");

    auto frozen = runGovctl({"freeze", "open"}, true);
    EXPECT_EQ(frozen.status, 0) << frozen.err;
    EXPECT_EQ(slurp(root_ / "open.slice" / "cgroup.freeze"), "1\n");
    auto thawed = runGovctl({"thaw", "open"}, true);
    EXPECT_EQ(thawed.status, 0) << thawed.err;
    EXPECT_EQ(slurp(root_ / "open.slice" / "cgroup.freeze"), "0\n");

    auto unknown = runGovctl({"freeze", "nosuch"});
    EXPECT_EQ(unknown.status, 3);
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

TEST_F(GovctlLive, TwoHundredConcurrentExecsAllSucceedAndLeaveNoGroupBehind) {
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
        int st = 0;
        ::waitpid(pids[i], &st, 0);
        if (decode(st) != i % 50) {
            ++wrong;
            if (firstError.empty())
                firstError = "exec " + std::to_string(i) + ": status " +
                             std::to_string(decode(st)) + ": " +
                             slurp(tmp_ / ("conc.err." + std::to_string(i)));
        }
        fs::remove(tmp_ / ("conc.err." + std::to_string(i)));
    }
    EXPECT_EQ(wrong, 0) << firstError;
    EXPECT_TRUE(waitFor([&] { return scopesOf("adhoc").empty(); }, 5s))
        << scopesOf("adhoc").size() << " workload groups left in adhoc.slice";
}

TEST_F(GovctlLive, BusctlSeesTheInterface) {
    const fs::path out = tmp_ / "busctl.out";
    pid_t pid = start({"/usr/bin/busctl", "--address=" + address_, "introspect",
                       "org.governor.Governor1", "/org/governor/Governor1"},
                      out, tmp_ / "busctl.err");
    int st = 0;
    ::waitpid(pid, &st, 0);
    ASSERT_EQ(decode(st), 0) << slurp(tmp_ / "busctl.err");
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

TEST_F(GovctlLive, ReloadByRootReappliesThePolicy) {
    auto r = runGovctl({"reload"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "policy reloaded\n");
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
        int st = 0;
        ::waitpid(p, &st, 0);
        return std::make_pair(decode(st), slurp(dir / ("own.err." + std::to_string(n))));
    }();

    ::kill(daemon, SIGTERM);
    int st = 0;
    ::waitpid(daemon, &st, 0);
    ::kill(bus, SIGTERM);
    ::waitpid(bus, &st, 0);
    for (const char* g : {"adhoc.slice", "core.slice", "noncore.slice", "governord"})
        ::rmdir((root / g).c_str());
    ::rmdir(root.c_str());

    ASSERT_TRUE(up) << "governord (root) could not own the name on the system-type bus:\n"
                    << slurp(dir / "governord.log");
    EXPECT_EQ(nobodyStatus.status, 0) << nobodyStatus.err;
    // The bus delivered the call; governord refused it (the built-in default
    // policy lets nobody but root exec).
    EXPECT_EQ(nobodyExec.status, 4);
    EXPECT_EQ(nobodyExec.err, "govctl exec: uid 65534 (nobody) may not exec into class adhoc\n");
    EXPECT_EQ(rootExec.status, 0) << rootExec.err;
    EXPECT_NE(own.first, 0);
    EXPECT_NE(own.second.find("Access denied"), std::string::npos) << own.second;
}

}  // namespace
