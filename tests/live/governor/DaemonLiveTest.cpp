// Host-live tests of the daemon on the machine's real cgroup v2 hierarchy, in a
// uniquely named subtree that each test removes (and records for the tier's cleanup
// test, in case it is killed first). Root only; they skip (saying why) otherwise. On
// the hybrid development hosts the v2 hierarchy has no controllers: limits are
// proven in the VM tier; here: groups, spawning, freeze/thaw, kill, events, cpu
// accounting, restarts, reloads, the systemd notify protocol and the metrics of
// ended workloads.
//
// Synchronisation is on events with a bound (a log line, a file, cgroup.events, a
// datagram, a process exit), never on a sleep; CPU is measured in cpu.stat of the
// workload's own group (what the group really got), never against wall time, so a
// loaded machine makes the tests slower, not wrong.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "FakeTree.hpp"
#include "Process.hpp"
#include "TestTree.hpp"
#include "gov/core/Governor.hpp"
#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/Spawner.hpp"

namespace gov::core {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testsupport::readFile;
using testsupport::writeFile;

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
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

// usage_usec of cpu.stat in the group folder `dir`: the CPU time its processes got.
uint64_t cpuUsageUsec(const fs::path& dir) {
    std::istringstream in(readFile(dir / "cpu.stat"));
    std::string key;
    uint64_t value = 0;
    while (in >> key >> value) {
        if (key == "usage_usec")
            return value;
    }
    ADD_FAILURE() << "no usage_usec in " << dir / "cpu.stat";
    return 0;
}

bool hasLine(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (l == line)
            return true;
    }
    return false;
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
        testsupport::recordTestTree(root_, {state_});
        fs::remove_all(state_);
        fs::create_directories(state_);
        config_.cgroupRoot = root_.string();
        config_.stateDir = state_.string();
        config_.moveSelf = false;  // in-process: the test runner stays where it is
        config_.freezeTimeout = 2000ms;
    }

    void TearDown() override {
        for (pid_t pid : started_) {
            // SIGKILL always ends a process: the wait is bounded by it.
            testsupport::stopProcess(pid, SIGKILL, 10s);
        }
        // Everything in the test tree was started by this test.
        if (!state_.empty())
            fs::remove_all(state_);
        gov::testsupport::removeTestTree(root_);
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

    // A spinning shell in `group`, once it has used some CPU there.
    pid_t spinIn(const std::string& group) {
        pid_t pid = spawnInto(group, {"sh", "-c", "while :; do :; done"});
        EXPECT_GT(pid, 0);
        EXPECT_TRUE(waitFor([&] { return cpuUsageUsec(root_ / group) > 0; }, 10s))
            << "the spinner in " << group << " got no CPU in 10 s";
        return pid;
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

TEST_F(LiveTree, StartCreatesEveryClassSliceAndReportsEachLimitTheHostCannotEnforce) {
    auto g = Governor::start(config_);
    ASSERT_TRUE(g.ok()) << g.error().message();
    for (const char* slice : {"adhoc.slice", "core.slice", "noncore.slice"}) {
        EXPECT_TRUE(fs::is_directory(root_ / slice)) << slice;
    }
    // The built-in default policy's limits: exactly those whose controller this host
    // does not offer are reported (all four on the hybrid development hosts, whose
    // v2 hierarchy has no controllers; none on a pure cgroup v2 host).
    const std::vector<Unenforceable> limits = {{"adhoc", "memory.max", "memory", false},
                                               {"adhoc", "pids.max", "pids", false},
                                               {"noncore", "io.write_bps", "io", false},
                                               {"noncore", "memory.max", "memory", false}};
    const auto& available = (*g)->availableControllers();
    std::set<std::string> want, got;
    for (const auto& u : limits) {
        if (!available.count(u.controller))
            want.insert(u.className + " " + u.key + " (" + u.controller + ")");
    }
    for (const auto& u : (*g)->unenforceable())
        got.insert(u.className + " " + u.key + " (" + u.controller + ")");
    std::string offered;
    for (const auto& c : available)
        offered += c + " ";
    EXPECT_EQ(got, want) << "controllers offered here: " << offered;
}

TEST_F(LiveTree, FreezeStopsAWorkloadThawResumesItKillEmptiesItAndItsCpuIsAccounted) {
    auto started = Governor::start(config_);
    ASSERT_TRUE(started.ok()) << started.error().message();
    Governor& g = **started;
    auto group = g.createWorkloadGroup("adhoc", "spin");
    ASSERT_TRUE(group.ok()) << group.error().message();
    pid_t pid = spinIn(*group);
    ASSERT_GT(pid, 0);
    g.markPopulated(*group);
    EXPECT_NE(readFile("/proc/" + std::to_string(pid) + "/cgroup").find(name_ + "/" + *group),
              std::string::npos);

    // freeze() returns once the kernel says "frozen 1": from then on the group
    // gets no CPU at all (a window is the only way to see that nothing happens).
    ASSERT_TRUE(g.control(ControlAction::Freeze, *group).ok());
    EXPECT_NE(readFile(root_ / *group / "cgroup.events").find("frozen 1"), std::string::npos);
    const uint64_t frozenAt = cpuUsageUsec(root_ / *group);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(cpuUsageUsec(root_ / *group), frozenAt) << "a frozen workload got CPU";

    ASSERT_TRUE(g.control(ControlAction::Thaw, *group).ok());
    EXPECT_TRUE(waitFor([&] { return cpuUsageUsec(root_ / *group) > frozenAt; }, 10s))
        << "a thawed workload got no CPU in 10 s";

    const uint64_t usedBeforeKill = cpuUsageUsec(root_ / *group);
    ASSERT_TRUE(g.control(ControlAction::Kill, *group).ok());
    pumpEventsUntil(
        g, [&] { return !fs::exists(root_ / *group); }, 5000ms);
    EXPECT_EQ(g.workloads().count(*group), 0u);
    const auto& totals = g.state().classes.at("adhoc");
    EXPECT_EQ(totals.workloadsEnded, 1u);
    EXPECT_GE(totals[runtime::CounterId::CpuUsage], usedBeforeKill)
        << "the final accounting has less CPU than the group had before the kill";
    // And it is on disk.
    auto persisted = StateStore(state_.string()).load();
    EXPECT_EQ(persisted.state.classes.at("adhoc")[runtime::CounterId::CpuUsage],
              totals[runtime::CounterId::CpuUsage]);
}

TEST_F(LiveTree, FreezingAClassFreezesEveryWorkloadOfIt) {
    auto started = Governor::start(config_);
    ASSERT_TRUE(started.ok()) << started.error().message();
    Governor& g = **started;
    std::vector<std::string> groups;
    for (int i = 0; i < 2; ++i) {
        auto group = g.createWorkloadGroup("noncore", "spin");
        ASSERT_TRUE(group.ok());
        ASSERT_GT(spinIn(*group), 0);
        groups.push_back(*group);
    }
    ASSERT_TRUE(g.control(ControlAction::Freeze, "noncore").ok());
    std::vector<uint64_t> at;
    for (const auto& group : groups) {
        EXPECT_NE(readFile(root_ / group / "cgroup.events").find("frozen 1"), std::string::npos)
            << group;
        at.push_back(cpuUsageUsec(root_ / group));
    }
    std::this_thread::sleep_for(300ms);
    for (size_t i = 0; i < groups.size(); ++i)
        EXPECT_EQ(cpuUsageUsec(root_ / groups[i]), at[i]) << groups[i] << " got CPU while frozen";
    ASSERT_TRUE(g.control(ControlAction::Thaw, "noncore").ok());
    for (size_t i = 0; i < groups.size(); ++i) {
        EXPECT_TRUE(waitFor([&] { return cpuUsageUsec(root_ / groups[i]) > at[i]; }, 10s))
            << groups[i] << " got no CPU in 10 s after the thaw";
    }
    ASSERT_TRUE(g.control(ControlAction::Kill, "noncore").ok());
}

// The real governord binary.
class DaemonProcess : public LiveTree {
  protected:
    void TearDown() override {
        if (daemon_ > 0)
            testsupport::stopProcess(daemon_, SIGKILL, 10s);
        daemon_ = -1;
        LiveTree::TearDown();
    }

    // Starts governord; returns once it logged "governord ready". A daemon that
    // exits first fails the test at once, with its exit status and its log.
    void startDaemon(std::vector<std::string> extra = {}, std::vector<std::string> env = {}) {
        log_ = state_ / ("governord-" + std::to_string(runs_++) + ".log");
        std::vector<std::string> args = {
            GOVERNORD,       "--cgroup-root",    root_.string(), "--state-dir",
            state_.string(), "--log-level",      "debug",        "--rescan-interval",
            "0.2",           "--metrics-listen", metricsListen_};
        args.insert(args.end(), extra.begin(), extra.end());
        daemon_ = testsupport::startProcess(args, log_.string(), log_.string(), "/dev/null", env);
        ASSERT_GT(daemon_, 0);
        std::optional<int> exited;
        const bool ready = waitFor(
            [&] {
                if (logHas("governord ready"))
                    return true;
                exited = testsupport::waitExit(daemon_, 0ms);
                return exited.has_value();
            },
            30s);
        if (exited) {
            daemon_ = -1;
            FAIL() << "governord exited with status " << *exited << " before it was ready:\n"
                   << log();
        }
        ASSERT_TRUE(ready) << "governord did not log 'governord ready' within 30 s:\n" << log();
    }

    // Sends `sig` and reaps the daemon (SIGKILL after 20 s: a failure); returns its
    // decoded exit status (exit code, or 128+signal).
    int stopDaemon(int sig) {
        if (daemon_ <= 0)
            return -1;
        bool needKill = false;
        int status = testsupport::stopProcess(daemon_, sig, 20s, &needKill);
        EXPECT_FALSE(needKill) << "governord did not exit within 20 s of signal " << sig << ":\n"
                               << log();
        daemon_ = -1;
        return status;
    }

    bool logHas(const std::string& text) const { return log().find(text) != std::string::npos; }
    std::string log() const { return readFile(log_); }
    bool waitLog(const std::string& text, std::chrono::milliseconds timeout) const {
        return waitFor([&] { return logHas(text); }, timeout);
    }

    std::string totalsJson() const { return readFile(state_ / "totals.json"); }
    State loadTotals() const {
        auto loaded = StateStore(state_.string()).load();
        EXPECT_FALSE(loaded.reset) << loaded.warning;
        EXPECT_TRUE(loaded.setAside.empty()) << loaded.warning;
        return loaded.state;
    }

    pid_t daemon_ = -1;
    fs::path log_;
    int runs_ = 0;
    std::string metricsListen_;  // --metrics-listen: off unless a test sets it
};

TEST_F(DaemonProcess, MovesItselfIntoItsLeafAndCreatesTheClasses) {
    ASSERT_NO_FATAL_FAILURE(startDaemon());
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
    ASSERT_NO_FATAL_FAILURE(startDaemon());
    EXPECT_EQ(readFile(root_ / "cgroup.procs"), "");
    EXPECT_NE(readFile(root_ / "governord" / "cgroup.procs").find(std::to_string(keeper)),
              std::string::npos);
    EXPECT_TRUE(logHas("moved process " + std::to_string(keeper) + " from the root into governord"))
        << log();
}

TEST_F(DaemonProcess, SigkillAndRestartLosesNoWorkloadAndNoAccounting) {
    ASSERT_NO_FATAL_FAILURE(startDaemon());
    // A workload placed in the class (as govctl exec or a placement would).
    ASSERT_TRUE(fs::create_directory(root_ / "adhoc.slice" / "job.scope"));
    pid_t pid = spinIn("adhoc.slice/job.scope");
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(waitLog("workload group adhoc.slice/job.scope", 10s)) << log();
    int status = stopDaemon(SIGKILL);
    EXPECT_EQ(status, 128 + SIGKILL);
    EXPECT_TRUE(alive(pid)) << "the workload died with the daemon";

    ASSERT_NO_FATAL_FAILURE(startDaemon());
    EXPECT_TRUE(logHas("adopted workload group adhoc.slice/job.scope")) << log();
    const uint64_t usedBeforeKill = cpuUsageUsec(root_ / "adhoc.slice" / "job.scope");
    ASSERT_GT(usedBeforeKill, 0u);
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(waitFor([&] { return !fs::exists(root_ / "adhoc.slice" / "job.scope"); }, 10s))
        << "the restarted daemon did not reap the ended workload\n"
        << log();
    ASSERT_TRUE(waitFor(
        [&] { return totalsJson().find("\"workloads_ended\": 1") != std::string::npos; }, 5s))
        << totalsJson();
    const State ended = loadTotals();
    ASSERT_EQ(ended.classes.count("adhoc"), 1u) << totalsJson();
    EXPECT_EQ(ended.classes.at("adhoc").workloadsEnded, 1u);
    EXPECT_GE(ended.classes.at("adhoc")[runtime::CounterId::CpuUsage], usedBeforeKill)
        << "less CPU on the books than the group had used before it was killed\n"
        << totalsJson();

    // Totals never go backwards across restarts: every counter of every class is
    // the same after another SIGKILL and start (no workload ended in between).
    stopDaemon(SIGKILL);
    ASSERT_NO_FATAL_FAILURE(startDaemon());
    const State again = loadTotals();
    EXPECT_EQ(again.classes, ended.classes) << totalsJson();
}

TEST_F(DaemonProcess, SighupWithABrokenPolicyKeepsTheOldOneAndAGoodOneApplies) {
    std::string policy = policyFile("[classes.adhoc]\npids.max = 10\n");
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--policy", policy}));
    policyFile("[classes.adhoc]\npids.mx = 10\n");
    ::kill(daemon_, SIGHUP);
    ASSERT_TRUE(waitLog("previous policy stays in force", 5s)) << log();
    EXPECT_TRUE(logHas("did you mean 'pids.max'")) << log();
    EXPECT_TRUE(alive(daemon_));

    policyFile("[classes.adhoc]\npids.max = 10\n[classes.extra]\n");
    ::kill(daemon_, SIGHUP);
    ASSERT_TRUE(waitFor([&] { return fs::is_directory(root_ / "extra.slice"); }, 5s)) << log();
    EXPECT_TRUE(alive(daemon_));
}

TEST_F(DaemonProcess, ARetiredClassKeepsItsSliceUntilItsLastWorkloadEnds) {
    std::string policy = policyFile("[classes.adhoc]\n[classes.extra]\n");
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--policy", policy}));
    ASSERT_TRUE(fs::create_directory(root_ / "extra.slice" / "job.scope"));
    pid_t pid = spawnInto("extra.slice/job.scope", {"sleep", "100"});
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(waitLog("workload group extra.slice/job.scope", 10s)) << log();

    policyFile("[classes.adhoc]\n");
    ::kill(daemon_, SIGHUP);
    ASSERT_TRUE(waitLog("class extra is no longer in the policy", 10s)) << log();
    EXPECT_TRUE(fs::is_directory(root_ / "extra.slice")) << "removed while a workload runs";
    EXPECT_TRUE(alive(pid));

    ::kill(pid, SIGKILL);
    EXPECT_TRUE(waitLog("removed the slice of retired class extra", 10s)) << log();
    EXPECT_FALSE(fs::exists(root_ / "extra.slice"));
    EXPECT_TRUE(fs::is_directory(root_ / "adhoc.slice"));
}

TEST_F(DaemonProcess, PolicyDirFilesAreMergedAfterThePolicyFilesAndAReloadReadsTheDirAgain) {
    const fs::path dir = state_ / "policy.d";
    writeFile(dir / "20-second.toml", "[classes.second]\n");
    writeFile(dir / "10-first.toml", "[classes.first]\n");
    writeFile(dir / "notes.txt", "not a policy: only *.toml files are read\n");
    std::string policy = policyFile("[classes.adhoc]\n");
    ASSERT_NO_FATAL_FAILURE(startDaemon({"--policy", policy, "--policy-dir", dir.string()}));
    for (const char* slice : {"adhoc.slice", "first.slice", "second.slice"})
        EXPECT_TRUE(fs::is_directory(root_ / slice)) << slice << "\n" << log();
    EXPECT_FALSE(fs::exists(root_ / "core.slice")) << "the built-in default policy was used";

    writeFile(dir / "30-third.toml", "[classes.third]\n");
    ::kill(daemon_, SIGHUP);
    EXPECT_TRUE(waitFor([&] { return fs::is_directory(root_ / "third.slice"); }, 10s)) << log();
    // A class defined in two files is an error naming both: the reload is refused.
    writeFile(dir / "40-again.toml", "[classes.first]\n");
    ::kill(daemon_, SIGHUP);
    EXPECT_TRUE(waitLog("previous policy stays in force", 10s)) << log();
    EXPECT_TRUE(logHas("40-again.toml")) << log();
}

TEST_F(DaemonProcess, SigtermStopsCleanlyAndWorkloadsKeepRunning) {
    ASSERT_NO_FATAL_FAILURE(startDaemon());
    ASSERT_TRUE(fs::create_directory(root_ / "core.slice" / "web.scope"));
    pid_t pid = spawnInto("core.slice/web.scope", {"sleep", "100"});
    ASSERT_GT(pid, 0);
    EXPECT_EQ(stopDaemon(SIGTERM), 0) << log();
    EXPECT_TRUE(alive(pid));
    EXPECT_TRUE(fs::exists(root_ / "core.slice" / "web.scope"));
    EXPECT_TRUE(logHas("governord stopped")) << log();
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
  public:
    explicit NotifySocket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~NotifySocket() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;
    bool bound() const { return bound_; }

    // Reads datagrams until one contains `text` (true) or `timeout` passes (false).
    bool waitFor(const std::string& text, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            for (; seen_ < messages_.size(); ++seen_) {
                if (messages_[seen_].find(text) != std::string::npos) {
                    ++seen_;
                    return true;
                }
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return false;
            struct pollfd p = {fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
                char buf[4096];
                ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
                if (n > 0)
                    messages_.emplace_back(buf, static_cast<size_t>(n));
            }
        }
    }
    std::string all() const {
        std::string s;
        for (const auto& m : messages_)
            s += "[" + m + "] ";
        return s;
    }

  private:
    fs::path path_;
    int fd_ = -1;
    bool bound_ = false;
    std::vector<std::string> messages_;
    size_t seen_ = 0;  // messages already matched, in order
};

TEST_F(DaemonProcess, SpeaksTheNotifyProtocolReadyWatchdogReloadingAndStopping) {
    NotifySocket notify(state_ / "notify.sock");
    ASSERT_TRUE(notify.bound());
    ASSERT_NO_FATAL_FAILURE(startDaemon(
        {}, {"NOTIFY_SOCKET=" + (state_ / "notify.sock").string(), "WATCHDOG_USEC=400000"}));
    ASSERT_TRUE(notify.waitFor("READY=1", 5s)) << notify.all();
    EXPECT_NE(notify.all().find("STATUS=3 classes"), std::string::npos) << notify.all();
    // Pinged again and again from the loop (every 200 ms here), not once.
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(notify.waitFor("WATCHDOG=1", 5s)) << "ping " << i << ": " << notify.all();
    // A reload is framed by RELOADING=1 (with the time, as systemd's reload protocol
    // wants) and READY=1, in that order.
    ::kill(daemon_, SIGHUP);
    ASSERT_TRUE(notify.waitFor("RELOADING=1\nMONOTONIC_USEC=", 5s)) << notify.all();
    ASSERT_TRUE(notify.waitFor("READY=1", 5s)) << "no READY=1 after RELOADING=1: " << notify.all();
    EXPECT_EQ(stopDaemon(SIGTERM), 0);
    EXPECT_TRUE(notify.waitFor("STOPPING=1", 1s)) << notify.all();
}

// GET http://127.0.0.1:PORT/metrics: the body, or "" when it failed.
std::string scrape(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string response;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (::write(fd, request.data(), request.size()) == ssize_t(request.size())) {
            char buf[65536];
            ssize_t n;
            while ((n = ::read(fd, buf, sizeof buf)) > 0)
                response.append(buf, static_cast<size_t>(n));
        }
    }
    ::close(fd);
    auto body = response.find("\r\n\r\n");
    return response.rfind("HTTP/1.", 0) == 0 && body != std::string::npos
               ? response.substr(body + 4)
               : std::string();
}

// A loopback TCP port that was free a moment ago.
int freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

// The governor_class_ended_* samples of a scrape, one line each, sorted.
std::vector<std::string> endedSamples(const std::string& body) {
    std::vector<std::string> out;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("governor_class_ended_", 0) == 0)
            out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST_F(DaemonProcess, EndedWorkloadTotalsAreServedUnchangedAcrossADaemonRestart) {
    int port = freePort();
    ASSERT_GT(port, 0);
    metricsListen_ = "127.0.0.1:" + std::to_string(port);
    ASSERT_NO_FATAL_FAILURE(startDaemon());
    ASSERT_TRUE(fs::create_directory(root_ / "adhoc.slice" / "job.scope"));
    pid_t pid = spinIn("adhoc.slice/job.scope");
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(waitLog("workload group adhoc.slice/job.scope", 10s)) << log();
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(waitLog("workload group adhoc.slice/job.scope ended", 10s)) << log();
    // Saved before the group goes (docs/state.md): then the daemon may be killed.
    ASSERT_TRUE(waitFor([&] { return !fs::exists(root_ / "adhoc.slice" / "job.scope"); }, 10s))
        << log();
    std::string before;
    ASSERT_TRUE(waitFor(
        [&] {
            before = scrape(port);
            return hasLine(before, "governor_class_ended_workloads_total{class=\"adhoc\"} 1");
        },
        10s))
        << before;
    const auto samples = endedSamples(before);
    // The CPU the workload used is on the books (its exact value is compared below).
    bool cpu = false;
    for (const auto& s : samples) {
        if (s.rfind("governor_class_ended_cpu_usage_seconds_total{class=\"adhoc\"} ", 0) == 0)
            cpu = s.substr(s.rfind(' ') + 1) != "0";
    }
    EXPECT_TRUE(cpu) << before;

    stopDaemon(SIGKILL);
    port = freePort();
    metricsListen_ = "127.0.0.1:" + std::to_string(port);
    ASSERT_NO_FATAL_FAILURE(startDaemon());
    const std::string after = scrape(port);
    ASSERT_FALSE(after.empty()) << "no answer on port " << port << "\n" << log();
    EXPECT_EQ(endedSamples(after), samples) << "before:\n" << before << "\nafter:\n" << after;
}

}  // namespace
}  // namespace gov::core
