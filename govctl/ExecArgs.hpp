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
// `govctl exec {--class C|--class=C|-c C|-cC} [-t|--tty|-T|--no-tty] [--] CMD
// [ARGS...]` (options in any order before the command). Anything else (--help,
// another option, a missing class or command, the class given twice) is
// std::nullopt: the full govctl parses it and explains what is wrong.
struct ExecLine {
    // A pseudo-terminal for the workload: Auto when govctl's stdin is a terminal,
    // Force with -t, Never with -T (the last of them wins, as with ssh).
    enum class Tty { Auto, Force, Never };
    std::string className;
    std::vector<std::string> command;
    Tty tty = Tty::Auto;
};
std::optional<ExecLine> parseExecLine(const std::vector<std::string>& args);

// -t/--tty -> Force, -T/--no-tty -> Never; other words: nullopt.
std::optional<ExecLine::Tty> ttyOption(const std::string& word);

}  // namespace gov::govctl
