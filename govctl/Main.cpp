// govctl: the command-line client of Governor.
#include <exception>
#include <iostream>

#include "Command.hpp"

int main(int argc, char** argv) {
    using namespace gov::govctl;
    CLI::App app{"govctl: inspect and control Governor, the cgroup v2 resource governor", "govctl"};
    app.require_subcommand(1);
    CommandContext ctx{std::cout, std::cerr};

    CLI::App* policy = app.add_subcommand("policy", "Check and show Governor policies");
    policy->require_subcommand(1);
    registerPolicyCheck(*policy, ctx);
    registerPolicyShowDefault(*policy, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help is a ParseError with exit code 0; every real parse error is a
        // usage error.
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "govctl: " << e.what() << "\n";
        return kExitFailed;
    }
    return ctx.exitCode;
}
