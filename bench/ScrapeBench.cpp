// scrape_bench: how much the exporter costs over what cgroupfs itself costs.
//
// In-process (default): builds a tree of N workload groups spread over the classes
// core, noncore and adhoc, and times, alternately, (a) Collector::scrape() over it
// (readUsage per group + metric families + text serialization) and (b) a minimal
// reader: a tight open+read+close loop over exactly the files readUsage opens for
// each group (the same conditional files). Prints the medians and their ratio.
// The groups are empty: the collector is driven without a daemon (a ScrapeInput
// built here, which nothing reaps), so 5000 groups need no 5000 processes.
//   --root PATH   a cgroup v2 directory to create the tree under (a unique child
//                 is made and removed); default /sys/fs/cgroup/unified (root only)
//   --fake        a plain temp directory with files shaped like this host's
//                 (hybrid: cpu.stat, cgroup.*, pressure); no root needed
//
// With --governord PATH (root): starts that governord on a unique cgroup root,
// puts N groups each with one `sleep` (spawned straight into its group with
// clone3) under its class slices, waits until the daemon tracks all of them,
// then times GET /metrics over HTTP (client-side wall time) against the minimal
// reader over the same tree, and reads the daemon's VmRSS / VmHWM. Every process
// it started is killed by pid and every group removed at the end.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gov/exporter/Collector.hpp"
#include "gov/runtime/Accounting.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/Spawner.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const std::vector<std::string> kClasses = {"adhoc", "core", "noncore"};

struct Args {
    size_t groups = 1000;
    size_t scrapes = 15;
    std::string root = "/sys/fs/cgroup/unified";
    bool fake = false;
    std::string governord;
};

bool parseSize(const char* text, size_t& out) {
    const char* end = text + std::strlen(text);
    auto [p, ec] = std::from_chars(text, end, out);
    return ec == std::errc() && p == end;
}

bool parseArgs(int argc, char** argv, Args& a) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* v = nullptr;
        if (arg == "--groups" && (v = next()) && parseSize(v, a.groups)) {
        } else if (arg == "--scrapes" && (v = next()) && parseSize(v, a.scrapes) && a.scrapes > 0) {
        } else if (arg == "--root" && (v = next())) {
            a.root = v;
        } else if (arg == "--fake") {
            a.fake = true;
        } else if (arg == "--governord" && (v = next())) {
            a.governord = v;
        } else {
            std::fprintf(stderr,
                         "usage: scrape_bench [--groups N] [--scrapes K] [--root DIR | --fake] "
                         "[--governord PATH]\n");
            return false;
        }
    }
    return true;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void writeFile(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// ---- the minimal reader ----------------------------------------------------

// open + read to EOF + close; returns bytes read, -1 when the file does not exist.
long readOnce(int rootFd, const std::string& path) {
    int fd = ::openat(rootFd, path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    long total = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        total += n;
    }
    ::close(fd);
    return total;
}

// Exactly the files readUsage() opens for `group`, in its order and with its
// conditions (a file whose marker is missing is not tried): runtime::counterFiles(),
// the counter table's files.
long minimalRead(int rootFd, const std::string& group) {
    const std::string p = group.empty() ? std::string() : group + "/";
    long bytes = 0;
    std::vector<const char*> missing;
    for (const auto& file : gov::runtime::counterFiles()) {
        if (file.readIf != nullptr &&
            std::any_of(missing.begin(), missing.end(),
                        [&](const char* m) { return std::strcmp(m, file.readIf) == 0; }))
            continue;
        long n = readOnce(rootFd, p + file.name);
        if (n < 0)
            missing.push_back(file.name);
        bytes += std::max(n, 0L);
    }
    return bytes;
}

struct Tree {
    std::vector<std::string> slices;  // "adhoc.slice"
    std::map<std::string, gov::exporter::WorkloadGroup> workloads;
};

double timeMinimal(int rootFd, const Tree& t, long& bytes) {
    auto start = Clock::now();
    bytes = 0;
    for (const auto& s : t.slices)
        bytes += minimalRead(rootFd, s);
    for (const auto& [g, w] : t.workloads)
        bytes += minimalRead(rootFd, g);
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- tree building -----------------------------------------------------------

Tree planTree(size_t n) {
    Tree t;
    for (const auto& c : kClasses)
        t.slices.push_back(c + ".slice");
    for (size_t i = 0; i < n; ++i) {
        const auto& c = kClasses[i % kClasses.size()];
        std::string group = c + ".slice/bench-" + std::to_string(i) + ".scope";
        t.workloads[group] = {group, c};
    }
    return t;
}

// Files shaped like this host's v2 groups (no controllers): what readUsage finds.
void makeFakeGroup(const std::string& dir, size_t i) {
    fs::create_directories(dir);
    writeFile(dir + "/cgroup.events", "populated 1\nfrozen 0\n");
    writeFile(dir + "/cgroup.stat", "nr_descendants 0\nnr_dying_descendants 0\n");
    writeFile(dir + "/cpu.stat", "usage_usec " + std::to_string(1000 + i) + "\nuser_usec " +
                                     std::to_string(900 + i) + "\nsystem_usec 100\n");
    std::string psi = "some avg10=0.00 avg60=0.00 avg300=0.00 total=" + std::to_string(i * 7) +
                      "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=" + std::to_string(i * 3) +
                      "\n";
    for (const char* f : {"/cpu.pressure", "/memory.pressure", "/io.pressure"})
        writeFile(dir + f, psi);
}

bool makeTree(const std::string& root, const Tree& t, bool fake) {
    size_t i = 0;
    auto make = [&](const std::string& group) {
        std::string dir = root + "/" + group;
        if (fake) {
            makeFakeGroup(dir, i++);
            return true;
        }
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            std::fprintf(stderr, "mkdir %s: %s\n", dir.c_str(), std::strerror(errno));
            return false;
        }
        return true;
    };
    for (const auto& s : t.slices)
        if (!make(s))
            return false;
    for (const auto& [g, w] : t.workloads)
        if (!make(g))
            return false;
    return true;
}

// rmdir bottom-up (cgroupfs) or remove_all (fake tree).
void removeTree(const std::string& root, bool fake) {
    std::error_code ec;
    if (fake) {
        fs::remove_all(root, ec);
        return;
    }
    std::vector<std::string> dirs;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec))
            dirs.push_back(it->path().string());
    }
    std::sort(dirs.begin(), dirs.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const auto& d : dirs)
        ::rmdir(d.c_str());
    if (::rmdir(root.c_str()) != 0)
        std::fprintf(stderr, "warning: rmdir %s: %s\n", root.c_str(), std::strerror(errno));
}

std::string uniqueRoot(const std::string& base) {
    return base + "/gov-bench-" + std::to_string(::getpid());
}

// ---- in-process mode ---------------------------------------------------------

int runInProcess(const Args& a) {
    std::string root;
    if (a.fake) {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp ? tmp : "/tmp") + "/gov-bench-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) {
            std::perror("mkdtemp");
            return 1;
        }
        root = tmpl;
    } else {
        root = uniqueRoot(a.root);
        if (::mkdir(root.c_str(), 0755) != 0) {
            std::fprintf(stderr, "mkdir %s: %s\n", root.c_str(), std::strerror(errno));
            return 1;
        }
    }
    Tree t = planTree(a.groups);
    int rc = 0;
    if (!makeTree(root, t, a.fake)) {
        removeTree(root, a.fake);
        return 1;
    }
    {
        auto cg = gov::runtime::CgroupFs::open(root);
        if (!cg) {
            std::fprintf(stderr, "%s\n", cg.error().message().c_str());
            removeTree(root, a.fake);
            return 1;
        }
        gov::exporter::ScrapeInput in;
        in.fs = &*cg;
        for (const auto& c : kClasses)
            in.classes.push_back({c, c + ".slice"});
        for (const auto& [g, w] : t.workloads)
            in.workloads.push_back(w);
        // As this host: no v2 controllers available.
        in.knownControllers = {"cpuset", "cpu", "io", "memory", "pids"};
        in.daemon = gov::exporter::DaemonCounters{};
        in.version = "bench";

        gov::exporter::Collector collector;
        std::string text = collector.scrape(in);  // warm caches (dentries) for both
        long bytes = 0;
        timeMinimal(cg->rootFd(), t, bytes);
        std::vector<double> scrapeTimes, readerTimes;
        for (size_t k = 0; k < a.scrapes; ++k) {
            auto start = Clock::now();
            text = collector.scrape(in);
            scrapeTimes.push_back(std::chrono::duration<double>(Clock::now() - start).count());
            readerTimes.push_back(timeMinimal(cg->rootFd(), t, bytes));
        }
        // Where the time goes: collect (reads + parsing + families) vs serialize.
        std::vector<double> collectTimes, serializeTimes;
        for (size_t k = 0; k < a.scrapes; ++k) {
            auto start = Clock::now();
            auto families = collector.collect(in);
            auto mid = Clock::now();
            std::string out = gov::exporter::serialize(families);
            collectTimes.push_back(std::chrono::duration<double>(mid - start).count());
            serializeTimes.push_back(std::chrono::duration<double>(Clock::now() - mid).count());
        }
        size_t series = 0;
        for (char c : text)
            series += c == '\n';
        double s = median(scrapeTimes), r = median(readerTimes);
        std::printf("mode=in-process tree=%s groups=%zu scrapes=%zu\n",
                    a.fake ? "fake" : "cgroupfs", a.groups, a.scrapes);
        std::printf("collector scrape median: %.3f ms (%zu bytes of exposition, %zu lines)\n",
                    s * 1e3, text.size(), series);
        std::printf("minimal reader median:   %.3f ms (%ld bytes of cgroup files)\n", r * 1e3,
                    bytes);
        std::printf("ratio scrape/reader:     %.2f\n", r > 0 ? s / r : 0.0);
        std::printf("  of a scrape: collect %.3f ms, serialize %.3f ms (medians)\n",
                    median(collectTimes) * 1e3, median(serializeTimes) * 1e3);
        if (!collector.lastError().empty()) {
            std::fprintf(stderr, "scrape error: %s\n", collector.lastError().c_str());
            rc = 1;
        }
        if (text.find("governor_group_cpu_usage_seconds_total") == std::string::npos &&
            a.groups > 0) {
            std::fprintf(stderr, "the exposition has no group series\n");
            rc = 1;
        }
    }
    removeTree(root, a.fake);
    return rc;
}

// ---- daemon mode -------------------------------------------------------------

unsigned short freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// GET /metrics; the body, or "" on failure.
std::string httpGet(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const char req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n";
        if (::send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == sizeof req - 1) {
            char buf[65536];
            for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
                out.append(buf, static_cast<size_t>(n));
        }
    }
    ::close(fd);
    auto body = out.find("\r\n\r\n");
    if (out.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos)
        return {};
    return out.substr(body + 4);
}

// Sum of governor_groups_managed over classes.
size_t managedGroups(const std::string& text) {
    size_t total = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("governor_groups_managed{", 0) != 0)
            continue;
        auto sp = line.rfind(' ');
        size_t v = 0;
        std::from_chars(line.data() + sp + 1, line.data() + line.size(), v);
        total += v;
    }
    return total;
}

std::string procStatus(pid_t pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key, 0) == 0)
            return line.substr(std::strlen(key));
    }
    return "?";
}

bool logHas(const std::string& path, const char* text) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str().find(text) != std::string::npos;
}

int runDaemon(const Args& a) {
    if (::geteuid() != 0) {
        std::fprintf(stderr, "--governord needs root (a real cgroup tree)\n");
        return 1;
    }
    std::string root = uniqueRoot(a.root);
    char stateTmpl[] = "/tmp/gov-bench-state-XXXXXX";
    if (::mkdtemp(stateTmpl) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    std::string stateDir = stateTmpl;
    std::string log = stateDir + "/governord.log";
    unsigned short port = freePort();
    std::string listen = "127.0.0.1:" + std::to_string(port);

    pid_t daemon = ::fork();
    if (daemon == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ::dup2(fd, 2);
        ::dup2(fd, 1);
        ::execl(a.governord.c_str(), a.governord.c_str(), "--cgroup-root", root.c_str(),
                "--state-dir", stateDir.c_str(), "--metrics-listen", listen.c_str(),
                "--rescan-interval", "1", static_cast<char*>(nullptr));
        _exit(127);
    }
    int rc = 0;
    std::vector<gov::runtime::SpawnedProcess> sleepers;
    Tree t = planTree(a.groups);
    auto cleanup = [&] {
        for (auto& p : sleepers) {
            (void)gov::runtime::sendSignal(p, SIGKILL);
            (void)gov::runtime::waitExit(p);
        }
        ::kill(daemon, SIGTERM);
        int status = 0;
        ::waitpid(daemon, &status, 0);
        removeTree(root, false);
        std::error_code ec;
        fs::remove_all(stateDir, ec);
    };
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!logHas(log, "governord ready") && Clock::now() < deadline) {
        int status = 0;
        if (::waitpid(daemon, &status, WNOHANG) == daemon) {
            std::fprintf(stderr, "governord exited early; its log:\n");
            std::system(("cat " + log).c_str());
            removeTree(root, false);
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto cg = gov::runtime::CgroupFs::open(root);
    if (!cg || !logHas(log, "governord ready")) {
        std::fprintf(stderr, "governord did not become ready\n");
        cleanup();
        return 1;
    }
    std::string rssIdle = procStatus(daemon, "VmRSS:");
    gov::runtime::Clone3Spawner spawner;
    for (const auto& [group, w] : t.workloads) {
        if (auto made = cg->makeGroup(group); !made) {
            std::fprintf(stderr, "%s\n", made.error().message().c_str());
            rc = 1;
            break;
        }
        auto gfd = cg->openGroup(group);
        if (!gfd) {
            std::fprintf(stderr, "%s\n", gfd.error().message().c_str());
            rc = 1;
            break;
        }
        gov::runtime::SpawnRequest req;
        req.argv = {"/bin/sleep", "3600"};
        req.env = {"PATH=/usr/bin:/bin"};
        req.cgroupFd = gfd->get();
        auto p = spawner.spawn(req);
        if (!p) {
            std::fprintf(stderr, "%s\n", p.error().message().c_str());
            rc = 1;
            break;
        }
        sleepers.push_back(std::move(*p));
    }
    deadline = Clock::now() + std::chrono::seconds(60);
    size_t managed = 0;
    while (rc == 0 && (managed = managedGroups(httpGet(port))) < a.groups &&
           Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (rc == 0 && managed < a.groups) {
        std::fprintf(stderr, "governord tracks %zu of %zu groups after 60 s\n", managed, a.groups);
        rc = 1;
    }
    if (rc == 0) {
        std::vector<double> scrapeTimes, readerTimes;
        long bytes = 0;
        size_t size = 0;
        for (size_t k = 0; k < a.scrapes; ++k) {
            auto start = Clock::now();
            std::string body = httpGet(port);
            scrapeTimes.push_back(std::chrono::duration<double>(Clock::now() - start).count());
            size = body.size();
            readerTimes.push_back(timeMinimal(cg->rootFd(), t, bytes));
        }
        double s = median(scrapeTimes), r = median(readerTimes);
        std::printf("mode=governord groups=%zu (one sleep each) scrapes=%zu\n", a.groups,
                    a.scrapes);
        std::printf("HTTP GET /metrics median:  %.3f ms (%zu bytes)\n", s * 1e3, size);
        std::printf("minimal reader median:    %.3f ms (%ld bytes of cgroup files)\n", r * 1e3,
                    bytes);
        std::printf("ratio scrape/reader:      %.2f\n", r > 0 ? s / r : 0.0);
        std::printf("governord VmRSS idle (0 groups):%s\n", rssIdle.c_str());
        std::printf("governord VmRSS at %zu groups:%s\n", a.groups,
                    procStatus(daemon, "VmRSS:").c_str());
        // Heap and stacks (anon) apart from mapped code and libraries (file).
        std::printf("governord RssAnon at %zu groups:%s\n", a.groups,
                    procStatus(daemon, "RssAnon:").c_str());
        std::printf("governord RssFile at %zu groups:%s\n", a.groups,
                    procStatus(daemon, "RssFile:").c_str());
        std::printf("governord VmHWM:%s\n", procStatus(daemon, "VmHWM:").c_str());
    }
    cleanup();
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    if (!parseArgs(argc, argv, a))
        return 2;
    if (!a.governord.empty())
        return runDaemon(a);
    if (!a.fake && ::geteuid() != 0) {
        std::fprintf(stderr, "a real cgroup tree needs root; use --fake\n");
        return 1;
    }
    return runInProcess(a);
}
