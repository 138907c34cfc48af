// govctl top: a live table of the groups by CPU, memory, IO and tasks, refreshed
// every --delay seconds, like systemd-cgtop. Each screen shows the rates since the
// previous sample; the first one comes --delay seconds after the start. `-n N`
// stops after N screens (and, like --batch, does not clear the screen), so it can
// run in scripts and tests; --json prints one JSON document per screen.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "BusClient.hpp"
#include "Command.hpp"
#include "PolicyFormat.hpp"

namespace gov::govctl {

namespace {

struct Options {
    int iterations = 0;  // 0: until interrupted
    double delay = 1.0;
    std::string order = "cpu";
    bool json = false;
    bool batch = false;
};

std::vector<GroupRow> sample(GovernorProxy& proxy) {
    std::vector<GroupRow> rows;
    for (const auto& g : proxy.ListGroups())
        rows.push_back(toGroupRow(g));
    return rows;
}

int run(const Options& opt, CommandContext& ctx, GovernorProxy& proxy) {
    const auto order = topOrderFromName(opt.order);
    const bool clear = !opt.batch && !opt.json && opt.iterations == 0 && ::isatty(STDOUT_FILENO);
    using Clock = std::chrono::steady_clock;
    auto before = sample(proxy);
    auto then = Clock::now();
    for (int i = 0; opt.iterations == 0 || i < opt.iterations; ++i) {
        std::this_thread::sleep_for(std::chrono::duration<double>(opt.delay));
        auto now = sample(proxy);
        auto at = Clock::now();
        const double seconds = std::chrono::duration<double>(at - then).count();
        auto rows = topRows(before, now, seconds, *order);
        if (opt.json) {
            ctx.out << dumpJson(topToJson(rows, seconds)) << "\n";
        } else {
            if (clear)
                ctx.out << "\033[H\033[2J";
            else if (i > 0)
                ctx.out << "\n";
            ctx.out << formatTopTable(rows);
        }
        ctx.out.flush();
        before = std::move(now);
        then = at;
    }
    return kExitOk;
}

}  // namespace

void registerTop(CLI::App& app, CommandContext& ctx) {
    auto opt = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand(
        "top", "Live table of the groups by CPU, memory, IO and tasks (like systemd-cgtop)");
    cmd->add_option("-n,--iterations", opt->iterations,
                    "Stop after N refreshes (default: run until interrupted)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("-d,--delay", opt->delay, "Seconds between refreshes (default 1)")
        ->check(CLI::Range(0.01, 3600.0));
    cmd->add_option("-o,--order", opt->order, "Sort by cpu, memory, io, tasks or group")
        ->check(CLI::IsMember({"cpu", "memory", "io", "tasks", "group"}));
    cmd->add_flag("-b,--batch", opt->batch, "Do not clear the screen between refreshes");
    cmd->add_flag("--json", opt->json, "One JSON document per refresh");
    cmd->callback([opt, &ctx] {
        ctx.exitCode =
            withDaemon(ctx, "top", [&](GovernorProxy& proxy) { return run(*opt, ctx, proxy); });
    });
}

}  // namespace gov::govctl
