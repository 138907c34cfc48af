// `govctl`, the binary operators run. It is small on purpose: `govctl exec
// --class C [--] CMD...` is on the hot path of every ad-hoc command, so it is run
// here, by the minimal D-Bus client (ExecClient.hpp), in a binary that links
// neither sdbus-c++ nor libsystemd (with its six dependencies) and carries its own
// libstdc++: the dynamic loading alone of the full client costs more than
// `unshare --fork --pid --mount-proc true` does (bench/exec).
//
// Every other command line (the other subcommands, --help, usage errors) is handed
// unchanged to the full client, govctl-full (Main.cpp: CLI11 and the sdbus-c++
// glue): the sibling of this binary when it is there (the build tree), else the
// installed one in GOVCTL_FULL_PATH (<libexecdir>/governor/govctl-full).
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ExecArgs.hpp"
#include "ExecClient.hpp"
#include "ExitCodes.hpp"

#ifndef GOVCTL_FULL_PATH
#define GOVCTL_FULL_PATH "/usr/libexec/governor/govctl-full"
#endif

namespace {

std::string fullClientPath() {
    char self[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        std::string sibling(self, static_cast<size_t>(n));
        sibling = sibling.substr(0, sibling.rfind('/') + 1) + "govctl-full";
        if (::access(sibling.c_str(), X_OK) == 0)
            return sibling;
    }
    return GOVCTL_FULL_PATH;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace gov::govctl;
    const std::vector<std::string> args(argv, argv + argc);
    if (auto line = parseExecLine(args))
        return runExec(*line, stderr);

    const std::string full = fullClientPath();
    ::execv(full.c_str(), argv);
    std::fprintf(stderr, "govctl: cannot run %s: %s\n", full.c_str(), std::strerror(errno));
    return kExitFailed;
}
