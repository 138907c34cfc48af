// How govctl subcommands plug into main(): each subcommand is one file with one
// register function, called explicitly from Main.cpp (no static self-registration).
// A register function adds its CLI11 subcommand and a callback; the callback does
// the work, writes to the context's streams and sets the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>

namespace gov::govctl {

// Process exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and its answer is "no"
                                       // (invalid policy, ...)
inline constexpr int kExitUsage = 2;   // bad command line

// What a subcommand's callback may use. Lives for the whole of main(); the
// callbacks run on the main thread during CLI::App::parse().
struct CommandContext {
    std::ostream& out;
    std::ostream& err;
    int exitCode = kExitOk;
};

// govctl policy check [--json] [--default] FILE...
void registerPolicyCheck(CLI::App& policy, CommandContext& ctx);
// govctl policy show-default: the built-in default policy as TOML.
void registerPolicyShowDefault(CLI::App& policy, CommandContext& ctx);

}  // namespace gov::govctl
