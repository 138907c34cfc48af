// Live tests of private networks (root). Everything happens inside network
// namespaces the test creates: the test thread moves into a fresh one that plays
// the host (and back in TearDown, after which that namespace and all it holds are
// gone), an "outside" namespace behind a veth pair plays the rest of the world
// (192.0.2.0/24, the documentation range, exists only there), and each workload gets
// its own namespace from the spawner.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "gov/runtime/Spawner.hpp"
#include "gov/runtime/net/PrivateNetworks.hpp"

namespace gov::runtime::net {
namespace {

const std::vector<std::string> kEnv = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};

std::string readAll(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

class PrivateNetworksLive : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "live private network tests need root (network namespaces, netlink)";
        }
        // This thread only (setns/unshare of a network namespace is per thread).
        original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        ASSERT_GE(original_, 0);
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
        inTestNamespace_ = true;
        // A new namespace inherits the host's forwarding setting: start from "off"
        // (this namespace's own setting; the host's is not touched).
        std::ofstream("/proc/sys/net/ipv4/ip_forward") << "0" << std::flush;
        ASSERT_EQ(readAll("/proc/sys/net/ipv4/ip_forward"), "0\n");
        startOutside();
    }

    void TearDown() override {
        if (outsidePid_ > 0) {
            ::kill(outsidePid_, SIGKILL);
            ::waitpid(outsidePid_, nullptr, 0);
        }
        for (pid_t p : workloads_) {
            ::kill(p, SIGKILL);
            ::waitpid(p, nullptr, 0);
        }
        if (inTestNamespace_) {
            // Back to the real namespace; the test's one goes with its last user.
            EXPECT_EQ(::setns(original_, CLONE_NEWNET), 0) << std::strerror(errno);
        }
        if (original_ >= 0) {
            ::close(original_);
        }
    }

    // The outside: a process in a namespace of its own, joined to ours by the veth
    // pair uplink (here, 192.0.2.1) / eth0 (there, 192.0.2.2), with a TCP listener
    // on 192.0.2.2:7777 that writes the source address of each connection it accepts
    // to a pipe.
    void startOutside() {
        int ready[2];
        int go[2];
        int report[2];
        ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
        ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
        ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
        outsidePid_ = ::fork();
        if (outsidePid_ == 0) {
            char b = 0;
            if (::unshare(CLONE_NEWNET) != 0 || ::write(ready[1], &b, 1) != 1 ||
                ::read(go[0], &b, 1) != 1)
                ::_exit(1);
            int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(7777);
            a.sin_addr.s_addr = htonl(0xc0000202);  // 192.0.2.2
            if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 8) != 0)
                ::_exit(2);
            if (::write(ready[1], &b, 1) != 1)
                ::_exit(3);
            for (;;) {
                sockaddr_in peer{};
                socklen_t len = sizeof peer;
                int c = ::accept(l, reinterpret_cast<sockaddr*>(&peer), &len);
                if (c < 0)
                    continue;
                char line[64];
                int n = std::snprintf(line, sizeof line, "%s\n", ::inet_ntoa(peer.sin_addr));
                (void)!::write(report[1], line, static_cast<size_t>(n));
                ::close(c);
            }
        }
        ::close(ready[1]);
        ::close(go[0]);
        ::close(report[1]);
        report_ = report[0];
        char b = 0;
        ASSERT_EQ(::read(ready[0], &b, 1), 1);
        auto rt = Rtnetlink::open();
        ASSERT_TRUE(rt.ok()) << rt.error().message();
        ASSERT_TRUE(rt->setUp("lo").ok());
        auto veth = rt->addVethPair("uplink", "eth0", outsidePid_);
        ASSERT_TRUE(veth.ok()) << veth.error().message();
        ASSERT_TRUE(rt->addAddress("uplink", *Ipv4Address::parse("192.0.2.1"), 24).ok());
        ASSERT_TRUE(rt->setUp("uplink").ok());
        int ns = ::open(("/proc/" + std::to_string(outsidePid_) + "/ns/net").c_str(),
                        O_RDONLY | O_CLOEXEC);
        auto outside = Rtnetlink::openIn(ns, "the outside namespace");
        ::close(ns);
        ASSERT_TRUE(outside.ok()) << outside.error().message();
        ASSERT_TRUE(outside->addAddress("eth0", *Ipv4Address::parse("192.0.2.2"), 24).ok());
        ASSERT_TRUE(outside->setUp("eth0").ok());
        ASSERT_TRUE(outside->setUp("lo").ok());
        ASSERT_EQ(::write(go[1], &b, 1), 1);
        ASSERT_EQ(::read(ready[0], &b, 1), 1);  // listening
        ::close(ready[0]);
        ::close(go[1]);
    }

    // The source address the outside saw for its next connection ("" after 5 s).
    std::string nextSource() {
        pollfd p{report_, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1)
            return "";
        char buf[64] = {};
        ssize_t n = ::read(report_, buf, sizeof buf - 1);
        return n > 0 ? std::string(buf, static_cast<size_t>(n) - 1) : "";
    }

    // Runs `script` (bash) as a workload with a network namespace of its own; with
    // `hook`, joined by it. Returns the exit status.
    int runWorkload(const std::string& script, std::function<Result<void>(pid_t)> hook = nullptr) {
        SpawnRequest req;
        req.argv = {"/bin/bash", "-c", script};
        req.env = kEnv;
        req.namespaces = {Namespace::Net};
        req.beforeRun = std::move(hook);
        Clone3Spawner spawner;
        auto p = spawner.spawn(req);
        EXPECT_TRUE(p.ok()) << p.error().message();
        if (!p.ok())
            return -1;
        auto status = waitExit(*p);
        return status.ok() ? *status : -1;
    }

    pid_t startWorkload(const std::string& script, std::function<Result<void>(pid_t)> hook) {
        SpawnRequest req;
        req.argv = {"/bin/bash", "-c", script};
        req.env = kEnv;
        req.namespaces = {Namespace::Net};
        req.beforeRun = std::move(hook);
        Clone3Spawner spawner;
        auto p = spawner.spawn(req);
        EXPECT_TRUE(p.ok()) << p.error().message();
        if (!p.ok())
            return -1;
        workloads_.push_back(p->pid);
        return p->pid;
    }

    int original_ = -1;
    bool inTestNamespace_ = false;
    pid_t outsidePid_ = -1;
    int report_ = -1;
    std::vector<pid_t> workloads_;
    const Ipv4Subnet web_ = *Ipv4Subnet::parse("10.89.0.0/24");
};

TEST_F(PrivateNetworksLive, PrivateWorkloadReachesTheOutsideThroughNatAndNoneCannot) {
    auto nets = PrivateNetworks::open();
    ASSERT_TRUE(nets.ok()) << nets.error().message();
    auto applied = nets->apply({{"web", web_}});
    ASSERT_TRUE(applied.ok()) << applied.error().message();
    // Forwarding was off: enabling it is said.
    bool said = false;
    for (const auto& n : *applied)
        said = said || n.find("enabled IPv4 forwarding") != std::string::npos;
    EXPECT_TRUE(said);
    EXPECT_EQ(readAll("/proc/sys/net/ipv4/ip_forward"), "1\n");

    std::optional<Ipv4Address> got;
    auto connect = [&](pid_t pid) -> Result<void> {
        auto c = nets->connect("web", "web.slice/w1.scope", 0x4242, pid);
        if (!c)
            return std::move(c).error();
        got = c->address;
        return success();
    };
    // The workload sees its address on eth0 and reaches the outside listener.
    EXPECT_EQ(runWorkload("ip -4 -o addr show dev eth0 | grep -q ' 10.89.0.2/24 ' && "
                          "ip route | grep -q '^default via 10.89.0.1 dev eth0' && "
                          "echo hello > /dev/tcp/192.0.2.2/7777",
                          connect),
              0);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->str(), "10.89.0.2");
    // NAT: the outside saw the host's uplink address, not the private one.
    EXPECT_EQ(nextSource(), "192.0.2.1");

    // A `none` workload: its own namespace, only loopback: no route out.
    EXPECT_NE(runWorkload("echo hello > /dev/tcp/192.0.2.2/7777"), 0);

    ASSERT_TRUE(nets->disconnect(0x4242).ok());
    auto links = Rtnetlink::open()->links();
    ASSERT_TRUE(links.ok());
    for (const auto& l : *links)
        EXPECT_NE(l.name, workloadLinkName(0x4242));
}

TEST_F(PrivateNetworksLive, WorkloadsOfAClassReachEachOtherAndTheOutsideCannotReachThem) {
    auto nets = PrivateNetworks::open();
    ASSERT_TRUE(nets.ok()) << nets.error().message();
    ASSERT_TRUE(nets->apply({{"web", web_}}).ok());
    auto hook = [&](uint64_t id, const std::string& group) {
        return [&nets, id, group](pid_t pid) -> Result<void> {
            auto c = nets->connect("web", group, id, pid);
            return c ? success() : Result<void>(std::move(c).error());
        };
    };
    // A listener in the class (10.89.0.2), told apart by what it answers.
    ASSERT_GT(
        startWorkload("exec python3 -c 'import socket\n"
                      "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                      "s.bind((\"0.0.0.0\", 8080)); s.listen(4)\n"
                      "while True:\n"
                      "    c,_=s.accept(); c.sendall(b\"inside\\n\"); c.close()'",
                      hook(0x51, "web.slice/server.scope")),
        0);
    // Another workload of the class reaches it (same bridge) within a few seconds.
    EXPECT_EQ(runWorkload("for i in $(seq 50); do exec 3<>/dev/tcp/10.89.0.2/8080 2>/dev/null && "
                          "read -r line <&3 && [ \"$line\" = inside ] && exit 0; sleep 0.1; "
                          "done; exit 1",
                          hook(0x52, "web.slice/client.scope")),
              0);
    // The outside cannot open a connection to it (nothing is published).
    // Even with a route to the private subnet via the host (as a neighbour on the
    // host's link could have), the connection is dropped.
    std::string cmd = "nsenter --net=/proc/" + std::to_string(outsidePid_) +
                      "/ns/net sh -c 'ip route add 10.89.0.0/24 via 192.0.2.1 && "
                      "timeout 3 bash -c \"echo x > /dev/tcp/10.89.0.2/8080\"'";
    EXPECT_NE(std::system(cmd.c_str()), 0) << "the outside reached a private workload";
    ASSERT_TRUE(nets->removeAll().ok());
}

TEST_F(PrivateNetworksLive, ARestartedOwnerAdoptsBridgeAndWorkloadsAndRemovesEverythingAtTheEnd) {
    {
        auto nets = PrivateNetworks::open();
        ASSERT_TRUE(nets.ok()) << nets.error().message();
        ASSERT_TRUE(nets->apply({{"web", web_}}).ok());
        ASSERT_GT(startWorkload("sleep 60",
                                [&](pid_t pid) -> Result<void> {
                                    auto c = nets->connect("web", "web.slice/a.scope", 0x77, pid);
                                    return c ? success() : Result<void>(std::move(c).error());
                                }),
                  0);
        EXPECT_EQ(nets->addressOf(0x77)->str(), "10.89.0.2");
    }  // the daemon stops, its workload keeps running
    auto nets = PrivateNetworks::open();
    ASSERT_TRUE(nets.ok());
    auto adopted = nets->adopt();
    ASSERT_TRUE(adopted.ok()) << adopted.error().message();
    ASSERT_EQ(adopted->size(), 2u);
    EXPECT_EQ((*adopted)[0], "adopted bridge gov-web of class web (10.89.0.0/24)");
    EXPECT_EQ((*adopted)[1], "adopted workload link gvw77 of web.slice/a.scope (10.89.0.2)");
    EXPECT_EQ(nets->addressOf(0x77)->str(), "10.89.0.2");
    EXPECT_EQ(nets->workloads("web"), 1u);
    // Applying the same policy changes nothing; the next workload gets a new address.
    auto again = nets->apply({{"web", web_}});
    ASSERT_TRUE(again.ok()) << again.error().message();
    EXPECT_TRUE(again->empty()) << again->front();
    EXPECT_EQ(runWorkload("true",
                          [&](pid_t pid) -> Result<void> {
                              auto c = nets->connect("web", "web.slice/b.scope", 0x78, pid);
                              if (c && c->address.str() != "10.89.0.3")
                                  return Error::withReason("address", c->address.str());
                              return c ? success() : Result<void>(std::move(c).error());
                          }),
              0);
    // A class removed from the policy keeps its bridge while a workload is on it.
    auto removed = nets->apply({});
    ASSERT_TRUE(removed.ok()) << removed.error().message();
    EXPECT_EQ(nets->classes(), std::vector<std::string>{"web"});
    // The workload's group went (after a restart, say): then the bridge goes too.
    auto gone = nets->disconnectAllBut({});
    ASSERT_TRUE(gone.ok());
    EXPECT_EQ(*gone, 2u);
    auto last = nets->apply({});
    ASSERT_TRUE(last.ok()) << last.error().message();
    EXPECT_TRUE(nets->classes().empty());
    // Nothing left: no bridge or workload link, no nftables table, forwarding off.
    auto links = Rtnetlink::open()->links();
    ASSERT_TRUE(links.ok());
    for (const auto& l : *links) {
        EXPECT_NE(l.name.rfind("gov-", 0), 0u) << l.name;
        EXPECT_NE(l.name.rfind("gvw", 0), 0u) << l.name;
    }
    auto nft = Nftables::open();
    ASSERT_TRUE(nft.ok());
    EXPECT_FALSE(*nft->hasTable("ip", "governor"));
    EXPECT_EQ(readAll("/proc/sys/net/ipv4/ip_forward"), "0\n");
}

TEST_F(PrivateNetworksLive, OverlappingSubnetsAreRefusedNamingBothClasses) {
    auto nets = PrivateNetworks::open();
    ASSERT_TRUE(nets.ok());
    auto r = nets->apply({{"web", web_}, {"batch", *Ipv4Subnet::parse("10.89.0.128/25")}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(),
              "private networks of classes web and batch: subnets 10.89.0.0/24 and "
              "10.89.0.128/25 overlap");
    // Nothing was created.
    EXPECT_TRUE(nets->classes().empty());
    auto bridge = Rtnetlink::open()->link("gov-web");
    ASSERT_TRUE(bridge.ok());
    EXPECT_FALSE(bridge->has_value());
}

TEST_F(PrivateNetworksLive, ConnectingWhenTheSubnetIsFullFailsTheSpawnAndLeavesNoLink) {
    auto nets = PrivateNetworks::open();
    ASSERT_TRUE(nets.ok());
    ASSERT_TRUE(nets->apply({{"tiny", *Ipv4Subnet::parse("10.89.9.0/30")}}).ok());
    ASSERT_GT(startWorkload("sleep 60",
                            [&](pid_t pid) -> Result<void> {
                                auto c = nets->connect("tiny", "tiny.slice/a.scope", 0x90, pid);
                                return c ? success() : Result<void>(std::move(c).error());
                            }),
              0);
    SpawnRequest req;
    req.argv = {"/bin/true"};
    req.env = kEnv;
    req.namespaces = {Namespace::Net};
    req.beforeRun = [&](pid_t pid) -> Result<void> {
        auto c = nets->connect("tiny", "tiny.slice/b.scope", 0x91, pid);
        return c ? success() : Result<void>(std::move(c).error());
    };
    auto p = Clone3Spawner().spawn(req);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message().find("no free address"), std::string::npos)
        << p.error().message();
    auto link = Rtnetlink::open()->link(workloadLinkName(0x91));
    ASSERT_TRUE(link.ok());
    EXPECT_FALSE(link->has_value());
}

}  // namespace
}  // namespace gov::runtime::net
