// How govctl subcommands plug into main(): each subcommand is one file with one
// register function, called explicitly from Main.cpp (no static self-registration).
// A register function adds its CLI11 subcommand and a callback; the callback does
// the work, writes to the context's streams and sets the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace gov::govctl {

// Process exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and its answer is "no"
                                       // (invalid policy, ...)
inline constexpr int kExitUsage = 2;   // bad command line
// Errors of the daemon commands (before a workload runs, for exec). Documented in
// `govctl --help` and docs/govctl.md.
inline constexpr int kExitUnknownTarget = 3;    // unknown class or group
inline constexpr int kExitDenied = 4;           // the daemon refused the caller
inline constexpr int kExitUnreachable = 5;      // governord is not reachable on the bus
inline constexpr int kExitCannotExecute = 126;  // exec: the command cannot be executed
inline constexpr int kExitNotFound = 127;       // exec: command not found (as the shell)

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
// For `govctl exec`: removes the workload's command (from the first word after
// exec's own options, or after "--") from `args` and returns it; `args` keeps
// what CLI11 parses. Other subcommands: returns {} and leaves `args` alone.
std::vector<std::string> splitExecCommand(std::vector<std::string>& args);
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
