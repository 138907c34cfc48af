// govctl policy diff [--json] FILE: the exact cgroup operations the daemon would
// make if FILE were its whole policy, computed by the daemon against the tree as
// it is now (nothing is applied). An invalid FILE prints its diagnostics (exit 1).
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "BusClient.hpp"
#include "Command.hpp"
#include "PolicyFormat.hpp"

namespace gov::govctl {

namespace {

struct Options {
    std::string file;
    bool json = false;
};

int run(const Options& opt, CommandContext& ctx, GovernorProxy& proxy) {
    std::ifstream in(opt.file, std::ios::binary);
    if (!in) {
        ctx.err << "govctl policy diff: cannot read " << opt.file << "\n";
        return kExitFailed;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto [valid, diagnostics, actions, unenforceable] = proxy.DiffPolicy(text.str(), opt.file);
    if (!valid) {
        for (const auto& d : diagnostics)
            ctx.err << d << "\n";
        ctx.err << diagnostics.size() << (diagnostics.size() == 1 ? " error" : " errors") << "\n";
        if (opt.json) {
            ctx.out << dumpJson({{"valid", false}, {"diagnostics", diagnostics}}) << "\n";
        }
        return kExitFailed;
    }
    std::vector<DiffRow> rows;
    for (const auto& a : actions) {
        rows.push_back({a.get<0>(), a.get<1>(), a.get<2>(), a.get<3>(), a.get<4>(), a.get<5>()});
    }
    ctx.out << (opt.json ? dumpJson(diffToJson(rows, unenforceable)) + "\n"
                         : formatDiff(rows, unenforceable));
    return kExitOk;
}

}  // namespace

void registerPolicyDiff(CLI::App& policy, CommandContext& ctx) {
    auto opt = std::make_shared<Options>();
    CLI::App* cmd = policy.add_subcommand(
        "diff", "Show the cgroup writes the daemon would make for FILE (nothing is applied)");
    cmd->add_option("file", opt->file, "Policy file")->required();
    cmd->add_flag("--json", opt->json, "Machine-readable output");
    cmd->callback([opt, &ctx] {
        ctx.exitCode = withDaemon(ctx, "policy diff",
                                  [&](GovernorProxy& proxy) { return run(*opt, ctx, proxy); });
    });
}

}  // namespace gov::govctl
