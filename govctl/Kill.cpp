// govctl kill TARGET...: Kill every process of a class, or of one workload group (cgroup.kill).
// TARGET is a class name ("adhoc") or a workload group ("adhoc.slice/x-1-2.scope").
// Allowed to root, the policy's admins and the class's control allow-list.
#include <memory>
#include <string>
#include <vector>

#include "BusClient.hpp"
#include "Command.hpp"

namespace gov::govctl {

void registerKill(CLI::App& app, CommandContext& ctx) {
    auto targets = std::make_shared<std::vector<std::string>>();
    CLI::App* cmd = app.add_subcommand(
        "kill", "Kill every process of a class, or of one workload group (cgroup.kill)");
    cmd->add_option("target", *targets, "Class name or workload group")->required();
    cmd->callback([targets, &ctx] {
        ctx.exitCode = runControl(ctx, "kill", "killed", *targets, &GovernorProxy::Kill);
    });
}

}  // namespace gov::govctl
