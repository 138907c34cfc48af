// Host-live tests of governord under hostile callers and unlucky operators (issue
// 18): the real daemon binary, in a uniquely named subtree of the host's cgroup v2
// mount, with its own state directory and, where the control API is used, its own
// private dbus-daemon. Each test starts what it needs and everything is ended (by
// pid) and removed afterwards. Root only; they skip, saying why, otherwise.
//
// The hostile clients are scripts kept beside this file (hostile_bus.py): they run
// as nobody (setpriv) and call the API as an unprivileged user would.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
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
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred())
            return true;
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

bool alive(pid_t pid) {
    return pid > 0 && ::kill(pid, 0) == 0;
}

// fork + execv with stdin from /dev/null and stdout+stderr to `log`.
pid_t startProcess(const std::vector<std::string>& argv, const fs::path& log,
                   const std::vector<std::string>& env = {}) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int in = ::open("/dev/null", O_RDONLY);
        int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0)
            ::_exit(120);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        for (const auto& e : env)
            ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(121);
    }
    return pid;
}

struct Ran {
    int status = -1;  // exit code, 128+signal, or -1 when it did not end in time
    std::string out;  // stdout and stderr
};

// The classes of the built-in default policy, without limits (this host's v2
// hierarchy has no controllers); nobody may exec into "open".
constexpr const char* kPolicy =
    "[classes.adhoc]\n[classes.core]\n[classes.noncore]\n"
    "[classes.open]\nexec.users = [\"nobody\"]\n";

class Hardening : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "host-live tests need root (governord writes the cgroup tree)";
        auto mount = gov::runtime::discoverCgroup2();
        if (!mount)
            GTEST_SKIP() << "no cgroup v2 hierarchy: " << mount.error().message();
        static int counter = 0;
        name_ = "gov-hard-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        root_ = fs::path(mount->path) / name_;
        tmp_ = fs::temp_directory_path() / name_;
        fs::remove_all(tmp_);
        fs::create_directories(tmp_ / "state");
        // nobody (the hostile scripts) must reach the bus socket and the policy.
        ::chmod(tmp_.c_str(), 0755);
    }

    void TearDown() override {
        stopDaemon(SIGKILL);
        if (bus_ > 0) {
            ::kill(bus_, SIGTERM);
            int st;
            ::waitpid(bus_, &st, 0);
            bus_ = -1;
        }
        // Only processes this test started live there.
        gov::testsupport::removeTestTree(root_);
        if (!tmp_.empty())
            fs::remove_all(tmp_);
    }

    // A private dbus-daemon that every user may connect to.
    void startBus() {
        const fs::path socket = tmp_ / "bus";
        address_ = "unix:path=" + socket.string();
        spit(tmp_ / "bus.conf",
             "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
             " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
             "<busconfig>\n  <type>session</type>\n  <listen>" +
                 address_ +
                 "</listen>\n  <auth>EXTERNAL</auth>\n"
                 "  <policy context=\"default\">\n"
                 "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                 "    <allow eavesdrop=\"true\"/>\n    <allow own=\"*\"/>\n"
                 "    <allow user=\"*\"/>\n  </policy>\n"
                 // The system bus's limits (system.conf's defaults), not the session's.
                 "  <limit name=\"max_message_size\">33554432</limit>\n"
                 "</busconfig>\n");
        fs::remove(socket);
        bus_ =
            startProcess({"/usr/bin/dbus-daemon", "--config-file=" + (tmp_ / "bus.conf").string(),
                          "--nofork", "--nopidfile"},
                         tmp_ / "bus.log");
        ASSERT_TRUE(waitFor([&] { return fs::exists(socket); }, 10s)) << slurp(tmp_ / "bus.log");
        ::chmod(socket.c_str(), 0777);
    }

    fs::path policyFile(const std::string& text, const std::string& name = "policy.toml") {
        fs::path p = tmp_ / name;
        spit(p, text);
        ::chmod(p.c_str(), 0644);
        return p;
    }

    // Starts governord on this test's tree and state (and bus, when started);
    // `waitReady`: returns once it logged "governord ready" (or fails).
    void startDaemon(std::vector<std::string> extra = {}, bool waitReady = true) {
        log_ = tmp_ / ("governord-" + std::to_string(runs_++) + ".log");
        std::vector<std::string> args = {GOVERNORD,
                                         "--cgroup-root",
                                         root_.string(),
                                         "--state-dir",
                                         stateDir().string(),
                                         "--log-level",
                                         "debug",
                                         "--rescan-interval",
                                         "0.2",
                                         "--metrics-listen",
                                         "",
                                         "--bus",
                                         address_};
        // Hermetic: this test's policy, never the host's /etc/governor.
        if (std::find(extra.begin(), extra.end(), "--policy") == extra.end()) {
            args.push_back("--policy");
            args.push_back(policyFile(kPolicy).string());
        }
        args.insert(args.end(), extra.begin(), extra.end());
        daemon_ = startProcess(args, log_);
        ASSERT_GT(daemon_, 0);
        if (!waitReady)
            return;
        ASSERT_TRUE(waitFor([&] { return logHas("governord ready") || !alive(daemon_); }, 30s))
            << log();
        ASSERT_TRUE(logHas("governord ready")) << log();
    }

    // Sends `sig` and reaps the daemon; returns its wait status.
    int stopDaemon(int sig) {
        if (daemon_ <= 0)
            return -1;
        ::kill(daemon_, sig);
        int status = 0;
        ::waitpid(daemon_, &status, 0);
        daemon_ = -1;
        return status;
    }

    // The daemon's wait status when it has exited (reaped), nullopt while it runs.
    std::optional<int> exited() {
        int status = 0;
        if (daemon_ > 0 && ::waitpid(daemon_, &status, WNOHANG) == daemon_) {
            daemon_ = -1;
            return status;
        }
        return std::nullopt;
    }

    // Runs `argv` (as nobody with setpriv when `asNobody`) with the bus address in
    // GOVERNOR_BUS_ADDRESS; its status, or -1 when it did not end within `timeout`
    // (it is then killed).
    Ran run(std::vector<std::string> argv, bool asNobody = false,
            std::chrono::milliseconds timeout = 30s) {
        if (asNobody) {
            argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                       "--init-groups", "--"});
        }
        const fs::path out = tmp_ / ("run-" + std::to_string(runCounter_++) + ".out");
        pid_t pid = startProcess(argv, out, {"GOVERNOR_BUS_ADDRESS=" + address_});
        Ran r;
        int st = 0;
        if (waitFor([&] { return ::waitpid(pid, &st, WNOHANG) == pid; }, timeout)) {
            r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        } else {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
        }
        r.out = slurp(out);
        return r;
    }
    Ran govctl(std::vector<std::string> args, bool asNobody = false) {
        args.insert(args.begin(), GOVCTL);
        return run(std::move(args), asNobody);
    }

    bool logHas(const std::string& text) const { return log().find(text) != std::string::npos; }
    std::string log() const { return slurp(log_); }
    fs::path stateDir() const { return tmp_ / "state"; }

    std::string name_;
    fs::path root_;
    fs::path tmp_;
    fs::path log_;
    std::string address_;  // empty: no D-Bus service
    pid_t bus_ = -1;
    pid_t daemon_ = -1;
    int runs_ = 0;
    int runCounter_ = 0;
};

// Issue 18 item 7: the signals the daemon handles are blocked from the first line
// of main until their handlers exist. A SIGHUP during the start (here: a burst of
// them from the moment governord says it is starting until it is ready, the start
// made longer by 100 groups to adopt) used to kill it without a log line.
TEST_F(Hardening, ASighupDuringTheStartIsHandledOnceTheLoopRunsAndDoesNotKillTheDaemon) {
    for (int i = 0; i < 100; ++i)
        fs::create_directories(root_ / "adhoc.slice" / ("old-" + std::to_string(i) + ".scope"));
    startDaemon({}, /*waitReady=*/false);
    ASSERT_TRUE(waitFor([&] { return logHas("starting") || !alive(daemon_); }, 30s)) << log();
    int sent = 0;
    while (!logHas("governord ready") && !exited()) {
        ::kill(daemon_, SIGHUP);
        ++sent;
        std::this_thread::sleep_for(2ms);
    }
    ASSERT_GT(daemon_, 0) << "governord died after " << sent << " SIGHUPs during its start:\n"
                          << log();
    ASSERT_GT(sent, 0);
    EXPECT_TRUE(waitFor([&] { return logHas("SIGHUP received: reloading the policy"); }, 10s))
        << log();
    EXPECT_TRUE(waitFor([&] { return logHas("policy applied (reload)"); }, 10s)) << log();
    EXPECT_TRUE(alive(daemon_));
    // And it still stops cleanly.
    const int status = stopDaemon(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log();
}

// Issue 18 item 7: damaged accounting never stops governance. With both
// generations of totals.json damaged, governord refused to start: no limit
// applied, no exec. Now it starts, says loudly that the totals restart from zero,
// sets both files aside (renamed, never deleted) and serves execs, and the first
// save starts a clean history.
TEST_F(Hardening, BothTotalsGenerationsDamagedStillGovernServesExecsAndKeepsTheFilesAside) {
    spit(stateDir() / "totals.json", "{\"version\":1,\"classes\":{\"adh");
    spit(stateDir() / "totals.json.prev", "not json at all");
    startBus();
    startDaemon();
    EXPECT_TRUE(logHas("no usable generation: the totals of ended workloads start from zero"))
        << log();
    for (const char* slice : {"adhoc.slice", "core.slice", "noncore.slice"})
        EXPECT_TRUE(fs::is_directory(root_ / slice)) << slice;
    std::vector<std::string> aside;
    for (const auto& e : fs::directory_iterator(stateDir())) {
        if (e.path().filename().string().find(".damaged-") != std::string::npos)
            aside.push_back(slurp(e.path()));
    }
    std::sort(aside.begin(), aside.end());
    EXPECT_EQ(aside,
              (std::vector<std::string>{"not json at all", "{\"version\":1,\"classes\":{\"adh"}));

    auto ran = govctl({"exec", "-c", "adhoc", "--", "/bin/sh", "-c", "exit 7"});
    EXPECT_EQ(ran.status, 7) << ran.out << log();
    // The ended workload is folded into fresh totals.
    ASSERT_TRUE(waitFor(
        [&] {
            return slurp(stateDir() / "totals.json").find("\"workloads_ended\": 1") !=
                   std::string::npos;
        },
        10s))
        << log();
}

// Issue 18 item 7: after recovering from a damaged totals.json, the next save
// rotated the damaged file into totals.json.prev, losing the good generation.
TEST_F(Hardening, ADamagedCurrentTotalsFileIsSetAsideAndTheGoodGenerationSurvivesTheNextSave) {
    const std::string good =
        "{\"version\":1,\"classes\":{\"adhoc\":{\"workloads_ended\":41}},"
        "\"pending_removal\":[]}\n";
    spit(stateDir() / "totals.json", "{\"version\":1,\"cla");
    spit(stateDir() / "totals.json.prev", good);
    startBus();
    startDaemon();
    EXPECT_TRUE(logHas("using the previous generation")) << log();
    auto ran = govctl({"exec", "-c", "adhoc", "--", "/bin/true"});
    EXPECT_EQ(ran.status, 0) << ran.out << log();
    ASSERT_TRUE(waitFor(
        [&] {
            return slurp(stateDir() / "totals.json").find("\"workloads_ended\": 42") !=
                   std::string::npos;
        },
        10s))
        << slurp(stateDir() / "totals.json") << log();
    // The previous generation is the good one, not the damaged file.
    EXPECT_EQ(slurp(stateDir() / "totals.json.prev"), good);
}

// Issue 18 item 7: an invalid policy file at boot (a bad edit pushed by config
// management) made governord exit with its diagnostics, leaving the host ungoverned.
// Now the last good policy (kept in the state directory at every successful apply)
// runs, and the diagnostics are logged.
TEST_F(Hardening, AnInvalidPolicyAtStartRunsTheLastGoodOneAndLogsTheDiagnostics) {
    const fs::path policy = policyFile(
        "[classes.adhoc]\n[classes.extra]\ndescription = \"the good one\"\n", "mine.toml");
    startDaemon({"--policy", policy.string()});
    EXPECT_TRUE(fs::is_directory(root_ / "extra.slice"));
    ASSERT_TRUE(WIFEXITED(stopDaemon(SIGTERM))) << log();
    ASSERT_TRUE(fs::exists(stateDir() / "policy.last-good.json"));

    spit(policy, "[classes.adhoc]\nmemory.mx = \"1GiB\"\n");
    // The slice goes; the last good policy must bring it back.
    ASSERT_EQ(::rmdir((root_ / "extra.slice").c_str()), 0);
    startDaemon({"--policy", policy.string()});
    EXPECT_TRUE(logHas("unknown key 'mx' (did you mean 'memory.max'?)")) << log();
    EXPECT_TRUE(logHas("running the last good policy")) << log();
    EXPECT_TRUE(fs::is_directory(root_ / "extra.slice")) << log();
    EXPECT_TRUE(alive(daemon_));
}

}  // namespace
