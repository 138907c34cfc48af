// The command line of `govctl exec`, taken apart without CLI11 (pure; unit-tested).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gov::govctl {

// For `govctl exec`: removes the workload's command (from the first word after
// exec's own options, or after "--") from `args` and returns it; `args` keeps
// what CLI11 parses. Other subcommands: returns {} and leaves `args` alone.
std::vector<std::string> splitExecCommand(std::vector<std::string>& args);

// The fast path of the lean `govctl` front (Front.cpp): exactly
// `govctl exec {--class C|--class=C|-c C|-cC} [--] CMD [ARGS...]`. Anything else
// (--help, another option, a missing class or command, the class given twice) is
// std::nullopt: the full govctl parses it and explains what is wrong.
struct ExecLine {
    std::string className;
    std::vector<std::string> command;
};
std::optional<ExecLine> parseExecLine(const std::vector<std::string>& args);

}  // namespace gov::govctl
