// govctl: the command-line client of Governor.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "Command.hpp"

#if defined(__SANITIZE_ADDRESS__)
// sdbus-c++ 1.2 does not free the sd_bus when opening the bus fails (daemon
// unreachable): not our leak, and LeakSanitizer would change the exit code.
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libsystemd.so\n";
}
extern "C" const char* __lsan_default_options() {
    return "print_suppressions=0";
}
#endif

int main(int argc, char** argv) {
    using namespace gov::govctl;
    CLI::App app{"govctl: inspect and control Governor, the cgroup v2 resource governor", "govctl"};
    app.require_subcommand(1);
    CommandContext ctx{std::cout, std::cerr, kExitOk, {}};

    app.footer(
        "The daemon commands talk to governord over D-Bus: the system bus, or the address\n"
        "in GOVERNOR_BUS_ADDRESS (e.g. unix:path=/run/governor-test/bus).\n"
        "Exit codes: 0 ok; 1 failed; 2 usage; 3 unknown class or group; 4 permission\n"
        "denied; 5 governord unreachable; exec: the command's status (128+N when killed by\n"
        "signal N), 126 cannot execute, 127 command not found.");

    // The daemon commands, in the order `--help` lists them.
    registerExec(app, ctx);
    registerStatus(app, ctx);
    registerLs(app, ctx);
    registerTop(app, ctx);
    registerFreeze(app, ctx);
    registerThaw(app, ctx);
    registerKill(app, ctx);
    registerReload(app, ctx);

    CLI::App* policy = app.add_subcommand("policy", "Check, diff and show Governor policies");
    policy->require_subcommand(1);
    registerPolicyCheck(*policy, ctx);
    registerPolicyDiff(*policy, ctx);
    registerPolicyShowDefault(*policy, ctx);

    try {
        // `govctl exec -c adhoc ls -l`: "ls -l" is the workload's, not ours.
        std::vector<std::string> args(argv, argv + argc);
        ctx.execCommand = splitExecCommand(args);
        // CLI11 takes a vector without the program name, in reverse order.
        std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
        app.parse(reversed);
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
