// govctl status [--json] [TARGET]: without TARGET, the daemon and its classes;
// with one, that class (its slice) or workload group in detail, with its pids.
#include <memory>
#include <string>

#include "BusClient.hpp"
#include "Command.hpp"
#include "PolicyFormat.hpp"

namespace gov::govctl {

namespace {

struct Options {
    std::string target;
    bool json = false;
};

int run(const Options& opt, CommandContext& ctx, GovernorProxy& proxy) {
    if (!opt.target.empty()) {
        auto [group, pids] = proxy.GetGroup(opt.target);
        GroupRow row = toGroupRow(group);
        ctx.out << (opt.json ? dumpJson(groupDetailToJson(row, pids)) + "\n"
                             : formatGroupDetail(row, pids));
        return kExitOk;
    }
    std::vector<ClassRow> classes;
    for (const auto& c : proxy.ListClasses()) {
        ClassRow r;
        r.name = c.get<0>();
        r.description = c.get<1>();
        r.namespaces = c.get<2>();
        r.workloads = c.get<3>();
        r.frozen = c.get<4>();
        classes.push_back(std::move(r));
    }
    const std::string version = proxy.Version();
    if (opt.json) {
        nlohmann::json j = classesToJson(classes);
        j["version"] = version;
        j["bus"] = busDescription();
        ctx.out << dumpJson(j) << "\n";
    } else {
        ctx.out << "governord " << version << " on " << busDescription() << "\n\n"
                << formatClassesTable(classes);
    }
    return kExitOk;
}

}  // namespace

void registerStatus(CLI::App& app, CommandContext& ctx) {
    auto opt = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand(
        "status", "Show the daemon and its classes, or one class or workload group in detail");
    cmd->add_option("target", opt->target, "Class name or workload group");
    cmd->add_flag("--json", opt->json, "Machine-readable output");
    cmd->callback([opt, &ctx] {
        ctx.exitCode =
            withDaemon(ctx, "status", [&](GovernorProxy& proxy) { return run(*opt, ctx, proxy); });
    });
}

}  // namespace gov::govctl
