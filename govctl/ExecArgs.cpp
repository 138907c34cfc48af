// splitExecCommand(): kept apart from Exec.cpp (which needs the bus) so it is
// unit-tested in govctl_lib.
#include "ExecArgs.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace gov::govctl {

std::vector<std::string> splitExecCommand(std::vector<std::string>& args) {
    // args[0] is the program; find "exec" as the first non-option word.
    size_t i = 1;
    while (i < args.size() && !args[i].empty() && args[i][0] == '-')
        ++i;
    if (i >= args.size() || args[i] != "exec")
        return {};
    ++i;
    // exec's own options: --class X, --class=X, -c X, -cX, -h, --help.
    while (i < args.size()) {
        const std::string& a = args[i];
        if (a == "--") {
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
            break;
        }
        if (a == "--class" || a == "-c") {
            i += 2;
            continue;
        }
        if (a.rfind("--class=", 0) == 0 || (a.rfind("-c", 0) == 0 && a.size() > 2) || a == "-h" ||
            a == "--help" || ttyOption(a)) {
            ++i;
            continue;
        }
        break;  // the command
    }
    if (i > args.size())
        return {};
    std::vector<std::string> command(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    args.resize(i);
    return command;
}

std::optional<ExecLine::Tty> ttyOption(const std::string& word) {
    if (word == "-t" || word == "--tty")
        return ExecLine::Tty::Force;
    if (word == "-T" || word == "--no-tty")
        return ExecLine::Tty::Never;
    return std::nullopt;
}

std::optional<ExecLine> parseExecLine(const std::vector<std::string>& args) {
    if (args.size() < 3 || args[1] != "exec")
        return std::nullopt;
    ExecLine line;
    bool haveClass = false;
    size_t i = 2;
    auto setClass = [&](const std::string& value) {
        if (haveClass || value.empty())
            return false;
        line.className = value;
        haveClass = true;
        return true;
    };
    while (i < args.size()) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a == "--class" || a == "-c") {
            if (i + 1 >= args.size() || !setClass(args[i + 1]))
                return std::nullopt;
            i += 2;
            continue;
        }
        if (a.rfind("--class=", 0) == 0) {
            if (!setClass(a.substr(8)))
                return std::nullopt;
            ++i;
            continue;
        }
        if (auto tty = ttyOption(a)) {
            line.tty = *tty;
            ++i;
            continue;
        }
        if (a.rfind("-c", 0) == 0 && a.size() > 2 && a[2] != '-') {
            if (!setClass(a.substr(2)))
                return std::nullopt;
            ++i;
            continue;
        }
        if (!a.empty() && a[0] == '-')
            return std::nullopt;  // --help, -h, or an option exec does not have
        break;                    // the command
    }
    if (!haveClass || i >= args.size())
        return std::nullopt;
    line.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return line;
}

}  // namespace gov::govctl
