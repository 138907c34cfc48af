// govctl ls [--json]: every class slice and workload group with its usage now.
#include <memory>

#include "BusClient.hpp"
#include "Command.hpp"
#include "PolicyFormat.hpp"

namespace gov::govctl {

void registerLs(CLI::App& app, CommandContext& ctx) {
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd =
        app.add_subcommand("ls", "List the class slices and workload groups with their usage");
    cmd->add_flag("--json", *json, "Machine-readable output");
    cmd->callback([json, &ctx] {
        ctx.exitCode = withDaemon(ctx, "ls", [&](GovernorProxy& proxy) {
            std::vector<GroupRow> rows;
            for (const auto& g : proxy.ListGroups())
                rows.push_back(toGroupRow(g));
            ctx.out << (*json ? dumpJson(groupsToJson(rows)) + "\n" : formatGroupsTable(rows));
            return kExitOk;
        });
    });
}

}  // namespace gov::govctl
