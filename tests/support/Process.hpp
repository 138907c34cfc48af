// Shared by the live tests: starting the programs under test (governord, dbus-daemon,
// govctl) as children, waiting for them with a bound, and stopping them for sure.
//
// A child started here gets PR_SET_PDEATHSIG(SIGKILL): when the test binary dies
// (ctest kills it at its TIMEOUT, a crash), the kernel kills governord and the bus
// with it, so nothing keeps running against a test tree nobody removes. (The kernel
// clears that setting when the child changes its credentials, e.g. govctl run as
// nobody through setpriv; those runs are short and waited for with a bound.)
//
// Thread safety: none (test fixtures; the death signal follows the thread that
// started the child, so start children from the test's main thread).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gov::testsupport {

// The exit code, or 128+signal for a killed process (as a shell reports it).
inline int decodeStatus(int wstatus) {
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return -1;
}

// fork + execv(argv[0]) with stdin from `in`, stdout to `out`, stderr to `err`
// (files, created or truncated; `err` may be `out`), `env` ("K=V") added to the
// test's environment. Returns the pid (-1 when fork failed). A child that cannot set
// up its stdio exits 120, one that cannot exec 121, one whose parent is gone 122.
inline pid_t startProcess(const std::vector<std::string>& argv, const std::string& out,
                          const std::string& err, const std::string& in = "/dev/null",
                          const std::vector<std::string>& env = {}) {
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    // Dies with the test binary; and if that already happened, at once.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
        ::_exit(122);
    int i = ::open(in.c_str(), O_RDONLY);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The same file for both: one description, so the two do not overwrite each other.
    int e = err == out ? o : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (i < 0 || o < 0 || e < 0)
        ::_exit(120);
    ::dup2(i, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    for (const auto& kv : env)
        ::putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(121);
}

// Waits at most `timeout` for the child `pid` to exit (pidfd + poll: woken by the
// exit itself, no sleeping) and reaps it. Its decoded status, or nullopt when it is
// still running at the deadline (it is then left running and unreaped).
inline std::optional<int> waitExit(pid_t pid, std::chrono::milliseconds timeout) {
    int status = 0;
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        struct pollfd p = {pidfd, POLLIN, 0};
        int r;
        do {
            r = ::poll(&p, 1, static_cast<int>(timeout.count()));
        } while (r < 0 && errno == EINTR);
        ::close(pidfd);
        if (r == 0)
            return std::nullopt;
    }
    // Exited (readable pidfd), or the pidfd could not be had (already reaped: the
    // waitpid below says so): reap without blocking.
    pid_t got;
    do {
        got = ::waitpid(pid, &status, pidfd >= 0 ? 0 : WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got != pid)
        return std::nullopt;
    return decodeStatus(status);
}

// Sends `sig` to the child `pid` and waits at most `timeout` for it to exit; when it
// has not, SIGKILL and wait again (SIGKILL always ends it). Returns the decoded
// status, and sets `*needKill` when SIGKILL was needed.
inline int stopProcess(pid_t pid, int sig, std::chrono::milliseconds timeout,
                       bool* needKill = nullptr) {
    if (needKill)
        *needKill = false;
    ::kill(pid, sig);
    if (auto status = waitExit(pid, timeout))
        return *status;
    if (needKill)
        *needKill = true;
    ::kill(pid, SIGKILL);
    return waitExit(pid, std::chrono::seconds(30)).value_or(-1);
}

}  // namespace gov::testsupport
