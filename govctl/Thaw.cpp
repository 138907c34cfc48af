// govctl thaw TARGET...: Thaw a frozen class or workload group.
// TARGET is a class name ("adhoc") or a workload group ("adhoc.slice/x-1-2.scope").
// Allowed to root, the policy's admins and the class's control allow-list.
#include <memory>
#include <string>
#include <vector>

#include "BusClient.hpp"
#include "Command.hpp"

namespace gov::govctl {

void registerThaw(CLI::App& app, CommandContext& ctx) {
    auto targets = std::make_shared<std::vector<std::string>>();
    CLI::App* cmd = app.add_subcommand("thaw", "Thaw a frozen class or workload group");
    cmd->add_option("target", *targets, "Class name or workload group")->required();
    cmd->callback([targets, &ctx] {
        ctx.exitCode = runControl(ctx, "thaw", "thawed", *targets, &GovernorProxy::Thaw);
    });
}

}  // namespace gov::govctl
