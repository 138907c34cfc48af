// Live tests on the host's cgroup v2 hierarchy (root only). Everything happens in a
// uniquely named group directly under the discovered v2 mount, which holds only
// processes these tests started and is removed in TearDown (kill, then rmdir
// bottom-up), even when a test fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "TestTree.hpp"
#include "gov/runtime/Accounting.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/EventsWatcher.hpp"
#include "gov/runtime/Freezer.hpp"
#include "gov/runtime/Parsers.hpp"
#include "gov/runtime/Spawner.hpp"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace gov::runtime {
namespace {

using namespace std::chrono_literals;
using gov::Namespace;

const std::vector<std::string> kEnv = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Polls `pred` every 10 ms for at most `timeout`.
template <typename Pred>
bool waitUntil(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

std::string statusLine(pid_t pid, const std::string& key) {
    std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            return line;
        }
    }
    return {};
}

class RuntimeLive : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "live cgroup tests need root (creating groups under the v2 mount)";
        }
        auto mount = discoverCgroup2();
        if (!mount.ok()) {
            GTEST_SKIP() << "no cgroup2 hierarchy: " << mount.error().message();
        }
        // Belt and braces: never create anything unless it really is cgroup2 (the v1
        // hierarchies on a hybrid host belong to the machine's supervisor).
        struct statfs sfs {};
        ASSERT_EQ(::statfs(mount->path.c_str(), &sfs), 0);
        ASSERT_EQ(static_cast<unsigned long>(sfs.f_type), CGROUP2_SUPER_MAGIC) << mount->path;
        mountPath_ = mount->path;

        std::random_device rd;
        name_ = "gov-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
        auto top = CgroupFs::open(mountPath_);
        ASSERT_TRUE(top.ok()) << top.error().message();
        gov::testsupport::recordTestTree(mountPath_ + "/" + name_);
        ASSERT_TRUE(top->makeGroup(name_).ok());
        created_ = true;
        auto fs = CgroupFs::open(mountPath_ + "/" + name_);
        ASSERT_TRUE(fs.ok()) << fs.error().message();
        fs_.emplace(std::move(*fs));
    }

    void TearDown() override {
        if (!created_) {
            return;
        }
        if (fs_) {
            cleanup("");
        }
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        auto top = CgroupFs::open(mountPath_);
        ASSERT_TRUE(top.ok());
        auto r = top->removeGroup(name_);
        EXPECT_TRUE(r.ok()) << r.error().message();
        if (r.ok())
            gov::testsupport::forgetTestTree(mountPath_ + "/" + name_);
    }

    // Thaw, kill and remove every descendant of `group`, bottom-up.
    void cleanup(const std::string& group) {
        auto kids = fs_->children(group);
        if (kids.ok()) {
            for (const auto& k : *kids) {
                cleanup(group.empty() ? k : group + "/" + k);
            }
        }
        (void)fs_->write(group, "cgroup.freeze", "0");
        auto k = kill(*fs_, group, 3000ms);
        EXPECT_TRUE(k.ok()) << k.error().message();
        if (!group.empty()) {
            auto r = fs_->removeGroup(group);
            EXPECT_TRUE(r.ok()) << r.error().message();
        }
    }

    SpawnedProcess spawnInto(const std::string& group, std::vector<std::string> argv,
                             std::vector<Namespace> ns = {}) {
        EXPECT_TRUE(fs_->makeGroup(group).ok());
        auto fd = fs_->openGroup(group);
        EXPECT_TRUE(fd.ok());
        SpawnRequest req;
        req.argv = std::move(argv);
        req.env = kEnv;
        req.cgroupFd = fd->get();
        req.namespaces = std::move(ns);
        auto p = spawner_.spawn(req);
        EXPECT_TRUE(p.ok()) << p.error().message();
        return p.ok() ? std::move(*p) : SpawnedProcess{};
    }

    // Runs argv in `group` with stdout captured; returns (exit code, stdout).
    std::pair<int, std::string> runIn(const std::string& group, SpawnRequest req) {
        EXPECT_TRUE(fs_->makeGroup(group).ok());
        auto fd = fs_->openGroup(group);
        EXPECT_TRUE(fd.ok());
        int p[2];
        EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
        req.env = kEnv;
        req.cgroupFd = fd->get();
        req.stdoutFd = p[1];
        auto proc = spawner_.spawn(req);
        ::close(p[1]);
        if (!proc.ok()) {
            ::close(p[0]);
            ADD_FAILURE() << proc.error().message();
            return {-1, ""};
        }
        std::string out;
        char buf[1024];
        ssize_t n;
        while ((n = ::read(p[0], buf, sizeof buf)) > 0) {
            out.append(buf, static_cast<size_t>(n));
        }
        ::close(p[0]);
        return {waitExit(*proc).valueOr(-1), out};
    }

    std::string mountPath_;
    std::string name_;
    bool created_ = false;
    std::optional<CgroupFs> fs_;
    Clone3Spawner spawner_;
};

TEST_F(RuntimeLive, RequireCgroup2AcceptsTheV2MountAndRefusesV1) {
    EXPECT_TRUE(requireCgroup2(mountPath_).ok());
    EXPECT_TRUE(requireCgroup2(fs_->rootPath()).ok());
    // Read-only check (statfs) of the v1 memory hierarchy, when this host has one.
    auto mounts = parseMountInfo(slurp("/proc/self/mountinfo"));
    for (const auto& m : mounts) {
        if (!m.v2) {
            auto r = requireCgroup2(m.path);
            ASSERT_FALSE(r.ok()) << m.path;
            EXPECT_EQ(r.error().message(), "cgroup root " + m.path +
                                               ": not on a cgroup2 filesystem (cgroup v1), "
                                               "refusing to use it");
            return;
        }
    }
}

TEST_F(RuntimeLive, SpawnedProcessStartsInItsGroup) {
    auto p = spawnInto("a.scope", {"sleep", "30"});
    ASSERT_GT(p.pid, 0);
    auto cg = currentCgroup("/proc", p.pid);
    ASSERT_TRUE(cg.ok()) << cg.error().message();
    EXPECT_EQ(*cg, "/" + name_ + "/a.scope");
    auto procs = fs_->processes("a.scope");
    ASSERT_TRUE(procs.ok());
    EXPECT_EQ(*procs, (std::vector<pid_t>{p.pid}));
    ASSERT_TRUE(sendSignal(p, SIGKILL).ok());
    EXPECT_EQ(waitExit(p).valueOr(-1), 128 + SIGKILL);
}

TEST_F(RuntimeLive, FallbackPathMovesTheChildBeforeItRuns) {
    // clone(2) + cgroup.procs, as on kernels without clone3: the workload must still
    // run only in its group (the shell reads its own cgroup as its first act).
    ASSERT_TRUE(fs_->makeGroup("fb.scope").ok());
    auto fd = fs_->openGroup("fb.scope");
    ASSERT_TRUE(fd.ok());
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    SpawnRequest req;
    req.argv = {"cat", "/proc/self/cgroup"};
    req.env = kEnv;
    req.cgroupFd = fd->get();
    req.stdoutFd = p[1];
    req.namespaces = {Namespace::Pid, Namespace::Mount};
    Clone3Spawner::Options fallbackOptions;
    fallbackOptions.forceFallback = true;
    Clone3Spawner fallback(fallbackOptions);
    auto proc = fallback.spawn(req);
    ::close(p[1]);
    ASSERT_TRUE(proc.ok()) << proc.error().message();
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    EXPECT_EQ(waitExit(*proc).valueOr(-1), 0);
    EXPECT_NE(out.find("0::/" + name_ + "/fb.scope\n"), std::string::npos) << out;
}

TEST_F(RuntimeLive, WatchOnARemovedGroupIsDroppedByPruneMissing) {
    ASSERT_TRUE(fs_->makeGroup("gone.scope").ok());
    ASSERT_TRUE(fs_->makeGroup("kept.scope").ok());
    auto watcher = EventsWatcher::create();
    ASSERT_TRUE(watcher.ok());
    ASSERT_TRUE(watcher->watch(*fs_, "gone.scope").ok());
    ASSERT_TRUE(watcher->watch(*fs_, "kept.scope").ok());
    ASSERT_TRUE(fs_->removeGroup("gone.scope").ok());
    auto drained = watcher->drain();
    ASSERT_TRUE(drained.ok());
    EXPECT_EQ(watcher->pruneMissing(*fs_), (std::vector<std::string>{"gone.scope"}));
    EXPECT_EQ(watcher->watched(), (std::vector<std::string>{"kept.scope"}));
}

TEST_F(RuntimeLive, FreezeStopsABusyChildAndThawResumesIt) {
    auto p = spawnInto("busy.scope", {"sh", "-c", "while :; do :; done"});
    ASSERT_GT(p.pid, 0);
    // CPU the group really got (cpu.stat), not wall time: a loaded host only delays.
    auto usage = [&]() -> uint64_t {
        auto text = fs_->read("busy.scope", "cpu.stat");
        if (!text.ok())
            return 0;
        auto stat = parseFlatKeyed(*text);
        if (!stat.ok())
            return 0;
        auto it = stat->find("usage_usec");
        return it == stat->end() ? 0 : it->second;
    };
    ASSERT_TRUE(waitUntil([&] { return usage() > 0; }, 10s)) << "the child never ran";
    auto f = freeze(*fs_, "busy.scope", 2000ms);
    ASSERT_TRUE(f.ok()) << f.error().message();
    auto ev = readEvents(*fs_, "busy.scope");
    ASSERT_TRUE(ev.ok());
    EXPECT_TRUE(ev->frozen);
    const uint64_t frozenAt = usage();
    // Nothing happening can only be seen over a window.
    std::this_thread::sleep_for(250ms);
    EXPECT_EQ(usage(), frozenAt) << "the group got CPU while frozen";

    auto t = thaw(*fs_, "busy.scope", 2000ms);
    ASSERT_TRUE(t.ok()) << t.error().message();
    EXPECT_TRUE(waitUntil([&] { return usage() > frozenAt; }, 10s))
        << "the group got no CPU in 10 s after the thaw";
    ASSERT_TRUE(kill(*fs_, "busy.scope", 2000ms).ok());
    EXPECT_EQ(waitExit(p).valueOr(-1), 128 + SIGKILL);
}

TEST_F(RuntimeLive, KillEmptiesTheGroupAndTheWatcherSeesIt) {
    std::vector<SpawnedProcess> procs;
    ASSERT_TRUE(fs_->makeGroup("k.scope").ok());
    for (int i = 0; i < 3; ++i) {
        procs.push_back(spawnInto("k.scope", {"sleep", "30"}));
    }
    auto watcher = EventsWatcher::create();
    ASSERT_TRUE(watcher.ok());
    ASSERT_TRUE(watcher->watch(*fs_, "k.scope").ok());
    auto before = readEvents(*fs_, "k.scope");
    ASSERT_TRUE(before.ok());
    ASSERT_TRUE(before->populated);

    ASSERT_TRUE(kill(*fs_, "k.scope").ok());
    bool emptied = false;
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (!emptied && std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{watcher->fd(), POLLIN, 0};
        ::poll(&pfd, 1, 200);
        auto changed = watcher->drain();
        ASSERT_TRUE(changed.ok()) << changed.error().message();
        for (const auto& g : *changed) {
            EXPECT_EQ(g, "k.scope");
            auto ev = readEvents(*fs_, g);
            ASSERT_TRUE(ev.ok());
            emptied = emptied || !ev->populated;
        }
    }
    EXPECT_TRUE(emptied) << "populated 0 not reported by the watcher within 3 s";
    for (auto& p : procs) {
        EXPECT_EQ(waitExit(p).valueOr(-1), 128 + SIGKILL);
    }
}

TEST_F(RuntimeLive, ReadUsageShowsCpuUsedByAnExitedChild) {
    SpawnRequest req;
    req.argv = {"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"};
    auto [code, out] = runIn("u.scope", req);
    ASSERT_EQ(code, 0);
    auto u = readUsage(*fs_, "u.scope");
    ASSERT_TRUE(u.ok()) << u.error().message();
    const auto cpu = u->values.valueOr0(CounterId::CpuUsage);
    EXPECT_GT(cpu, 10000u);  // the loop takes well over 10 ms
    EXPECT_GE(cpu, u->values.valueOr0(CounterId::CpuUser));
    EXPECT_FALSE(u->populated());
    EXPECT_FALSE(u->frozen());
    // The parent sees the child's usage too (hierarchical).
    auto parent = readUsage(*fs_, "");
    ASSERT_TRUE(parent.ok()) << parent.error().message();
    ASSERT_TRUE(parent->values.has(CounterId::CpuUsage));
    EXPECT_GE(parent->values.valueOr0(CounterId::CpuUsage), cpu);
}

TEST_F(RuntimeLive, PidAndMountNamespacesGiveAFreshProcWherePidIsOne) {
    SpawnRequest req;
    req.argv = {"sh", "-c", "echo $$; cat /proc/1/comm; ls /proc | grep -c '^[0-9]*$'"};
    req.namespaces = {Namespace::Pid, Namespace::Mount};
    auto [code, out] = runIn("ns.scope", req);
    ASSERT_EQ(code, 0) << out;
    std::istringstream lines(out);
    std::string pid, comm, count;
    std::getline(lines, pid);
    std::getline(lines, comm);
    std::getline(lines, count);
    EXPECT_EQ(pid, "1");
    EXPECT_EQ(comm, "sh");
    // sh, ls, grep at most: a fresh /proc, not the host's hundreds of pids.
    EXPECT_LE(std::atoi(count.c_str()), 4) << out;
    // The host's /proc is untouched.
    EXPECT_EQ(slurp("/proc/self/comm"), "runtime_live_te\n");
}

TEST_F(RuntimeLive, PidNamespaceInitGetsOnlyHandledSignalsButSigkillWorks) {
    // Documented limit of Clone3Spawner: the workload is pid 1 of its namespace.
    auto p = spawnInto("init.scope", {"sleep", "30"}, {Namespace::Pid, Namespace::Mount});
    ASSERT_GT(p.pid, 0);
    ASSERT_TRUE(sendSignal(p, SIGTERM).ok());
    std::this_thread::sleep_for(200ms);
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(p.pid), &info, WEXITED | WNOHANG | WNOWAIT), 0);
    EXPECT_EQ(info.si_pid, 0) << "SIGTERM reached an init without a handler";
    ASSERT_TRUE(sendSignal(p, SIGKILL).ok());
    EXPECT_EQ(waitExit(p).valueOr(-1), 128 + SIGKILL);
}

TEST_F(RuntimeLive, NetNamespaceHasOnlyLoopbackAndItIsUp) {
    if (::access("/usr/sbin/ip", X_OK) != 0 && ::access("/sbin/ip", X_OK) != 0) {
        GTEST_SKIP() << "iproute2 'ip' not installed";
    }
    SpawnRequest req;
    req.argv = {"sh", "-c", "ip -o link show | wc -l; ip -o link show lo"};
    req.namespaces = {Namespace::Net};
    auto [code, out] = runIn("net.scope", req);
    ASSERT_EQ(code, 0) << out;
    EXPECT_EQ(out.substr(0, 2), "1\n") << out;
    EXPECT_NE(out.find("LOOPBACK,UP"), std::string::npos) << out;
}

TEST_F(RuntimeLive, UserNamespaceMapsTheCallerToItself) {
    SpawnRequest req;
    req.argv = {"sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u"};
    req.namespaces = {Namespace::User};
    auto [code, out] = runIn("user.scope", req);
    ASSERT_EQ(code, 0) << out;
    std::istringstream in(out);
    std::string a, b, c;
    in >> a >> b >> c;
    EXPECT_EQ(a + " " + b + " " + c, "0 0 1") << out;
    EXPECT_EQ(out.substr(out.rfind('\n', out.size() - 2) + 1), "0\n") << out;
}

TEST_F(RuntimeLive, EveryNamespaceTogetherWithADroppedUser) {
    SpawnRequest req;
    req.argv = {"sh", "-c", "echo $$; id -u; id -g; grep ^0:: /proc/self/cgroup"};
    req.namespaces = {Namespace::Pid, Namespace::Mount,  Namespace::Uts, Namespace::Ipc,
                      Namespace::Net, Namespace::Cgroup, Namespace::User};
    req.uid = 65534;
    req.gid = 65534;
    auto [code, out] = runIn("all.scope", req);
    ASSERT_EQ(code, 0) << out;
    // pid 1, nobody, and the cgroup namespace rooted at the group it was cloned into.
    EXPECT_EQ(out, "1\n65534\n65534\n0::/\n");
}

TEST_F(RuntimeLive, DropsToNobodyAsSeenInProcStatus) {
    ASSERT_TRUE(fs_->makeGroup("nobody.scope").ok());
    auto fd = fs_->openGroup("nobody.scope");
    ASSERT_TRUE(fd.ok());
    SpawnRequest req;
    req.argv = {"sleep", "30"};
    req.env = kEnv;
    req.cgroupFd = fd->get();
    req.uid = 65534;
    req.gid = 65534;
    auto p = spawner_.spawn(req);
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(statusLine(p->pid, "Uid"), "Uid:\t65534\t65534\t65534\t65534");
    EXPECT_EQ(statusLine(p->pid, "Gid"), "Gid:\t65534\t65534\t65534\t65534");
    std::string groups = statusLine(p->pid, "Groups");
    groups.erase(groups.find_last_not_of(" \t") + 1);
    EXPECT_EQ(groups, "Groups:");  // no supplementary groups left
    ASSERT_TRUE(sendSignal(*p, SIGKILL).ok());
    EXPECT_EQ(waitExit(*p).valueOr(-1), 128 + SIGKILL);
}

TEST_F(RuntimeLive, AChildThatCannotReachExecIsKilledAfterTheTimeout) {
    // A child cloned into a frozen group never runs to its exec; spawn() must not
    // wait for it forever (it runs on the daemon's only thread). A child that
    // becomes another uid takes the copying clone, whose wait is bounded.
    ASSERT_TRUE(fs_->makeGroup("frozen.scope").ok());
    ASSERT_TRUE(freeze(*fs_, "frozen.scope", 2000ms).ok());
    auto fd = fs_->openGroup("frozen.scope");
    ASSERT_TRUE(fd.ok());
    SpawnRequest req;
    req.argv = {"true"};
    req.env = kEnv;
    req.cgroupFd = fd->get();
    req.uid = 65534;
    req.gid = 65534;
    Clone3Spawner::Options options;
    options.execTimeout = 300ms;
    Clone3Spawner bounded(options);
    const auto t0 = std::chrono::steady_clock::now();
    auto p = bounded.spawn(req);
    const auto waited = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(),
              "spawn true: the child did not reach exec within 300 ms (stopped or frozen?)");
    EXPECT_LT(waited, 5s);
    // Killed and reaped: the group empties once thawed.
    ASSERT_TRUE(thaw(*fs_, "frozen.scope", 2000ms).ok());
    bool emptied = false;
    for (int i = 0; i < 200 && !emptied; ++i) {
        auto ev = readEvents(*fs_, "frozen.scope");
        emptied = ev.ok() && !ev->populated;
        if (!emptied)
            std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(emptied);
}

TEST_F(RuntimeLive, MissingCommandIsAnErrorAndNothingRunsInTheGroup) {
    ASSERT_TRUE(fs_->makeGroup("missing.scope").ok());
    auto fd = fs_->openGroup("missing.scope");
    ASSERT_TRUE(fd.ok());
    SpawnRequest req;
    req.argv = {"tcpdump-gov-missing", "-i", "any"};
    req.env = kEnv;
    req.cgroupFd = fd->get();
    auto p = spawner_.spawn(req);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().message(), "exec tcpdump-gov-missing: No such file or directory");
    auto ev = readEvents(*fs_, "missing.scope");
    ASSERT_TRUE(ev.ok());
    EXPECT_FALSE(ev->populated);
}

TEST_F(RuntimeLive, ControllerBoundToV1IsReportedNotPretended) {
    auto available = fs_->controllers("");
    ASSERT_TRUE(available.ok()) << available.error().message();
    if (available->count("memory") != 0) {
        GTEST_SKIP() << "memory is available on this v2 hierarchy (not a hybrid host)";
    }
    auto r = fs_->enableControllers("", {"memory"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("enable controllers in <root>: memory: "), std::string::npos)
        << r.error().message();
    auto enabled = fs_->subtreeControl("");
    ASSERT_TRUE(enabled.ok());
    EXPECT_EQ(enabled->count("memory"), 0u);
}

TEST_F(RuntimeLive, FreezeOfAnEmptyGroupSucceedsAndThawUndoesIt) {
    ASSERT_TRUE(fs_->makeGroup("empty.scope").ok());
    ASSERT_TRUE(freeze(*fs_, "empty.scope", 1000ms).ok());
    EXPECT_EQ(slurp(fs_->absolute("empty.scope") + "/cgroup.freeze"), "1\n");
    ASSERT_TRUE(thaw(*fs_, "empty.scope", 1000ms).ok());
    EXPECT_EQ(slurp(fs_->absolute("empty.scope") + "/cgroup.freeze"), "0\n");
}

}  // namespace
}  // namespace gov::runtime
