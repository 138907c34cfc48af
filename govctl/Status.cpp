// govctl status [--json] [TARGET]: without TARGET, the daemon and its classes;
// with one, that class (its slice) or workload group in detail, with its pids, and
// for a class its limits: where each is enforced and which cannot be here.
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
        if (row.group != row.className + ".slice") {
            ctx.out << (opt.json ? dumpJson(groupDetailToJson(row, pids)) + "\n"
                                 : formatGroupDetail(row, pids));
            return kExitOk;
        }
        // A class: its limits from the policy in force (a retired class, no longer
        // in it, has none to show).
        std::vector<LimitRow> limits;
        bool inPolicy = true;
        try {
            for (const auto& l : proxy.GetClassLimits(row.className)) {
                limits.push_back(LimitRow{l.get<0>(), l.get<1>(), l.get<2>(), l.get<3>(),
                                          l.get<4>(), l.get<5>(), l.get<6>()});
            }
        } catch (const sdbus::Error& e) {
            if (e.getName() != "org.governor.Error.UnknownClass")
                throw;
            inPolicy = false;
        }
        if (opt.json) {
            nlohmann::json j = groupDetailToJson(row, pids);
            j["limits"] = inPolicy ? classLimitsToJson(limits) : nlohmann::json(nullptr);
            ctx.out << dumpJson(j) << "\n";
        } else {
            ctx.out << formatGroupDetail(row, pids)
                    << (inPolicy ? formatClassLimits(limits)
                                 : std::string("limits:   none (the class is no longer in the "
                                               "policy; kept until its last workload ends)\n"));
        }
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
