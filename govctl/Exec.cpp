// govctl exec --class CLASS [--] CMD [ARGS...]: run a command in a fresh workload
// group of CLASS, as if it ran here. The daemon spawns it (clone3 into the group,
// with our uid/gid/groups taken from the bus, never from arguments); we pass our
// stdin/stdout/stderr as UNIX fds, our environment and cwd, forward
// SIGINT/SIGTERM/SIGHUP/SIGQUIT to it, wait for its WorkloadExited signal and exit
// with its status (128+N when killed by signal N).
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "BusClient.hpp"
#include "Command.hpp"

extern char** environ;

namespace gov::govctl {
namespace {

struct Options {
    std::string className;
    std::vector<std::string> command;
};

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr int kLivenessCheckMs = 2000;

std::string currentDir() {
    std::vector<char> buf(4096);
    while (::getcwd(buf.data(), buf.size()) == nullptr) {
        if (errno != ERANGE)
            return "/";
        buf.resize(buf.size() * 2);
    }
    return buf.data();
}

std::vector<std::string> environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e)
        env.emplace_back(*e);
    return env;
}

// Blocks the forwarded signals and returns a signalfd for them: a signal that
// arrives while the call is in flight is kept and forwarded once the workload
// exists. The mask is inherited by nothing (the daemon spawns the workload).
int blockForwardedSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kForwarded)
        sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
        return -1;
    return ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int run(const Options& opt, CommandContext& ctx) {
    const int sigFd = blockForwardedSignals();
    if (sigFd < 0) {
        ctx.err << "govctl exec: signalfd: " << std::strerror(errno) << "\n";
        return kExitFailed;
    }
    std::unique_ptr<sdbus::IConnection> connection;
    std::unique_ptr<GovernorProxy> proxy;
    std::string group;
    std::optional<int> status;
    try {
        connection = connectBus();
        proxy = std::make_unique<GovernorProxy>(*connection, true);
        // Subscribed (the proxy's match is in place) before the call, so the exit
        // of even the shortest workload is seen.
        proxy->onExit = [&](const std::string& g, uint32_t, int32_t st, int32_t) {
            if (g == group)
                status = st;
        };
        auto [startedGroup, pid] = proxy->Exec(
            opt.className, opt.command, environment(), currentDir(), sdbus::UnixFd(STDIN_FILENO),
            sdbus::UnixFd(STDOUT_FILENO), sdbus::UnixFd(STDERR_FILENO));
        group = startedGroup;
        (void)pid;
    } catch (const sdbus::Error& e) {
        ctx.err << "govctl exec: " << messageFor(e) << "\n";
        return exitCodeFor(e);
    }

    // One thread: poll the bus fd and the signalfd; dispatch bus messages with
    // processPendingRequest() until the exit signal has been seen.
    try {
        for (;;) {
            while (!status && connection->processPendingRequest()) {
            }
            if (status)
                break;
            auto pd = connection->getEventLoopPollData();
            struct pollfd fds[2] = {{pd.fd, pd.events, 0}, {sigFd, POLLIN, 0}};
            // Wake up now and then to check that the daemon is still there: if it
            // dies, the exit signal never comes.
            int timeout = pd.getPollTimeout();
            if (timeout < 0 || timeout > kLivenessCheckMs)
                timeout = kLivenessCheckMs;
            int r = ::poll(fds, 2, timeout);
            if (r < 0 && errno != EINTR) {
                ctx.err << "govctl exec: poll: " << std::strerror(errno) << "\n";
                return kExitFailed;
            }
            if (r == 0 && timeout == kLivenessCheckMs)
                proxy->ping();
            if (r > 0 && (fds[1].revents & POLLIN)) {
                struct signalfd_siginfo si {};
                while (::read(sigFd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                    try {
                        proxy->SignalWorkload(group, static_cast<int32_t>(si.ssi_signo));
                    } catch (const sdbus::Error& e) {
                        // Already gone (its exit is on the way) is not an error.
                        if (e.getName() != "org.governor.Error.NoSuchGroup")
                            ctx.err << "govctl exec: forward signal: " << messageFor(e) << "\n";
                    }
                }
            }
        }
    } catch (const sdbus::Error& e) {
        ctx.err << "govctl exec: lost governord while waiting for " << group
                << " (the workload's exit status is unknown): " << messageFor(e) << "\n";
        return exitCodeFor(e);
    }
    return *status;
}

}  // namespace

void registerExec(CLI::App& app, CommandContext& ctx) {
    auto opt = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand(
        "exec",
        "Run a command in a fresh workload group of a class, with your uid, gid and groups; "
        "govctl exits with its status (128+N when killed by signal N)");
    cmd->add_option("--class,-c", opt->className, "The workload class")->required();
    // The command and its arguments are split off by splitExecCommand() before
    // CLI11 sees the line, so that options after the command belong to it.
    cmd->footer(
        "Usage: govctl exec --class CLASS [--] CMD [ARGS...]\n"
        "Exit status: the command's, or 128+N when a signal N ended it. Before the command\n"
        "runs: 3 unknown class, 4 permission denied, 5 governord unreachable, 126 cannot\n"
        "execute, 127 command not found, 1 other failure, 2 usage.");
    cmd->callback([opt, &ctx] {
        opt->command = ctx.execCommand;
        if (opt->command.empty()) {
            ctx.err << "govctl exec: no command given\nRun with --help for more information.\n";
            ctx.exitCode = kExitUsage;
            return;
        }
        ctx.exitCode = run(*opt, ctx);
    });
}

}  // namespace gov::govctl
