// Live tests of the cgroup network programs on the host's cgroup v2 hierarchy (root
// only; cgroup BPF works on the v2 hierarchy of the hybrid development hosts). The
// programs are attached to a uniquely named group under the v2 mount; the traffic
// is made by children of the test, each in a network namespace it creates (loopback
// only, never any other address) and in a group below that one. Everything is
// removed in TearDown, even when a test fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "TestTree.hpp"
#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/net/NetPrograms.hpp"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace gov::runtime::net {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Runs `body` in a child process that is in `group` (an absolute cgroup path) and
// in a network namespace of its own with lo up; returns its exit status (body's
// return value; 100+ for a setup failure).
int runInGroupNetns(const std::string& group, const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::unshare(CLONE_NEWNET) != 0)
            ::_exit(101);
        int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr {};
        std::strcpy(ifr.ifr_name, "lo");
        if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
            ::_exit(102);
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
            ::_exit(103);
        ::close(s);
        std::ofstream(group + "/cgroup.procs") << ::getpid() << std::flush;
        ::_exit(body());
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid)
        return 199;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Moves the calling process into `group` (sockets belong to the cgroup their
// creator was in when it created them).
bool moveSelf(const std::string& group) {
    std::ofstream procs(group + "/cgroup.procs");
    procs << ::getpid() << std::flush;
    return static_cast<bool>(procs);
}

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// `count` UDP datagrams of `size` bytes from a socket made in `from` to one made in
// `to` (both absolute group paths), each received before the next is sent. 0 = ok.
int udpExchange(const std::string& from, const std::string& to, int count, size_t size) {
    if (!moveSelf(to))
        return 10;
    int rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(9999);
    if (rx < 0 || ::bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return 11;
    if (!moveSelf(from))
        return 12;
    int tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (tx < 0)
        return 13;
    std::vector<char> buf(size, 'x');
    for (int i = 0; i < count; ++i) {
        if (::sendto(tx, buf.data(), size, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
            static_cast<ssize_t>(size))
            return 14;
        if (::recv(rx, buf.data(), size, 0) != static_cast<ssize_t>(size))
            return 15;
    }
    return 0;
}

// `total` bytes over one TCP connection from a client made in `from` to a server
// made in `to`. 0 = every byte arrived.
int tcpTransfer(const std::string& from, const std::string& to, size_t total) {
    if (!moveSelf(to))
        return 20;
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(9998);
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 1) != 0)
        return 21;
    if (!moveSelf(from))
        return 22;
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client < 0 || ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return 23;
    int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (server < 0)
        return 24;
    ::fcntl(client, F_SETFL, O_NONBLOCK);
    std::vector<char> out(64 * 1024, 'y');
    std::vector<char> in(256 * 1024);
    size_t sent = 0;
    size_t received = 0;
    while (received < total) {
        pollfd p[2] = {{client, static_cast<short>(sent < total ? POLLOUT : 0), 0},
                       {server, POLLIN, 0}};
        if (::poll(p, 2, 5000) <= 0)
            return 25;
        if (sent < total && (p[0].revents & POLLOUT)) {
            ssize_t n = ::send(client, out.data(), std::min(out.size(), total - sent), 0);
            if (n > 0)
                sent += static_cast<size_t>(n);
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = ::recv(server, in.data(), in.size(), 0);
            if (n <= 0)
                return 26;
            received += static_cast<size_t>(n);
        }
    }
    ::close(client);
    ::close(server);
    return received == total ? 0 : 27;
}

// Sends 1400-byte UDP datagrams to itself on `port` as fast as it can for `seconds`
// (a full send buffer is the back-pressure: EAGAIN; refused datagrams: ENOBUFS).
int udpFlood(uint16_t port, int seconds) {
    int rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(port);
    if (::bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return 30;
    int tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    std::vector<char> buf(1400, 'z');
    auto end = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < end) {
        (void)::sendto(tx, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&addr),
                       sizeof addr);
        while (::recv(rx, buf.data(), buf.size(), MSG_DONTWAIT) > 0) {
        }
    }
    return 0;
}

class NetProgramsLive : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "live cgroup BPF tests need root (creating groups, loading BPF)";
        }
        auto mount = discoverCgroup2();
        ASSERT_TRUE(mount.ok()) << mount.error().message();
        struct statfs sfs {};
        ASSERT_EQ(::statfs(mount->path.c_str(), &sfs), 0);
        ASSERT_EQ(static_cast<unsigned long>(sfs.f_type), CGROUP2_SUPER_MAGIC) << mount->path;
        mount_ = mount->path;
        std::random_device rd;
        root_ = mount_ + "/gov-net-" + std::to_string(::getpid()) + "-" +
                std::to_string(rd() % 1000000);
        for (const char* g : {"", "/c.slice", "/c.slice/w.scope", "/c.slice/v.scope", "/d.slice",
                              "/d.slice/u.scope"}) {
            ASSERT_TRUE(fs::create_directory(root_ + g)) << root_ + g;
        }
        auto level = cgroupLevel(mount_, root_);
        ASSERT_TRUE(level.ok()) << level.error().message();
        options_.levels = {*level + 1, *level + 2};
    }

    void TearDown() override {
        programs_.reset();
        if (!root_.empty()) {
            testsupport::removeTestTree(root_);
            EXPECT_FALSE(fs::exists(root_)) << root_;
        }
        if (!bpffs_.empty()) {
            ::umount2(bpffs_.c_str(), MNT_DETACH);
            ::rmdir(bpffs_.c_str());
        }
    }

    // A private bpffs instance for pinning, unmounted in TearDown.
    std::string mountBpffs() {
        char tmpl[] = "/tmp/gov-net-bpffs-XXXXXX";
        EXPECT_NE(::mkdtemp(tmpl), nullptr);
        bpffs_ = tmpl;
        EXPECT_EQ(::mount("bpf", bpffs_.c_str(), "bpf", 0, "mode=0700"), 0) << std::strerror(errno);
        return bpffs_ + "/governor";
    }

    void attach() {
        auto p = NetPrograms::attach(root_, options_);
        ASSERT_TRUE(p.ok()) << p.error().message();
        programs_.emplace(std::move(*p));
    }

    uint64_t id(const std::string& group) {
        auto i = cgroupId(root_ + "/" + group);
        EXPECT_TRUE(i.ok()) << i.error().message();
        return i.ok() ? *i : 0;
    }

    TrafficCounters countersOf(const std::string& group) {
        auto c = programs_->read(id(group));
        EXPECT_TRUE(c.ok()) << c.error().message();
        EXPECT_TRUE(c.ok() && c->has_value()) << "no counters for " << group;
        return c.ok() && c->has_value() ? **c : TrafficCounters{};
    }

    std::string mount_;
    std::string root_;
    std::string bpffs_;
    NetPrograms::Options options_;
    std::optional<NetPrograms> programs_;
};

TEST_F(NetProgramsLive, CountsUdpExactlyPerGroupAndPerClass) {
    attach();
    const std::string w = root_ + "/c.slice/w.scope";
    const std::string v = root_ + "/c.slice/v.scope";
    // 1000 datagrams of 1000 bytes: 1028 bytes each at the IP layer (20 + 8 headers).
    ASSERT_EQ(runInGroupNetns(w, [&] { return udpExchange(w, v, 1000, 1000); }), 0);
    TrafficCounters sender = countersOf("c.slice/w.scope");
    TrafficCounters receiver = countersOf("c.slice/v.scope");
    EXPECT_EQ(sender.txBytes, 1000u * 1028);
    EXPECT_EQ(sender.txPackets, 1000u);
    EXPECT_EQ(sender.rxBytes, 0u);
    EXPECT_EQ(receiver.rxBytes, 1000u * 1028);
    EXPECT_EQ(receiver.rxPackets, 1000u);
    EXPECT_EQ(receiver.txBytes, 0u);
    // The class entry holds its whole subtree; the other class saw nothing.
    TrafficCounters cls = countersOf("c.slice");
    EXPECT_EQ(cls, (TrafficCounters{1000u * 1028, 1000, 1000u * 1028, 1000}));
    auto other = programs_->read(id("d.slice"));
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->has_value());
}

TEST_F(NetProgramsLive, CountsTcpWithinOnePercentOfWhatTheClientSent) {
    attach();
    const std::string w = root_ + "/c.slice/w.scope";
    const std::string u = root_ + "/d.slice/u.scope";
    const size_t total = 64u << 20;  // 64 MiB
    ASSERT_EQ(runInGroupNetns(w, [&] { return tcpTransfer(w, u, total); }), 0);
    TrafficCounters client = countersOf("c.slice/w.scope");
    TrafficCounters server = countersOf("d.slice/u.scope");
    // Headers (and the handshake, the ACKs) on top of the payload: within 1%.
    EXPECT_GE(client.txBytes, total);
    EXPECT_LE(client.txBytes, total + total / 100);
    EXPECT_GE(server.rxBytes, total);
    EXPECT_LE(server.rxBytes, total + total / 100);
    // What one side sent, the other received (loopback loses nothing).
    EXPECT_EQ(client.txBytes, server.rxBytes);
    EXPECT_EQ(client.txPackets, server.rxPackets);
    EXPECT_EQ(server.txBytes, client.rxBytes);  // the ACKs
    EXPECT_EQ(countersOf("c.slice").txBytes, client.txBytes);
    EXPECT_EQ(countersOf("d.slice").rxBytes, server.rxBytes);
}

TEST_F(NetProgramsLive, ReadAllReturnsEveryCountedGroupInOneBatch) {
    attach();
    const std::string w = root_ + "/c.slice/w.scope";
    const std::string u = root_ + "/d.slice/u.scope";
    ASSERT_EQ(runInGroupNetns(w, [&] { return udpExchange(w, u, 10, 100); }), 0);
    auto all = programs_->readAll();
    ASSERT_TRUE(all.ok()) << all.error().message();
    EXPECT_EQ(all->size(), 4u);  // c.slice, w.scope, d.slice, u.scope
    EXPECT_EQ(all->at(id("c.slice/w.scope")).txBytes, 10u * 128);
    EXPECT_EQ(all->at(id("d.slice/u.scope")).rxBytes, 10u * 128);
    EXPECT_EQ(all->at(id("d.slice")).rxPackets, 10u);

    // A removed group's entry is dropped by forget(), a stranger's by forgetAllBut().
    ASSERT_TRUE(programs_->forget(id("c.slice/w.scope")).ok());
    auto kept = programs_->forgetAllBut({id("c.slice"), id("d.slice")});
    ASSERT_TRUE(kept.ok()) << kept.error().message();
    EXPECT_EQ(*kept, 1u);  // u.scope
    all = programs_->readAll();
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), 2u);
    EXPECT_EQ(programs_->uncounted()->txPackets, 0u);
}

TEST_F(NetProgramsLive, PinnedProgramsKeepCountingWhileDetachedAndAreAdopted) {
    options_.pinDir = mountBpffs();
    attach();
    EXPECT_FALSE(programs_->adopted());
    const std::string w = root_ + "/c.slice/w.scope";
    const std::string v = root_ + "/c.slice/v.scope";
    ASSERT_EQ(runInGroupNetns(w, [&] { return udpExchange(w, v, 100, 500); }), 0);
    EXPECT_EQ(countersOf("c.slice/w.scope").txPackets, 100u);

    programs_.reset();  // the daemon stops; its pins stay
    ASSERT_TRUE(fs::exists(options_.pinDir + "/egress"));
    ASSERT_EQ(runInGroupNetns(w, [&] { return udpExchange(w, v, 50, 500); }), 0);

    attach();  // the next daemon
    EXPECT_TRUE(programs_->adopted());
    ASSERT_EQ(programs_->notes().size(), 2u);  // both links adopted
    EXPECT_NE(programs_->notes()[0].find("adopted the pinned ingress link"), std::string::npos)
        << programs_->notes()[0];
    // Counted while no process held the programs, and not twice after.
    EXPECT_EQ(countersOf("c.slice/w.scope").txPackets, 150u);
    ASSERT_EQ(runInGroupNetns(w, [&] { return udpExchange(w, v, 10, 500); }), 0);
    EXPECT_EQ(countersOf("c.slice/w.scope").txPackets, 160u);
    EXPECT_EQ(countersOf("c.slice/v.scope").rxPackets, 160u);

    ASSERT_TRUE(programs_->detach().ok());
    EXPECT_FALSE(fs::exists(options_.pinDir));
    programs_.reset();
}

TEST_F(NetProgramsLive, ReplacesAPinnedMapOfAnotherLayout) {
    options_.pinDir = mountBpffs();
    options_.maxGroups = 1024;
    attach();
    programs_.reset();
    options_.maxGroups = 2048;  // another capacity: another map
    attach();
    EXPECT_FALSE(programs_->adopted());
    bool said = false;
    for (const auto& n : programs_->notes())
        said = said || n.find("network counters restart from zero") != std::string::npos;
    EXPECT_TRUE(said);
    ASSERT_TRUE(programs_->detach().ok());
    programs_.reset();
}

TEST_F(NetProgramsLive, RefusesAPinFolderThatIsNotABpffs) {
    options_.pinDir = "/tmp/gov-net-not-bpffs-" + std::to_string(::getpid());
    auto p = NetPrograms::attach(root_, options_);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message().find("not a bpf filesystem"), std::string::npos)
        << p.error().message();
    ::rmdir(options_.pinDir.c_str());
}

TEST_F(NetProgramsLive, AttachToAMissingCgroupNamesIt) {
    auto p = NetPrograms::attach(root_ + "/nonexistent", options_);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message().find(root_ + "/nonexistent"), std::string::npos)
        << p.error().message();
}

TEST_F(NetProgramsLive, PacedEgressLimitHoldsAUdpFloodToTheRateBehindFq) {
    // Pacing needs the fq qdisc; some kernels (this development host's among them)
    // are built without it. The VM tier's net_egress check proves it on a real
    // interface either way.
    if (runInGroupNetns(root_, [] {
            return std::system("tc qdisc replace dev lo root fq 2>/dev/null") == 0 ? 0 : 1;
        }) != 0) {
        GTEST_SKIP() << "this kernel has no fq qdisc (tc qdisc replace dev lo root fq fails): "
                        "pacing is proven by the VM tier's net_egress check";
    }
    attach();
    const std::string w = root_ + "/c.slice/w.scope";
    const uint64_t rate = 2000000;  // 2 MB/s
    ASSERT_TRUE(programs_->setEgressLimit(id("c.slice/w.scope"), egressLimitFor(rate)).ok());
    // In the child's own namespace: fq on its lo (it honours the departure times the
    // program stamps), then a flood for 2 s; a full socket buffer is the back-pressure
    // (EAGAIN), refused datagrams fail with ENOBUFS.
    auto flood = [&]() -> int {
        if (std::system("tc qdisc replace dev lo root fq") != 0)
            return 31;
        return udpFlood(9997, 2);
    };
    ASSERT_EQ(runInGroupNetns(w, flood), 0);
    TrafficCounters sent = countersOf("c.slice/w.scope");
    // What left the socket layer in 2 s: 2 s of the rate, plus what the pacer lets be
    // scheduled ahead (its horizon and credit); the flood offered far more.
    const EgressLimit limit = egressLimitFor(rate);
    EXPECT_GE(sent.txBytes, 2 * rate - rate / 10);
    EXPECT_LE(sent.txBytes, 2 * rate + rate / 10 + limit.burstBytes);
    auto limits = programs_->limits();
    ASSERT_TRUE(limits.ok()) << limits.error().message();
    ASSERT_EQ(limits->size(), 1u);
    EXPECT_GT(limits->begin()->second.throttledPackets, 0u);
    EXPECT_EQ(limits->begin()->second.limit, limit);
    // The unlimited group beside it is not held back.
    const std::string v = root_ + "/c.slice/v.scope";
    ASSERT_EQ(runInGroupNetns(v, [&] { return udpExchange(v, v, 20000, 1400); }), 0);
    EXPECT_EQ(countersOf("c.slice/v.scope").txPackets, 20000u);
}

TEST_F(NetProgramsLive, WithoutFqAPacedLimitStillCapsWhatIsSent) {
    // No qdisc holds the stamped packets back (lo is noqueue): the pacer then refuses
    // what would be scheduled beyond its horizon, so the rate is still a cap (TCP
    // would suffer: docs/network.md). Runs on any kernel.
    attach();
    const std::string w = root_ + "/c.slice/w.scope";
    const uint64_t rate = 2000000;
    const EgressLimit limit = egressLimitFor(rate);
    ASSERT_TRUE(programs_->setEgressLimit(id("c.slice/w.scope"), limit).ok());
    auto flood = [&]() -> int { return udpFlood(9996, 2); };
    ASSERT_EQ(runInGroupNetns(w, flood), 0);
    TrafficCounters sent = countersOf("c.slice/w.scope");
    EXPECT_LE(sent.txBytes, 2 * rate + rate / 10 + limit.burstBytes);
    EXPECT_GE(sent.txBytes, rate / 2);
    auto limits = programs_->limits();
    ASSERT_TRUE(limits.ok()) << limits.error().message();
    ASSERT_EQ(limits->size(), 1u);
    EXPECT_GT(limits->begin()->second.throttledPackets, 0u);
}

TEST_F(NetProgramsLive, AClassLimitHoldsItsWorkloadGroupsTogether) {
    // The limit is on the class slice; the traffic comes from a workload group below
    // it: the program finds the class among the socket's ancestors.
    attach();
    const std::string w = root_ + "/c.slice/w.scope";
    const uint64_t rate = 1000000;
    const EgressLimit limit = egressLimitFor(rate);
    ASSERT_TRUE(programs_->setEgressLimit(id("c.slice"), limit).ok());
    auto flood = [&]() -> int { return udpFlood(9995, 2); };
    ASSERT_EQ(runInGroupNetns(w, flood), 0);
    EXPECT_LE(countersOf("c.slice/w.scope").txBytes, 2 * rate + rate / 10 + limit.burstBytes);
    // The other class is not held by it.
    const std::string u = root_ + "/d.slice/u.scope";
    ASSERT_EQ(runInGroupNetns(u, [&] { return udpExchange(u, u, 5000, 1400); }), 0);
    EXPECT_EQ(countersOf("d.slice/u.scope").txPackets, 5000u);
}

TEST_F(NetProgramsLive, AWorkloadLimitBelowItsClassLimitIsTheOneThatHolds) {
    attach();
    const std::string w = root_ + "/c.slice/w.scope";
    const uint64_t classRate = 20000000;    // 20 MB/s
    const uint64_t workloadRate = 1000000;  // 1 MB/s
    ASSERT_TRUE(programs_->setEgressLimit(id("c.slice"), egressLimitFor(classRate)).ok());
    ASSERT_TRUE(
        programs_->setEgressLimit(id("c.slice/w.scope"), egressLimitFor(workloadRate)).ok());
    auto flood = [&]() -> int { return udpFlood(9994, 2); };
    ASSERT_EQ(runInGroupNetns(w, flood), 0);
    EXPECT_LE(countersOf("c.slice/w.scope").txBytes,
              2 * workloadRate + workloadRate / 10 + egressLimitFor(workloadRate).burstBytes);
    auto limits = programs_->limits();
    ASSERT_TRUE(limits.ok());
    EXPECT_GT(limits->at(id("c.slice/w.scope")).throttledPackets, 0u);
}

}  // namespace
}  // namespace gov::runtime::net
