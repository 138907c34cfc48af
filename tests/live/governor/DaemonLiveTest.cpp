// Host-live tests of the daemon on the machine's real cgroup v2 hierarchy, in a
// uniquely named subtree that each test removes. Root only; they skip (saying why)
// otherwise. On the hybrid development hosts the v2 hierarchy has no controllers:
// limits are proven in the VM tier; here: groups, spawning, freeze/thaw, kill,
// events, cpu accounting, restarts and reloads.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "TestTree.hpp"
#include "gov/core/Governor.hpp"
#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/Spawner.hpp"

namespace gov::core {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void writeFile(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

// utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
uint64_t cpuTicks(pid_t pid) {
    std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14)
            utime = std::stoull(field);  // test code: input is the kernel's
        if (i == 15)
            stime = std::stoull(field);
    }
    return utime + stime;
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred())
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

bool alive(pid_t pid) {
    return ::kill(pid, 0) == 0;
}

class LiveTree : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "host-live tests need root (cgroup writes)";
        auto mount = runtime::discoverCgroup2();
        if (!mount)
            GTEST_SKIP() << "no cgroup v2 hierarchy: " << mount.error().message();
        static int counter = 0;
        name_ = "gov-live-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        root_ = fs::path(mount->path) / name_;
        state_ = fs::temp_directory_path() / (name_ + "-state");
        fs::remove_all(state_);
        fs::create_directories(state_);
        config_.cgroupRoot = root_.string();
        config_.stateDir = state_.string();
        config_.moveSelf = false;  // in-process: the test runner stays where it is
        config_.freezeTimeout = 2000ms;
    }

    void TearDown() override {
        for (pid_t pid : started_) {
            if (alive(pid))
                ::kill(pid, SIGKILL);
            int status;
            ::waitpid(pid, &status, 0);
        }
        // Everything in the test tree was started by this test.
        gov::testsupport::removeTestTree(root_);
        if (!state_.empty())
            fs::remove_all(state_);
    }

    // Spawns argv into `group` (relative to the root) with the runtime's spawner.
    pid_t spawnInto(const std::string& group, std::vector<std::string> argv) {
        auto cg = runtime::CgroupFs::open(root_.string());
        EXPECT_TRUE(cg.ok());
        auto fd = cg->openGroup(group);
        EXPECT_TRUE(fd.ok()) << fd.error().message();
        runtime::SpawnRequest req;
        req.argv = std::move(argv);
        req.env = {"PATH=/usr/bin:/bin"};
        req.cgroupFd = fd->get();
        int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        req.stdinFd = req.stdoutFd = devnull;
        runtime::Clone3Spawner spawner;
        auto child = spawner.spawn(req);
        ::close(devnull);
        EXPECT_TRUE(child.ok()) << child.error().message();
        if (!child.ok())
            return -1;
        started_.push_back(child->pid);
        return child->pid;
    }

    std::string policyFile(const std::string& text) {
        fs::path p = state_ / "policy.toml";
        writeFile(p, text);
        return p.string();
    }

    void pumpEventsUntil(Governor& g, const std::function<bool()>& pred,
                         std::chrono::milliseconds timeout) {
        ASSERT_TRUE(waitFor(
            [&] {
                g.handleEvents();
                return pred();
            },
            timeout));
    }

    std::string name_;
    fs::path root_;
    fs::path state_;
    GovernorConfig config_;
    std::vector<pid_t> started_;
};

TEST_F(LiveTree, StartCreatesEveryClassSliceAndReportsMissingControllers) {
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    for (const char* slice : {"adhoc.slice", "core.slice", "noncore.slice"}) {
        EXPECT_TRUE(fs::is_directory(root_ / slice)) << slice;
    }
    // Whatever this host lacks is reported, never pretended.
    const auto& available = (*g)->availableControllers();
    for (const auto& u : (*g)->unenforceable()) {
        EXPECT_EQ(available.count(u.controller), 0u) << u.controller;
    }
}

TEST_F(LiveTree, FreezeStopsAWorkloadThawResumesItKillEmptiesItAndItsCpuIsAccounted) {
    auto started = Governor::start(config_);
    ASSERT_TRUE(started.ok()) << started.error().message();
    Governor& g = **started;
    auto group = g.createWorkloadGroup("adhoc", "spin");
    ASSERT_TRUE(group.ok()) << group.error().message();
    pid_t pid = spawnInto(*group, {"sh", "-c", "while :; do :; done"});
    ASSERT_GT(pid, 0);
    g.markPopulated(*group);
    EXPECT_NE(readFile("/proc/" + std::to_string(pid) + "/cgroup").find(name_ + "/" + *group),
              std::string::npos);

    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(g.control(ControlAction::Freeze, *group).ok());
    uint64_t frozenAt = cpuTicks(pid);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(cpuTicks(pid), frozenAt) << "a frozen workload made CPU progress";
    EXPECT_NE(readFile(root_ / *group / "cgroup.events").find("frozen 1"), std::string::npos);

    ASSERT_TRUE(g.control(ControlAction::Thaw, *group).ok());
    std::this_thread::sleep_for(300ms);
    EXPECT_GT(cpuTicks(pid), frozenAt) << "a thawed workload made no CPU progress";

    ASSERT_TRUE(g.control(ControlAction::Kill, *group).ok());
    pumpEventsUntil(
        g, [&] { return !fs::exists(root_ / *group); }, 5000ms);
    EXPECT_EQ(g.workloads().count(*group), 0u);
    const auto& totals = g.state().classes.at("adhoc");
    EXPECT_EQ(totals.workloadsEnded, 1u);
    EXPECT_GT(totals[runtime::CounterId::CpuUsage], 100000u)
        << "0.5 s of spinning was not accounted";
    // And it is on disk.
    auto persisted = StateStore(state_.string()).load();
    EXPECT_EQ(persisted.state.classes.at("adhoc")[runtime::CounterId::CpuUsage],
              totals[runtime::CounterId::CpuUsage]);
}

TEST_F(LiveTree, FreezingAClassFreezesEveryWorkloadOfIt) {
    auto started = Governor::start(config_);
    ASSERT_TRUE(started.ok()) << started.error().message();
    Governor& g = **started;
    std::vector<pid_t> pids;
    for (int i = 0; i < 2; ++i) {
        auto group = g.createWorkloadGroup("noncore", "spin");
        ASSERT_TRUE(group.ok());
        pids.push_back(spawnInto(*group, {"sh", "-c", "while :; do :; done"}));
    }
    ASSERT_TRUE(g.control(ControlAction::Freeze, "noncore").ok());
    std::vector<uint64_t> at;
    for (pid_t p : pids)
        at.push_back(cpuTicks(p));
    std::this_thread::sleep_for(300ms);
    for (size_t i = 0; i < pids.size(); ++i)
        EXPECT_EQ(cpuTicks(pids[i]), at[i]);
    ASSERT_TRUE(g.control(ControlAction::Thaw, "noncore").ok());
    ASSERT_TRUE(g.control(ControlAction::Kill, "noncore").ok());
}

// The real governord binary.
class DaemonProcess : public LiveTree {
  protected:
    void TearDown() override {
        stopDaemon(SIGKILL);
        LiveTree::TearDown();
    }

    // Starts governord; returns once it logged "governord ready" (or fails).
    void startDaemon(std::vector<std::string> extra = {}, std::vector<std::string> env = {}) {
        log_ = state_ / ("governord-" + std::to_string(runs_++) + ".log");
        std::vector<std::string> args = {GOVERNORD,
                                         "--cgroup-root",
                                         root_.string(),
                                         "--state-dir",
                                         state_.string(),
                                         "--log-level",
                                         "debug",
                                         "--rescan-interval",
                                         "0.2",
                                         "--metrics-listen",
                                         ""};
        args.insert(args.end(), extra.begin(), extra.end());
        daemon_ = ::fork();
        ASSERT_GE(daemon_, 0);
        if (daemon_ == 0) {
            int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            for (auto& e : env)
                ::putenv(e.data());
            std::vector<char*> argv;
            for (auto& a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ASSERT_TRUE(waitFor([&] { return logHas("governord ready") || !alive(daemon_); }, 20s))
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

    bool logHas(const std::string& text) const { return log().find(text) != std::string::npos; }
    std::string log() const { return readFile(log_); }

    std::string totalsJson() const { return readFile(state_ / "totals.json"); }

    pid_t daemon_ = -1;
    fs::path log_;
    int runs_ = 0;
};

TEST_F(DaemonProcess, MovesItselfIntoItsLeafAndCreatesTheClasses) {
    startDaemon();
    std::string procs = readFile(root_ / "governord" / "cgroup.procs");
    EXPECT_NE(procs.find(std::to_string(daemon_)), std::string::npos) << procs;
    for (const char* slice : {"adhoc.slice", "core.slice", "noncore.slice"}) {
        EXPECT_TRUE(fs::is_directory(root_ / slice)) << slice;
    }
    EXPECT_TRUE(logHas("tree " + root_.string())) << log();
}

TEST_F(DaemonProcess, AProcessLeftInTheRootJoinsTheDaemonsLeaf) {
    // Under systemd, governor-root.service's keeper moves itself into
    // <root>/governord, but governord may start before it has: a process in the
    // root would forbid enabling controllers there (EBUSY, the deploy tier saw it).
    ASSERT_TRUE(fs::create_directories(root_));
    pid_t keeper = spawnInto("", {"sleep", "60"});
    ASSERT_GT(keeper, 0);
    ASSERT_NE(readFile(root_ / "cgroup.procs").find(std::to_string(keeper)), std::string::npos);
    startDaemon();
    EXPECT_EQ(readFile(root_ / "cgroup.procs"), "");
    EXPECT_NE(readFile(root_ / "governord" / "cgroup.procs").find(std::to_string(keeper)),
              std::string::npos);
    EXPECT_TRUE(logHas("moved process " + std::to_string(keeper) + " from the root into governord"))
        << log();
}

TEST_F(DaemonProcess, SigkillAndRestartLosesNoWorkloadAndNoAccounting) {
    startDaemon();
    // A workload placed in the class (as govctl exec or a placement would).
    ASSERT_TRUE(fs::create_directory(root_ / "adhoc.slice" / "job.scope"));
    pid_t pid = spawnInto("adhoc.slice/job.scope", {"sh", "-c", "while :; do :; done"});
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(300ms);
    int status = stopDaemon(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_TRUE(alive(pid)) << "the workload died with the daemon";

    startDaemon();
    EXPECT_TRUE(logHas("adopted workload group adhoc.slice/job.scope")) << log();
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(waitFor([&] { return !fs::exists(root_ / "adhoc.slice" / "job.scope"); }, 10s))
        << "the restarted daemon did not reap the ended workload\n"
        << log();
    ASSERT_TRUE(waitFor(
        [&] { return totalsJson().find("\"workloads_ended\": 1") != std::string::npos; }, 5s))
        << totalsJson();
    // 0.3 s of spinning: at least 0.1 s of cpu on the books.
    auto loaded = StateStore(state_.string()).load();
    EXPECT_GT(loaded.state.classes.at("adhoc")[runtime::CounterId::CpuUsage], 100000u)
        << totalsJson();

    // Totals never go backwards across restarts.
    stopDaemon(SIGKILL);
    startDaemon();
    auto again = StateStore(state_.string()).load();
    EXPECT_EQ(again.state.classes.at("adhoc").workloadsEnded, 1u);
}

TEST_F(DaemonProcess, SighupWithABrokenPolicyKeepsTheOldOneAndAGoodOneApplies) {
    std::string policy = policyFile("[classes.adhoc]\npids.max = 10\n");
    startDaemon({"--policy", policy});
    policyFile("[classes.adhoc]\npids.mx = 10\n");
    ::kill(daemon_, SIGHUP);
    ASSERT_TRUE(waitFor([&] { return logHas("previous policy stays in force"); }, 5s)) << log();
    EXPECT_TRUE(logHas("did you mean 'pids.max'")) << log();
    EXPECT_TRUE(alive(daemon_));

    policyFile("[classes.adhoc]\npids.max = 10\n[classes.extra]\n");
    ::kill(daemon_, SIGHUP);
    ASSERT_TRUE(waitFor([&] { return fs::is_directory(root_ / "extra.slice"); }, 5s)) << log();
    EXPECT_TRUE(alive(daemon_));
}

TEST_F(DaemonProcess, SigtermStopsCleanlyAndWorkloadsKeepRunning) {
    startDaemon();
    ASSERT_TRUE(fs::create_directory(root_ / "core.slice" / "web.scope"));
    pid_t pid = spawnInto("core.slice/web.scope", {"sleep", "100"});
    ASSERT_GT(pid, 0);
    int status = stopDaemon(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status)) << log();
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(alive(pid));
    EXPECT_TRUE(fs::exists(root_ / "core.slice" / "web.scope"));
    EXPECT_TRUE(logHas("governord stopped")) << log();
}

TEST_F(DaemonProcess, TellsTheServiceManagerItIsReady) {
    fs::path sock = state_ / "notify.sock";
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    startDaemon({}, {"NOTIFY_SOCKET=" + sock.string(), "WATCHDOG_USEC=400000"});
    std::string all;
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (
        std::chrono::steady_clock::now() < deadline &&
        (all.find("READY=1") == std::string::npos || all.find("WATCHDOG=1") == std::string::npos)) {
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            all.append(buf, static_cast<size_t>(n));
            all += "\n";
        } else {
            std::this_thread::sleep_for(20ms);
        }
    }
    EXPECT_NE(all.find("READY=1"), std::string::npos) << all;
    EXPECT_NE(all.find("STATUS=3 classes"), std::string::npos) << all;
    EXPECT_NE(all.find("WATCHDOG=1"), std::string::npos) << all;
    stopDaemon(SIGTERM);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        all.append(buf, size_t(n));
    EXPECT_NE(all.find("STOPPING=1"), std::string::npos) << all;
    ::close(fd);
}

}  // namespace
}  // namespace gov::core
