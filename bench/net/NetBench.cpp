// net_bench: what Governor's cgroup network programs cost, against the same work
// without them in the same run.
//
//   packets   The per-packet cost: a process in a network namespace of its own (lo
//             only) in a group under the programs' cgroup sends N small UDP
//             datagrams to itself and receives each (one egress and one ingress run
//             of the programs per datagram). Rounds alternate: without programs,
//             with them (counting), with them and an egress limit far above the
//             rate (the limiter's lock taken on every packet). Medians of the
//             per-datagram time and the difference to the baseline.
//   tcp       Loopback TCP throughput with iperf3 (Debian's), in the same kind of
//             namespace and group, alternating without / with the programs.
//   read      Reading the counters of G groups: one batch lookup of the whole map
//             (readAll) against one lookup per group (read) and against reading
//             one small cgroupfs file per group (cgroup.stat, the kind of read a
//             scrape does per group anyway). The map is filled through its pin.
//
//   net_bench [--rounds R] [--packets N] [--size BYTES] [--groups G] [--tcp-seconds S]
//             [--skip-tcp] [--cgroup2 MOUNT]
// Root only: it creates gov-netbench-<pid> under the cgroup2 mount and a private
// bpffs under /tmp, and removes both. Figures: Release build, no sanitizers.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gov/runtime/Discovery.hpp"
#include "gov/runtime/net/NetPrograms.hpp"

namespace {

namespace fs = std::filesystem;
using gov::runtime::net::NetPrograms;

struct Config {
    int rounds = 7;
    int packets = 200000;
    size_t size = 64;
    int groups = 10000;
    int tcpSeconds = 3;
    bool tcp = true;
    std::string cgroup2;
};

double nowNs() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// What to undo before exiting (the groups and the bpffs mount), also on failure.
std::function<void()> gCleanup;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "net_bench: %s\n", what.c_str());
    if (gCleanup) {
        auto c = std::move(gCleanup);
        gCleanup = nullptr;
        c();
    }
    std::exit(1);
}

// Runs `body` in a child in `group` and in a new network namespace with lo up; the
// child writes one double to the pipe. Returns it.
double inGroupNetns(const std::string& group, const std::function<double()>& body) {
    int p[2];
    if (::pipe(p) != 0)
        die("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p[0]);
        if (::unshare(CLONE_NEWNET) != 0)
            ::_exit(2);
        int s = ::socket(AF_INET, SOCK_DGRAM, 0);
        struct ifreq ifr {};
        std::strcpy(ifr.ifr_name, "lo");
        ::ioctl(s, SIOCGIFFLAGS, &ifr);
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
            ::_exit(3);
        ::close(s);
        std::ofstream(group + "/cgroup.procs") << ::getpid() << std::flush;
        double v = body();
        if (::write(p[1], &v, sizeof v) != sizeof v)
            ::_exit(4);
        ::_exit(0);
    }
    ::close(p[1]);
    double v = -1;
    ssize_t n = ::read(p[0], &v, sizeof v);
    ::close(p[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (n != sizeof v || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the measuring child failed (status " + std::to_string(status) + ")");
    return v;
}

// ns per datagram sent and received.
double udpRoundTrips(int packets, size_t size) {
    int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
    int tx = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(9990);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::connect(tx, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return -1;
    std::vector<char> buf(size, 'b');
    for (int i = 0; i < 1000; ++i) {  // warm-up
        (void)::send(tx, buf.data(), size, 0);
        (void)::recv(rx, buf.data(), size, 0);
    }
    double t0 = nowNs();
    for (int i = 0; i < packets; ++i) {
        if (::send(tx, buf.data(), size, 0) != static_cast<ssize_t>(size) ||
            ::recv(rx, buf.data(), size, 0) != static_cast<ssize_t>(size))
            return -1;
    }
    return (nowNs() - t0) / packets;
}

// Gbit/s of an iperf3 loopback run (server and client in this namespace).
double iperf3(int seconds) {
    // The server listens before the client starts (polled with ss), so the one
    // connection iperf3 -s -1 serves is the measured one.
    std::string cmd =
        "iperf3 -s -1 -p 9991 >/dev/null 2>&1 & "
        "for i in $(seq 100); do ss -Hltn 'sport = :9991' | grep -q . && break; sleep 0.05; done; "
        "iperf3 -c 127.0.0.1 -p 9991 -t " +
        std::to_string(seconds) +
        " -J > /tmp/net_bench_iperf.$$ 2>/dev/null; "
        "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
        "print(d[\"end\"][\"sum_received\"][\"bits_per_second\"] if \"sum_received\" in "
        "d.get(\"end\", {}) else -1)' /tmp/net_bench_iperf.$$; rm -f /tmp/net_bench_iperf.$$; wait";
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f)
        return -1;
    char line[128] = {};
    bool got = std::fgets(line, sizeof line, f) != nullptr;
    ::pclose(f);
    return got ? std::atof(line) / 1e9 : -1;
}

void parseArgs(int argc, char** argv, Config& c) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc)
                die(a + " needs a value");
            return argv[++i];
        };
        auto number = [&](auto& out) {
            std::string v = next();
            auto r = std::from_chars(v.data(), v.data() + v.size(), out);
            if (r.ec != std::errc() || r.ptr != v.data() + v.size())
                die("bad number for " + a + ": " + v);
        };
        if (a == "--rounds")
            number(c.rounds);
        else if (a == "--packets")
            number(c.packets);
        else if (a == "--size")
            number(c.size);
        else if (a == "--groups")
            number(c.groups);
        else if (a == "--tcp-seconds")
            number(c.tcpSeconds);
        else if (a == "--skip-tcp")
            c.tcp = false;
        else if (a == "--cgroup2")
            c.cgroup2 = next();
        else
            die("unknown argument " + a);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    parseArgs(argc, argv, cfg);
    if (::geteuid() != 0) {
        std::fprintf(stderr, "net_bench: skipped: needs root (cgroups, BPF, network namespaces)\n");
        return 77;
    }
    if (cfg.cgroup2.empty()) {
        auto m = gov::runtime::discoverCgroup2();
        if (!m)
            die(m.error().message());
        cfg.cgroup2 = m->path;
    }
    const std::string root = cfg.cgroup2 + "/gov-netbench-" + std::to_string(::getpid());
    const std::string group = root + "/c.slice/w.scope";
    fs::create_directories(group);
    char tmpl[] = "/tmp/gov-netbench-bpffs-XXXXXX";
    if (!::mkdtemp(tmpl))
        die("mkdtemp");
    const std::string bpffs = tmpl;
    if (::mount("bpf", bpffs.c_str(), "bpf", 0, "mode=0700") != 0)
        die("mount bpffs: " + std::string(std::strerror(errno)));
    auto cleanup = [root, bpffs] {
        for (const char* g : {"/c.slice/w.scope", "/c.slice", ""})
            ::rmdir((root + g).c_str());
        ::umount2(bpffs.c_str(), MNT_DETACH);
        ::rmdir(bpffs.c_str());
    };
    gCleanup = cleanup;

    auto level = gov::runtime::net::cgroupLevel(cfg.cgroup2, root);
    if (!level)
        die(level.error().message());
    NetPrograms::Options options;
    options.levels = {*level + 1, *level + 2};
    options.maxGroups = static_cast<uint32_t>(std::max(16384, cfg.groups + 16));
    options.pinDir = bpffs + "/governor";
    auto groupId = gov::runtime::net::cgroupId(group);
    if (!groupId)
        die(groupId.error().message());

    std::printf("net_bench: %d rounds; %d UDP datagrams of %zu bytes per round\n", cfg.rounds,
                cfg.packets, cfg.size);
    enum Mode { Off, Counting, Limited };
    const char* names[] = {"no programs", "counting", "counting + egress limit"};
    std::vector<double> udp[3];
    std::vector<double> tcp[2];
    NetPrograms::ProgramStats progStats[3];
    // Timed rounds: without BPF statistics (they add two clock reads per program run).
    // Then one round per mode with them, for the programs' own run time.
    for (int r = 0; r <= cfg.rounds; ++r) {
        const bool statsRound = r == cfg.rounds;
        int statsFd = -1;
        if (statsRound) {
            statsFd = bpf_enable_stats(BPF_STATS_RUN_TIME);
            if (statsFd < 0) {
                std::printf("  (BPF run-time statistics unavailable: %s)\n", std::strerror(errno));
                break;
            }
        }
        for (int m = 0; m < 3; ++m) {
            std::optional<NetPrograms> programs;
            if (m != Off) {
                auto p = NetPrograms::attach(root, options);
                if (!p)
                    die(p.error().message());
                programs.emplace(std::move(*p));
                if (m == Limited) {
                    // 100 GB/s: never reached, but every packet goes through the pacer.
                    auto set = programs->setEgressLimit(
                        *groupId, gov::runtime::net::egressLimitFor(100000000000ULL));
                    if (!set)
                        die(set.error().message());
                }
            }
            double u = inGroupNetns(group, [&] { return udpRoundTrips(cfg.packets, cfg.size); });
            if (!statsRound) {
                udp[m].push_back(u);
                if (cfg.tcp && m != Limited)
                    tcp[m].push_back(inGroupNetns(group, [&] { return iperf3(cfg.tcpSeconds); }));
            }
            if (programs) {
                if (statsRound) {
                    if (auto st = programs->programStats())
                        progStats[m] = *st;
                }
                (void)programs->detach();
            }
        }
        if (statsFd >= 0)
            ::close(statsFd);
    }
    double base = median(udp[Off]);
    for (int m = 0; m < 3; ++m) {
        double med = median(udp[m]);
        std::printf("  udp %-26s median %7.0f ns per datagram (send+receive)  %+6.0f ns  x%.3f\n",
                    names[m], med, med - base, med / base);
    }
    for (int m = Counting; m <= Limited && progStats[m].ingressRuns > 0; ++m) {
        const auto& st = progStats[m];
        auto per = [](uint64_t ns, uint64_t runs) {
            return runs ? static_cast<double>(ns) / static_cast<double>(runs) : 0.0;
        };
        std::printf(
            "  kernel run time, %-23s ingress %5.0f ns/run (%llu runs), egress %5.0f ns/run "
            "(%llu runs)\n",
            names[m], per(st.ingressNs, st.ingressRuns),
            static_cast<unsigned long long>(st.ingressRuns), per(st.egressNs, st.egressRuns),
            static_cast<unsigned long long>(st.egressRuns));
    }
    if (cfg.tcp) {
        double tb = median(tcp[Off]);
        for (int m = 0; m < 2; ++m) {
            double med = median(tcp[m]);
            std::printf("  tcp %-26s median %7.2f Gbit/s  x%.3f\n", names[m], med, med / tb);
        }
    }

    // Reading G groups' counters.
    {
        auto p = NetPrograms::attach(root, options);
        if (!p)
            die(p.error().message());
        int fd = bpf_obj_get((options.pinDir + "/counters").c_str());
        int cpus = libbpf_num_possible_cpus();
        std::vector<gov_net_counters> value(static_cast<size_t>(cpus),
                                            gov_net_counters{1, 1, 1, 1});
        std::vector<uint64_t> ids;
        for (int i = 0; i < cfg.groups; ++i) {
            uint64_t id = 0x100000000ULL + static_cast<uint64_t>(i);  // no real cgroup has these
            if (bpf_map_update_elem(fd, &id, value.data(), BPF_ANY) != 0)
                die("fill the counters map at entry " + std::to_string(i) + ": " +
                    std::string(std::strerror(errno)));
            ids.push_back(id);
        }
        ::close(fd);
        std::vector<double> batch, single, files;
        for (int r = 0; r < cfg.rounds; ++r) {
            double t0 = nowNs();
            auto all = p->readAll();
            double t1 = nowNs();
            if (!all || all->size() < static_cast<size_t>(cfg.groups))
                die("readAll returned too little");
            for (uint64_t id : ids) {
                auto one = p->read(id);
                if (!one || !one->has_value())
                    die("read of a filled entry failed");
            }
            double t2 = nowNs();
            for (int i = 0; i < cfg.groups; ++i) {
                std::ifstream in(group + "/cgroup.stat");
                std::string s((std::istreambuf_iterator<char>(in)), {});
                if (s.empty())
                    die("read cgroup.stat");
            }
            double t3 = nowNs();
            batch.push_back((t1 - t0) / 1e6);
            single.push_back((t2 - t1) / 1e6);
            files.push_back((t3 - t2) / 1e6);
        }
        std::printf("read the counters of %d groups (%d CPUs), medians:\n", cfg.groups, cpus);
        std::printf("  readAll (batch lookup)         %8.2f ms  %6.2f us/group\n", median(batch),
                    median(batch) * 1e3 / cfg.groups);
        std::printf("  read per group                 %8.2f ms  %6.2f us/group\n", median(single),
                    median(single) * 1e3 / cfg.groups);
        std::printf("  baseline: cgroup.stat per group %7.2f ms  %6.2f us/group\n", median(files),
                    median(files) * 1e3 / cfg.groups);
        (void)p->detach();
    }
    gCleanup = nullptr;
    cleanup();
    return 0;
}
