// govctl reload: make the daemon reload its policy files (as SIGHUP). Allowed to
// root and the policy's admins. A policy that is invalid or fails to apply leaves
// the previous one in force: the reasons are printed and the exit code is 1.
#include "BusClient.hpp"
#include "Command.hpp"

namespace gov::govctl {

void registerReload(CLI::App& app, CommandContext& ctx) {
    CLI::App* cmd = app.add_subcommand(
        "reload", "Reload the daemon's policy files; on failure the previous policy stays");
    cmd->callback([&ctx] {
        ctx.exitCode = withDaemon(ctx, "reload", [&](GovernorProxy& proxy) {
            auto [applied, messages] = proxy.Reload();
            if (applied) {
                ctx.out << "policy reloaded\n";
                return kExitOk;
            }
            ctx.err << "govctl reload: the new policy was not applied; the previous policy "
                       "stays in force:\n";
            for (const auto& m : messages)
                ctx.err << "  " << m << "\n";
            return kExitFailed;
        });
    });
}

}  // namespace gov::govctl
