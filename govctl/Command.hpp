// How govctl subcommands plug into main(): each subcommand is one file with one
// register function, called explicitly from Main.cpp (no static self-registration).
// A register function adds its CLI11 subcommand and a callback; the callback does
// the work, writes to the context's streams and sets the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "ExecArgs.hpp"
#include "ExitCodes.hpp"

namespace gov::govctl {

// What a subcommand's callback may use. Lives for the whole of main(); the
// callbacks run on the main thread during CLI::App::parse().
struct CommandContext {
    std::ostream& out;
    std::ostream& err;
    int exitCode = kExitOk;
    // `govctl exec`: the workload's command line, split off before parsing.
    std::vector<std::string> execCommand;
};

// govctl policy check [--json] [--default] FILE...
void registerPolicyCheck(CLI::App& policy, CommandContext& ctx);
// govctl policy show-default: the built-in default policy as TOML.
void registerPolicyShowDefault(CLI::App& policy, CommandContext& ctx);
// govctl policy diff [--json] FILE: the cgroup writes FILE would make (asks the daemon).
void registerPolicyDiff(CLI::App& policy, CommandContext& ctx);

// The daemon commands (D-Bus; see BusClient.hpp).
// govctl exec --class CLASS [--] CMD [ARGS...]
void registerExec(CLI::App& app, CommandContext& ctx);
// govctl ls [--json]: every class slice and workload group with its usage.
void registerLs(CLI::App& app, CommandContext& ctx);
// govctl status [--json] [GROUP]: the classes, or one class/group in detail.
void registerStatus(CLI::App& app, CommandContext& ctx);
// govctl freeze|thaw|kill TARGET...
void registerFreeze(CLI::App& app, CommandContext& ctx);
void registerThaw(CLI::App& app, CommandContext& ctx);
void registerKill(CLI::App& app, CommandContext& ctx);
// govctl reload
void registerReload(CLI::App& app, CommandContext& ctx);
// govctl top [-n N] [--delay S] [--order cpu|memory|io|tasks] [--json]
void registerTop(CLI::App& app, CommandContext& ctx);

}  // namespace gov::govctl
