// govctl policy check: validate policy files together (the daemon's merge rule)
// and show the effective classes, or every diagnostic.
#include <memory>
#include <string>
#include <vector>

#include "Command.hpp"
#include "PolicyFormat.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::govctl {
namespace {

struct Options {
    std::vector<std::string> files;
    bool json = false;
    bool builtIn = false;
};

void run(const Options& opt, CommandContext& ctx) {
    if (opt.files.empty() && !opt.builtIn) {
        ctx.err << "govctl policy check: no FILE given (or --default for the built-in "
                   "policy)\nRun with --help for more information.\n";
        ctx.exitCode = kExitUsage;
        return;
    }
    if (!opt.files.empty() && opt.builtIn) {
        ctx.err << "govctl policy check: give either FILE... or --default, not both\n";
        ctx.exitCode = kExitUsage;
        return;
    }
    policies::CompileResult result;
    if (opt.builtIn) {
        result.policy = policies::defaultPolicy();
        result.policy->sources = {"<built-in default policy>"};
    } else {
        result = policies::loadPolicyFiles(opt.files, "");
    }
    if (!result.ok()) {
        for (const auto& d : result.diagnostics) {
            ctx.err << d.format() << "\n";
        }
        ctx.err << result.diagnostics.size()
                << (result.diagnostics.size() == 1 ? " error" : " errors") << "\n";
        if (opt.json) {
            ctx.out << dumpJson(diagnosticsToJson(result.diagnostics)) << "\n";
        }
        ctx.exitCode = kExitFailed;
        return;
    }
    if (opt.json) {
        ctx.out << dumpJson(policyToJson(*result.policy)) << "\n";
    } else {
        ctx.out << formatPolicyTable(*result.policy);
    }
    ctx.exitCode = kExitOk;
}

}  // namespace

void registerPolicyCheck(CLI::App& policy, CommandContext& ctx) {
    // Shared with the callback, which CLI11 keeps for the life of the App.
    auto opt = std::make_shared<Options>();
    CLI::App* cmd = policy.add_subcommand(
        "check",
        "Validate policy files together (as the daemon merges them) and print the effective "
        "classes; exit 0 when valid, 1 with every error when not, 2 on a usage error");
    cmd->add_option("FILE", opt->files, "Policy files (policy.toml, then policy.d/*.toml)");
    cmd->add_flag("--json", opt->json, "Print the effective policy (or the errors) as JSON");
    cmd->add_flag("--default", opt->builtIn, "Check and print the built-in default policy");
    cmd->callback([opt, &ctx] { run(*opt, ctx); });
}

}  // namespace gov::govctl
