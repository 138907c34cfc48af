// Starting workload processes directly inside their cgroup, in the namespaces of
// their class, with the caller's credentials.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gov/Namespace.hpp"
#include "gov/Result.hpp"
#include "gov/runtime/Fd.hpp"
#include "gov/runtime/ProcessAttributes.hpp"

namespace gov::runtime {

struct SpawnRequest {
    // argv[0] is the command: with a '/', used as is (relative to `cwd` when
    // relative); without, searched in the PATH of `env` (or the default
    // "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"). Both happen
    // in the child after it has dropped to the requested credentials and entered
    // `cwd`, so the answer ("not found", "permission denied") depends only on what
    // that identity may see; it comes back as an error of the spawn.
    std::vector<std::string> argv;
    // The complete environment ("K=V"), passed as is.
    std::vector<std::string> env;
    // A group directory fd (CgroupFs::openGroup): the child starts in that group.
    // -1: the child stays in the caller's group.
    int cgroupFd = -1;
    std::vector<Namespace> namespaces;
    // Credentials to drop to, applied in the order groups, gid, uid. When uid or gid
    // is set, the supplementary groups become exactly `groups` (empty = none).
    // Nothing set: the child keeps the caller's credentials.
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::vector<gid_t> groups;
    // What the workload inherits from the process it runs for (never more than that
    // process has): applied in the child before exec, the ones that need privilege
    // before the credentials are dropped. See ProcessAttributes.hpp and
    // docs/govctl.md. nullopt: the child keeps ours.
    // - rlimits (soft and hard), nice, io priority, umask, oom_score_adj: set to
    //   the given values; where we lack the privilege to grant one (raising our
    //   hard limit without CAP_SYS_RESOURCE, lowering nice without CAP_SYS_NICE,
    //   ...), the child gets ours instead, which is less: never more than given;
    // - scheduling policy: SCHED_BATCH and SCHED_IDLE are set; any other is
    //   SCHED_OTHER (a real-time policy is never given);
    // - audit loginuid: written when it differs from ours (the kernel then gives
    //   the child a new audit session id; no process can choose one);
    // - capabilities: the bounding set is cut to the given one (ours ∩ given);
    //   then after the uid drop effective, permitted, inheritable and ambient are
    //   exactly the given ones (each ∩ the bounding set), so a root caller's
    //   reduced sets stay reduced and an unprivileged one gets no more than it has;
    // - no_new_privs: set when given.
    std::optional<ProcessAttributes> attributes;
    // Duplicated onto 0/1/2 in the child; -1 inherits the caller's.
    int stdinFd = -1;
    int stdoutFd = -1;
    int stderrFd = -1;
    // After setsid and the credential drop, make stdin (a terminal) the child's
    // controlling terminal (TIOCSCTTY, never stealing it: a terminal that is already
    // another session's stays as it is, and the child runs without one).
    bool controllingTerminal = false;
    // chdir in the child after dropping privileges; empty: the caller's cwd.
    std::string cwd;
    // setsid() in the child (a new session and process group).
    bool newSession = false;
    // Called in the parent once the child exists, in its new namespaces, and before
    // it runs anything of the workload (it waits for the parent, as for user
    // namespace id maps), with the child's pid: e.g. to move a veth into its network
    // namespace. An error fails the spawn (the child is killed). Setting it makes
    // the spawn take the copying path.
    std::function<Result<void>(pid_t)> beforeRun;
};

struct SpawnedProcess {
    pid_t pid = -1;  // in the caller's pid namespace
    Fd pidfd;        // CLONE_PIDFD; may be empty on the fork fallback of old kernels
};

// A child that may not have exec'd yet. `report` becomes readable when it has
// (end of file: the exec succeeded) or when it failed before (a failure report).
struct PendingSpawn {
    SpawnedProcess process;
    Fd report;
    // For the messages of finish(): the command and the step details.
    std::string name;
    std::string uid;
    std::string gid;
    std::string cwd;
};

// How a reaped process ended.
struct ExitStatus {
    int status = 0;  // the exit code, or 128+signal
    int signal = 0;  // the terminating signal, 0 when it exited
};

// Spawning behind an interface so the daemon can be tested with a fake
// (tests/support/FakeSpawner.hpp).
class ProcessSpawner {
  public:
    virtual ~ProcessSpawner();
    // Starts the process. Every failure before the child exists is an error here
    // (clone refused, ...); what fails in the child before exec (command not found,
    // credentials not droppable, chdir, namespace setup) is reported by finish().
    virtual Result<PendingSpawn> start(const SpawnRequest& request) = 0;
    // Once `pending.report` is readable: the process, or the child's failure (the
    // child is then reaped and nothing is left), e.g. "exec tcpdump: No such file
    // or directory". Blocks until the report is readable when it is not yet.
    virtual Result<SpawnedProcess> finish(PendingSpawn& pending) = 0;
    // Gives up on a child that has not reported (it is killed and reaped).
    virtual void abandon(PendingSpawn& pending) = 0;
    // The exit of a spawned process, reaped, or nullopt while it runs (no wait).
    virtual Result<std::optional<ExitStatus>> reap(const SpawnedProcess& process) = 0;

    // start(), then wait at most `execTimeout` for the report and finish(); a child
    // that did not report by then is abandoned: "spawn NAME: the child did not
    // reach exec within N ms (stopped or frozen?)".
    Result<SpawnedProcess> spawn(const SpawnRequest& request,
                                 std::chrono::milliseconds execTimeout);
};

// clone3(CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEW*), then in the child only
// async-signal-safe raw syscalls: mount a fresh /proc (pid+mount namespaces), bring
// `lo` up (net namespace), dup2 stdio, apply the inherited attributes, drop
// credentials, take the controlling terminal, chdir, resolve the command, reset
// signal mask and dispositions, execve. Child-side failures come back through a
// close-on-exec pipe (PendingSpawn::report) as (step, errno).
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
// start() returns at once when the child takes the copying clone (another uid, a
// user namespace): the caller waits for `report` on its own loop. A child that
// keeps our uid shares our memory until its exec (vfork-style, see Spawner.cpp),
// so start() returns once it has exec'd or failed.
// Limit: a child killed between clone and exec (e.g. SIGKILLed at birth in a group
// that was killed, see kernel-facts) looks like a successful exec; its exit status
// (137) then tells.
// Thread safety: start() may be called from any one thread at a time.
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

    Result<PendingSpawn> start(const SpawnRequest& request) override;
    Result<SpawnedProcess> finish(PendingSpawn& pending) override;
    void abandon(PendingSpawn& pending) override;
    Result<std::optional<ExitStatus>> reap(const SpawnedProcess& process) override;

    using ProcessSpawner::spawn;
    // ProcessSpawner::spawn() with Options::execTimeout.
    Result<SpawnedProcess> spawn(const SpawnRequest& request) {
        return ProcessSpawner::spawn(request, options_.execTimeout);
    }

  private:
    Options options_;
};

// Waits for the process to exit and reaps it: the exit code, or 128+signal when it
// was killed by a signal. EINTR is retried.
Result<int> waitExit(const SpawnedProcess& process);

// Sends `signal` through the pidfd (no pid-reuse race), or by pid when there is none.
Result<void> sendSignal(const SpawnedProcess& process, int signal);

}  // namespace gov::runtime
