// Starting workload processes directly inside their cgroup, in the namespaces of
// their class, with the caller's credentials.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gov/Result.hpp"
#include "gov/policies/Policy.hpp"
#include "gov/runtime/Fd.hpp"

namespace gov::runtime {

struct SpawnRequest {
    // argv[0] is the command: with a '/', used as is (relative to `cwd` when
    // relative); without, searched in the PATH of `env` (or the default
    // "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") by the parent
    // before cloning, so "command not found" is an error of spawn().
    std::vector<std::string> argv;
    // The complete environment ("K=V"), passed as is.
    std::vector<std::string> env;
    // A group directory fd (CgroupFs::openGroup): the child starts in that group.
    // -1: the child stays in the caller's group.
    int cgroupFd = -1;
    std::vector<policies::Namespace> namespaces;
    // Credentials to drop to, applied in the order groups, gid, uid. When uid or gid
    // is set, the supplementary groups become exactly `groups` (empty = none).
    // Nothing set: the child keeps the caller's credentials.
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::vector<gid_t> groups;
    // Duplicated onto 0/1/2 in the child; -1 inherits the caller's.
    int stdinFd = -1;
    int stdoutFd = -1;
    int stderrFd = -1;
    // chdir in the child after dropping privileges; empty: the caller's cwd.
    std::string cwd;
    // setsid() in the child (a new session and process group).
    bool newSession = false;
};

struct SpawnedProcess {
    pid_t pid = -1;  // in the caller's pid namespace
    Fd pidfd;        // CLONE_PIDFD; may be empty on the fork fallback of old kernels
};

// Spawning behind an interface so the daemon can be tested with a fake.
class ProcessSpawner {
  public:
    virtual ~ProcessSpawner();
    // Starts the process; returns once it has exec'd. Every failure before exec
    // (command not found, clone refused, credentials not droppable, chdir,
    // namespace setup) is an Error and no process is left behind, e.g.
    // "exec tcpdump: No such file or directory".
    virtual Result<SpawnedProcess> spawn(const SpawnRequest& request) = 0;
};

// clone3(CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEW*), then in the child only
// async-signal-safe raw syscalls: mount a fresh /proc (pid+mount namespaces), bring
// `lo` up (net namespace), drop credentials, dup2 stdio, chdir, reset signal
// mask and dispositions, execve. Child-side failures come back through a
// close-on-exec pipe as (step, errno).
// With a user namespace, the parent writes uid_map/gid_map (the caller's ids, and
// the requested uid/gid, mapped to themselves) before the child continues.
// Fallback when clone3 is not available (ENOSYS, kernels before 5.3, or E2BIG:
// CLONE_INTO_CGROUP unsupported before 5.7): clone(2) with the same namespace
// flags, the parent writes the child's pid to cgroup.procs of the target group
// before letting it continue (so it never runs a single instruction of the
// workload elsewhere, but pays the migration cost), and the pidfd comes from
// pidfd_open when available.
// With a pid namespace the kernel delivers to the namespace's init (pid 1) only
// the signals it has a handler for (plus SIGKILL/SIGSTOP from outside): a command
// that is pid 1 ignores a forwarded SIGINT unless it handles it (tcpdump does,
// `sleep` does not). With Options::pidNamespaceInit set, that program is pid 1
// instead (governor-init: it forwards every signal to the command, which it runs
// as pid 2, and exits with its status); without it the command is pid 1.
// Limit: a child killed between clone and exec (e.g. SIGKILLed at birth in a group
// that was killed, see kernel-facts) looks to spawn() like a successful exec; its
// exit status (137) then tells.
// Thread safety: spawn() may be called from any one thread at a time.
class Clone3Spawner : public ProcessSpawner {
  public:
    struct Options {
        // Always take the clone(2) + cgroup.procs path, as on kernels without clone3
        // or CLONE_INTO_CGROUP (so tests can exercise it on a new kernel).
        bool forceFallback = false;
        // The init to run as pid 1 of a new pid namespace, as
        // `INIT <resolved command path> <argv...>`; empty: the command is pid 1.
        std::string pidNamespaceInit;
        // How long spawn() waits for the child to exec on the copying path before
        // it kills the child and fails (a child that is stopped or frozen before
        // its exec would otherwise hold the caller, e.g. the daemon's loop).
        std::chrono::milliseconds execTimeout{5000};
    };
    Clone3Spawner() = default;
    explicit Clone3Spawner(Options options) : options_(std::move(options)) {}

    Result<SpawnedProcess> spawn(const SpawnRequest& request) override;

  private:
    Options options_;
};

// Waits for the process to exit and reaps it: the exit code, or 128+signal when it
// was killed by a signal. EINTR is retried.
Result<int> waitExit(const SpawnedProcess& process);

// Sends `signal` through the pidfd (no pid-reuse race), or by pid when there is none.
Result<void> sendSignal(const SpawnedProcess& process, int signal);

}  // namespace gov::runtime
