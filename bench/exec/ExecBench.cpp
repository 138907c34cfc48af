// exec_bench: what `govctl exec` costs compared to running the command directly
// and to the cheapest isolating launcher at hand (unshare with pid+mount
// namespaces). Each round runs every command once, in a rotating order, so drift
// (CPU frequency, page cache, other load) hits all of them alike; each run is
// fork -> exec -> waitpid of the whole command, measured with CLOCK_MONOTONIC.
//
// As root it starts its own private dbus-daemon and governord (like
// tests/live/govctl) in a unique group under the cgroup v2 mount and removes them
// at the end; with --bus ADDRESS it uses a running daemon instead.
//
//   exec_bench [-n ROUNDS] [--class CLASS] [--governord PATH] [--govctl PATH]
//              [--bus ADDRESS] [--cgroup2 MOUNT]
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef GOVERNORD
#define GOVERNORD "governord"
#endif
#ifndef GOVCTL
#define GOVCTL "govctl"
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Config {
    int rounds = 200;
    std::string className = "adhoc";
    std::string governord = GOVERNORD;
    std::string govctl = GOVCTL;
    std::string bus;  // empty: start a private one
    std::string cgroup2 = "/sys/fs/cgroup/unified";
};

double nowMs() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

pid_t startProcess(const std::vector<std::string>& argv, const std::string& errFile = "/dev/null") {
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        int err = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(err < 0 ? null : err, 2);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

int waitStatus(pid_t pid) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// One timed run; -1 when the command failed.
double timeRun(const std::vector<std::string>& argv) {
    const double t0 = nowMs();
    pid_t pid = startProcess(argv);
    const int status = waitStatus(pid);
    const double t1 = nowMs();
    return status == 0 ? t1 - t0 : -1;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i =
        std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    return v[i];
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

// The private bus and daemon of a run.
struct Environment {
    fs::path tmp;
    fs::path root;
    pid_t bus = -1;
    pid_t daemon = -1;

    ~Environment() {
        for (pid_t p : {daemon, bus}) {
            if (p > 0) {
                ::kill(p, SIGTERM);
                waitStatus(p);
            }
        }
        if (!root.empty() && fs::exists(root)) {
            std::ofstream(root / "cgroup.kill") << "1";
            std::this_thread::sleep_for(100ms);
            std::vector<fs::path> dirs;
            std::error_code ec;
            for (auto& e : fs::recursive_directory_iterator(root, ec)) {
                if (e.is_directory())
                    dirs.push_back(e.path());
            }
            std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) {
                return a.string().size() > b.string().size();
            });
            for (auto& d : dirs)
                ::rmdir(d.c_str());
            ::rmdir(root.c_str());
        }
        if (!tmp.empty())
            fs::remove_all(tmp);
    }
};

bool startEnvironment(Environment& env, Config& cfg) {
    const std::string name = "gov-exec-bench-" + std::to_string(::getpid());
    env.tmp = fs::temp_directory_path() / name;
    env.root = fs::path(cfg.cgroup2) / name;
    fs::create_directories(env.tmp / "state");
    const std::string address = "unix:path=" + (env.tmp / "bus").string();
    std::ofstream(env.tmp / "bus.conf")
        << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig><type>session</type><listen>"
        << address
        << "</listen><auth>EXTERNAL</auth><policy context=\"default\">"
           "<allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>"
           "<allow own=\"*\"/></policy></busconfig>\n";
    env.bus = startProcess({"dbus-daemon", "--config-file=" + (env.tmp / "bus.conf").string(),
                            "--nofork", "--nopidfile"});
    if (!waitFor([&] { return fs::exists(env.tmp / "bus"); }, 5s)) {
        std::fprintf(stderr, "exec_bench: dbus-daemon did not start\n");
        return false;
    }
    env.daemon = startProcess(
        {cfg.governord, "--bus", address, "--cgroup-root", env.root.string(), "--state-dir",
         (env.tmp / "state").string(), "--metrics-listen", "", "--log-level", "warn"},
        (env.tmp / "governord.log").string());
    ::setenv("GOVERNOR_BUS_ADDRESS", address.c_str(), 1);
    if (!waitFor([&] { return timeRun({cfg.govctl, "status"}) >= 0; }, 30s)) {
        std::fprintf(stderr, "exec_bench: governord did not come up; its log is %s\n",
                     (env.tmp / "governord.log").c_str());
        return false;
    }
    return true;
}

bool parseArgs(int argc, char** argv, Config& cfg) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "-n") {
            std::string v = value();
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), cfg.rounds);
            if (ec != std::errc() || p != v.data() + v.size() || cfg.rounds < 1)
                return false;
        } else if (a == "--class") {
            cfg.className = value();
        } else if (a == "--governord") {
            cfg.governord = value();
        } else if (a == "--govctl") {
            cfg.govctl = value();
        } else if (a == "--bus") {
            cfg.bus = value();
        } else if (a == "--cgroup2") {
            cfg.cgroup2 = value();
        } else {
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    if (!parseArgs(argc, argv, cfg)) {
        std::fprintf(stderr,
                     "usage: exec_bench [-n ROUNDS] [--class CLASS] [--governord PATH] "
                     "[--govctl PATH] [--bus ADDRESS] [--cgroup2 MOUNT]\n");
        return 2;
    }
    Environment env;
    if (!cfg.bus.empty()) {
        ::setenv("GOVERNOR_BUS_ADDRESS", cfg.bus.c_str(), 1);
    } else {
        if (::geteuid() != 0) {
            std::fprintf(stderr, "exec_bench: needs root to start its own governord (or --bus)\n");
            return 1;
        }
        if (!startEnvironment(env, cfg))
            return 1;
    }

    struct Line {
        std::string label;
        std::vector<std::string> argv;
        std::vector<double> ms;
        int failures = 0;
    };
    std::vector<Line> lines = {
        {"/bin/true", {"/bin/true"}, {}, 0},
        {"unshare --fork --pid --mount-proc true",
         {"unshare", "--fork", "--pid", "--mount-proc", "true"},
         {},
         0},
        {"govctl exec --class " + cfg.className + " -- /bin/true",
         {cfg.govctl, "exec", "--class", cfg.className, "--", "/bin/true"},
         {},
         0},
        {"govctl status (full client, one call; reference)", {cfg.govctl, "status"}, {}, 0},
        {"govctl --help (front + full client; reference)", {cfg.govctl, "--help"}, {}, 0},
    };
    // Warm-up: page cache, the daemon's first exec.
    for (auto& l : lines)
        for (int i = 0; i < 5; ++i)
            (void)timeRun(l.argv);
    for (int round = 0; round < cfg.rounds; ++round) {
        for (size_t k = 0; k < lines.size(); ++k) {
            Line& l = lines[(static_cast<size_t>(round) + k) % lines.size()];
            double ms = timeRun(l.argv);
            if (ms < 0)
                ++l.failures;
            else
                l.ms.push_back(ms);
        }
    }

    const double trueMedian = percentile(lines[0].ms, 0.5);
    const double unshareMedian = percentile(lines[1].ms, 0.5);
    std::printf("%d interleaved rounds (ms; fork to waitpid of the whole command)\n", cfg.rounds);
    std::printf("%-52s %8s %8s %8s %9s %11s\n", "command", "median", "p10", "p90", "vs true",
                "vs unshare");
    for (const auto& l : lines) {
        const double med = percentile(l.ms, 0.5);
        std::printf("%-52s %8.2f %8.2f %8.2f %8.2fx %10.2fx", l.label.c_str(), med,
                    percentile(l.ms, 0.1), percentile(l.ms, 0.9), med / trueMedian,
                    med / unshareMedian);
        if (l.failures)
            std::printf("  (%d failed)", l.failures);
        std::printf("\n");
    }
    const double ratio = percentile(lines[2].ms, 0.5) / unshareMedian;
    std::printf("govctl exec / unshare: %.2fx (target: at most 1.5x)\n", ratio);
    int failures = 0;
    for (const auto& l : lines)
        failures += l.failures;
    return failures == 0 ? 0 : 1;
}
