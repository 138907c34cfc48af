#include "gov/daemon/Options.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "gov/runtime/Discovery.hpp"

namespace gov::daemon {

std::optional<Options> parseOptions(int argc, char** argv, int& exitCode) {
    Options o;
    CLI::App app{"governord: govern workload classes in a cgroup v2 subtree"};
    app.set_version_flag("--version", std::string("governord ") + GOV_VERSION);
    app.add_option("--policy", o.policyFiles,
                   "Policy file (repeatable; default /etc/governor/policy.toml if it exists)")
        ->check(CLI::ExistingFile);
    app.add_option("--policy-dir", o.policyDir,
                   "Directory of *.toml policy files merged in name order after the --policy "
                   "files (default /etc/governor/policy.d if it exists)");
    app.add_option("--cgroup-root", o.cgroupRoot,
                   "The cgroup v2 directory Governor owns (default: the service's own cgroup "
                   "under systemd, else <cgroup2 mount>/governor)");
    app.add_option("--state-dir", o.stateDir,
                   "Where the per-class totals are kept (default $STATE_DIRECTORY or "
                   "/var/lib/governor)");
    app.add_option("--log-level", o.logLevel, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    app.add_option("--metrics-listen", o.metricsListen,
                   "HOST:PORT of the Prometheus endpoint (default 127.0.0.1:9783, loopback only: "
                   "0.0.0.0:9783 for every interface; empty: off)");
    app.add_option("--bus", o.bus,
                   "D-Bus bus for the control API: \"system\" (default), an address such as "
                   "unix:path=/run/x/bus, or empty for none");
    double rescanSeconds = 5;
    app.add_option("--rescan-interval", rescanSeconds,
                   "Seconds between scans for workload groups created by others (default 5)")
        ->check(CLI::Range(0.1, 3600.0));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        exitCode = app.exit(e);
        if (exitCode != 0)
            exitCode = 2;
        return std::nullopt;
    }
    o.rescanInterval = std::chrono::milliseconds(static_cast<int64_t>(rescanSeconds * 1000));
    return o;
}

Result<Options> resolveDefaults(Options o, const std::string& procRoot) {
    if (o.stateDir.empty()) {
        const char* sd = std::getenv("STATE_DIRECTORY");
        o.stateDir = sd && *sd ? std::string(sd).substr(0, std::string(sd).find(':'))
                               : std::string(kDefaultStateDir);
    }
    const bool underSystemd = std::getenv("INVOCATION_ID") != nullptr;
    auto mount = runtime::discoverCgroup2(procRoot);
    if (mount) {
        o.cgroupMount = mount->path;
        o.enableAncestors = !underSystemd;
        o.memoryRecursiveProt = mount->memoryRecursiveProt;
    }
    o.rootProtection = !underSystemd;
    if (o.cgroupRoot.empty()) {
        if (!mount)
            return std::move(mount).error().wrap("find the cgroup v2 hierarchy");
        if (underSystemd) {
            auto own = runtime::currentCgroup(procRoot);
            if (!own)
                return std::move(own).error().wrap("find the service's cgroup");
            std::string path = *own;
            // A restarted daemon may still sit in the leaf it moved itself into.
            const std::string leaf = "/governord";
            if (path.size() > leaf.size() &&
                path.compare(path.size() - leaf.size(), leaf.size(), leaf) == 0) {
                path.resize(path.size() - leaf.size());
            }
            o.cgroupRoot = mount->path + (path == "/" ? "" : path);
        } else {
            o.cgroupRoot = mount->path + "/governor";
        }
    }
    return o;
}

}  // namespace gov::daemon
