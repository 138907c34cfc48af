#include "Command.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::govctl {

void registerPolicyShowDefault(CLI::App& policy, CommandContext& ctx) {
    CLI::App* cmd = policy.add_subcommand(
        "show-default", "Print the built-in default policy (used when no policy file exists)");
    cmd->callback([&ctx] {
        ctx.out << policies::defaultPolicyText();
        ctx.exitCode = kExitOk;
    });
}

}  // namespace gov::govctl
