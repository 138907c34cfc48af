// governord: see gov/daemon/Daemon.hpp (the Asio shell) and gov/core/Governor.hpp
// (the state and logic); this is only the edge (options, logging, fatal errors) and
// the wiring of the sources on the one io_context.
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "gov/core/Governor.hpp"
#include "gov/core/TreeLog.hpp"
#include "gov/daemon/BusService.hpp"
#include "gov/daemon/Daemon.hpp"
#include "gov/daemon/ExecService.hpp"
#include "gov/daemon/JournalSink.hpp"
#include "gov/daemon/Options.hpp"
#include "gov/exporter/Collector.hpp"
#include "gov/exporter/DaemonSnapshot.hpp"
#include "gov/exporter/MetricsServer.hpp"

// governor-init, pid 1 of the workloads' pid namespaces (governor/init/Init.cpp):
// beside this binary (a build tree), else where the package installs it.
static std::string findInit() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::string candidate = ec ? std::string() : (self.parent_path() / "governor-init").string();
    if (candidate.empty() || ::access(candidate.c_str(), X_OK) != 0)
        candidate = GOV_INIT_PATH;
    if (::access(candidate.c_str(), X_OK) != 0) {
        spdlog::warn(
            "no governor-init at {}: a workload in a pid namespace is its pid 1 and "
            "ignores the signals it has no handler for (Ctrl-C through govctl exec)",
            candidate);
        return {};
    }
    return candidate;
}

// The signals the daemon handles (Daemon: SIGHUP reloads, SIGTERM and SIGINT stop).
// Their default action ends the process, so until the loop's handlers exist they are
// blocked: one that arrives during the start (a SIGHUP from config management 50 ms
// after the start, while the policy is applied and the groups adopted) stays
// pending and is handled once the loop runs, instead of killing the daemon without
// a log line.
static sigset_t handledSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGHUP, SIGTERM, SIGINT})
        sigaddset(&set, sig);
    return set;
}

int main(int argc, char** argv) {
    const sigset_t handled = handledSignals();
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);
    using namespace gov::core;
    using namespace gov::daemon;
    int exitCode = 0;
    auto parsed = parseOptions(argc, argv, exitCode);
    if (!parsed)
        return exitCode;

    // Under systemd (stderr goes to the journal): the journal's native protocol, with
    // priorities and the daemon's unit (see makeJournalSink); else timestamped lines
    // on stderr.
    std::shared_ptr<spdlog::logger> logger;
    if (std::getenv("JOURNAL_STREAM")) {
        logger =
            std::make_shared<spdlog::logger>("governord", makeJournalSink(currentSystemdUnit()));
    } else {
        logger = spdlog::stderr_color_mt("governord");
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    }
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(parsed->logLevel));
    spdlog::flush_on(spdlog::level::info);

    auto options = resolveDefaults(*parsed);
    if (!options) {
        spdlog::critical("{}", options.error().message());
        return 1;
    }
    GovernorConfig config;
    config.cgroupRoot = options->cgroupRoot;
    if (options->enableAncestors)
        config.enableAncestorsFrom = options->cgroupMount;
    config.memoryRecursiveProt = options->memoryRecursiveProt;
    config.rootProtection = options->rootProtection;
    config.stateDir = options->stateDir;
    config.policyFiles = options->policyFiles;
    config.policyDir = options->policyDir;
    config.defaultPolicyFile = kDefaultPolicyFile;
    config.defaultPolicyDir = kDefaultPolicyDir;
    // Ended workloads are saved in batches, at most this late (Daemon::scheduleFlush).
    config.saveDelay = std::chrono::milliseconds(20);

    spdlog::info("governord {} starting: cgroup root {}, state {}, policy {}", GOV_VERSION,
                 config.cgroupRoot, config.stateDir, describePolicySources(config));
    spdlog::info(
        "memory protection: cgroup2 is mounted {} memory_recursiveprot, so a class's "
        "memory.min/low {}; {}",
        config.memoryRecursiveProt ? "with" : "without",
        config.memoryRecursiveProt ? "are shared by its workload groups"
                                   : "are also written on each of its workload groups",
        config.rootProtection ? "the root holds their sum"
                              : "the root's are the service's (MemoryMin=, MemoryLow=)");
    auto governor = Governor::start(config);
    if (!governor) {
        spdlog::critical("cannot start: {}", governor.error().message());
        return 1;
    }
    logTree(**governor);

    boost::asio::io_context io;
    Daemon daemon(io, **governor, options->rescanInterval);
    // The Daemon's signal_set has installed its handlers: what arrived meanwhile is
    // delivered now and queued for the loop.
    pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);

    // The D-Bus control API (exec, status, freeze/thaw/kill, reload, policy
    // check/diff) on the same io_context; its name is owned before readiness is
    // announced.
    gov::runtime::Clone3Spawner::Options spawnOptions;
    spawnOptions.pidNamespaceInit = findInit();
    gov::runtime::Clone3Spawner spawner(spawnOptions);
    ExecService exec(io, **governor, spawner);
    std::unique_ptr<BusService> bus;
    if (!options->bus.empty()) {
        BusOptions busOptions;
        busOptions.address = options->bus;
        busOptions.version = GOV_VERSION;
        // A Reload call goes the daemon's way: systemd hears RELOADING/READY as
        // for SIGHUP.
        busOptions.reload = [&daemon] { return daemon.reload(); };
        auto started = BusService::start(io, **governor, exec, busOptions);
        if (started) {
            bus = std::move(*started);
        } else if (options->bus == "system") {
            // The default: a host without a usable system bus still gets its
            // classes governed, only without the control API.
            spdlog::error("no D-Bus control API (govctl exec/status/... will not work): {}",
                          started.error().message());
        } else {
            spdlog::critical("cannot start the D-Bus service: {}", started.error().message());
            return 1;
        }
    }

    // The metrics endpoint runs on the same io_context: scrapes read daemon state
    // on the one thread that owns it.
    gov::exporter::Collector collector;
    std::unique_ptr<gov::exporter::MetricsServer> metrics;
    if (!options->metricsListen.empty()) {
        auto server = gov::exporter::MetricsServer::start(io, options->metricsListen, [&] {
            return collector.scrape(gov::exporter::snapshotOf(**governor, GOV_VERSION));
        });
        if (!server) {
            spdlog::critical("cannot serve metrics: {}", server.error().message());
            return 1;
        }
        metrics = std::move(*server);
        spdlog::info("metrics on http://{}/metrics", options->metricsListen);
    }

    // Every source on the loop stops with the daemon, so that io.run() returns.
    daemon.onStop = [&] {
        if (bus)
            bus->stop();
        exec.stop();
        if (metrics)
            metrics->stop();
    };
    daemon.start();
    spdlog::info("governord ready: {}", (*governor)->statusLine());
    io.run();
    spdlog::info("governord stopped");
    return 0;
}
