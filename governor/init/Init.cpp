// governor-init: pid 1 of a workload's pid namespace. governord starts it there,
// with the command's resolved path and argv, instead of the command itself.
//
// Why: the kernel delivers to the init of a pid namespace only the signals it has
// a handler for (SIGKILL and SIGSTOP from an ancestor namespace aside). A command
// that is pid 1 therefore ignores the Ctrl-C and SIGTERM that `govctl exec`
// forwards, unless it installed handlers itself (sleep, tcpdump's defaults... do
// not). This init handles them all and passes them on to the command's process
// group, reaps the orphans the namespace hands it, and exits with the command's
// status (128+N when a signal N ended it). When it exits, the kernel kills what
// is left in the namespace.
//
// On a terminal (`govctl exec` with a pseudo-terminal: stdin is this session's
// controlling terminal) the command's process group is made the terminal's
// foreground group before the command runs, so that the terminal's Ctrl-C and
// Ctrl-Z reach it and an interactive shell has job control.
//
//   governor-init PATH ARGV0 [ARGS...]
//
// Plain libc, no allocation after start: it lives as long as the workload.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

// Everything worth passing on; SIGCHLD is ours.
constexpr int kForwarded[] = {SIGHUP,  SIGINT,   SIGQUIT, SIGTERM, SIGUSR1,
                              SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: governor-init PATH ARGV0 [ARGS...]\n");
        return 2;
    }
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : kForwarded)
        sigaddset(&handled, s);
    sigaddset(&handled, SIGCHLD);
    sigset_t previous;
    sigprocmask(SIG_BLOCK, &handled, &previous);

    const bool terminal = isatty(0) == 1 && tcgetsid(0) == getsid(0);
    int go[2] = {-1, -1};
    if (terminal && pipe2(go, O_CLOEXEC) != 0) {
        std::fprintf(stderr, "governor-init: pipe: %s\n", std::strerror(errno));
        return 126;
    }
    const pid_t child = fork();
    if (child < 0) {
        std::fprintf(stderr, "governor-init: fork: %s\n", std::strerror(errno));
        return 126;
    }
    if (child == 0) {
        // The command leads its own process group, which gets the signals.
        setpgid(0, 0);
        if (terminal) {
            // Wait until that group is the terminal's foreground one: a shell
            // started in the background would stop itself (SIGTTIN) at once.
            close(go[1]);
            char byte;
            while (read(go[0], &byte, 1) < 0 && errno == EINTR) {
            }
        }
        sigprocmask(SIG_SETMASK, &previous, nullptr);
        execv(argv[1], argv + 2);
        const int err = errno;
        std::fprintf(stderr, "governor-init: exec %s: %s\n", argv[1], std::strerror(err));
        _exit(err == ENOENT ? 127 : 126);
    }
    setpgid(child, child);  // either side may win the race; both ask the same
    if (terminal) {
        // We lead the session and are its foreground group: no SIGTTOU.
        if (tcsetpgrp(0, child) != 0)
            std::fprintf(stderr, "governor-init: tcsetpgrp: %s\n", std::strerror(errno));
        close(go[0]);
        close(go[1]);  // end of file: the command goes on
    }

    for (;;) {
        siginfo_t info;
        const int sig = sigwaitinfo(&handled, &info);
        if (sig < 0)
            continue;  // EINTR
        if (sig != SIGCHLD) {
            if (kill(-child, sig) != 0)
                kill(child, sig);
            continue;
        }
        // Reap everything that ended: the command, and orphans re-parented to us.
        for (;;) {
            int status = 0;
            const pid_t done = waitpid(-1, &status, WNOHANG);
            if (done <= 0)
                break;
            if (done != child)
                continue;
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        }
    }
}
