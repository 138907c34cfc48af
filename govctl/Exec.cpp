// govctl exec --class CLASS [-t|-T] [--] CMD [ARGS...]: run a command in a fresh workload
// group of CLASS, as if it ran here. The usual command line never gets here: the
// lean `govctl` front (Front.cpp) runs it itself. This is the same client
// (ExecClient.hpp) for the lines the front hands over, so that CLI11 explains a
// bad one; the ones it accepts run exactly as they would from the front.
#include <cstdio>
#include <memory>

#include "Command.hpp"
#include "ExecClient.hpp"

namespace gov::govctl {

struct ExecOptions {
    std::string className;
    bool tty = false;
    bool noTty = false;
};

void registerExec(CLI::App& app, CommandContext& ctx) {
    auto opt = std::make_shared<ExecOptions>();
    CLI::App* cmd = app.add_subcommand(
        "exec",
        "Run a command in a fresh workload group of a class, with your uid, gid and groups; "
        "govctl exits with its status (128+N when killed by signal N)");
    cmd->add_option("--class,-c", opt->className, "The workload class")->required();
    auto* tty = cmd->add_flag("-t,--tty", opt->tty,
                              "Give the command a pseudo-terminal even when stdin is not a "
                              "terminal (all of its stdio goes through it)");
    cmd->add_flag("-T,--no-tty", opt->noTty,
                  "Never give the command a pseudo-terminal: it gets govctl's own descriptors")
        ->excludes(tty);
    // The command and its arguments are split off by splitExecCommand() before
    // CLI11 sees the line, so that options after the command belong to it.
    cmd->footer(
        "Usage: govctl exec --class CLASS [-t|-T] [--] CMD [ARGS...]\n"
        "When stdin is a terminal the command gets a pseudo-terminal of its own (job control,\n"
        "/dev/tty, window size), relayed by govctl; -t forces one, -T disables it.\n"
        "Exit status: the command's, or 128+N when a signal N ended it. Before the command\n"
        "runs: 3 unknown class, 4 permission denied, 5 governord unreachable, 126 cannot\n"
        "execute, 127 command not found, 1 other failure, 2 usage.");
    cmd->callback([opt, &ctx] {
        if (ctx.execCommand.empty()) {
            ctx.err << "govctl exec: no command given\nRun with --help for more information.\n";
            ctx.exitCode = kExitUsage;
            return;
        }
        ExecLine line{opt->className, ctx.execCommand, ExecLine::Tty::Auto};
        if (opt->tty)
            line.tty = ExecLine::Tty::Force;
        else if (opt->noTty)
            line.tty = ExecLine::Tty::Never;
        ctx.exitCode = runExec(line, stderr);
    });
}

}  // namespace gov::govctl
