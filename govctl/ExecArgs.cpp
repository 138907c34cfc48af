// splitExecCommand(): kept apart from Exec.cpp (which needs the bus) so it is
// unit-tested in govctl_lib.
#include <cstddef>
#include <string>
#include <vector>

#include "Command.hpp"

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
            a == "--help") {
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

}  // namespace gov::govctl
