// The exec service: runs a command for a bus caller in a fresh workload group of a
// class, and reports its exit. Plain C++ over Governor and a ProcessSpawner; the
// D-Bus adaptor only unpacks the call, fills the Caller from the bus credentials
// and maps errors.
//
// exec():
// - authorizes the caller against the class (Authorization: root, exec allow-list)
//   before anything else, so that nothing is counted or logged under a class name
//   that is not in the policy;
// - checks the request (a command, an absolute working directory) and that the
//   class is not frozen (a child cloned there could not run to its exec);
// - reads what the caller's process may pass on (ProcessAttributes: limits,
//   priorities, capabilities, no_new_privs, umask, audit loginuid), from the
//   kernel, through the pid in the bus credentials;
// - Governor::createWorkloadGroup() makes the group (workload limits written,
//   watched), then the spawner clones the command directly into it
//   (clone3 CLONE_INTO_CGROUP: no cgroup.procs migration) with the caller's uid,
//   gid, supplementary groups and attributes, the class's namespaces, a new
//   session (stdin becomes its controlling terminal when it is a terminal that
//   no session has), the given stdio fds, environment and cwd;
// - a failed spawn discards the group; the outcome is counted in
//   Governor::stats().execs by (class, outcome).
// The reply comes once the child has exec'd. A child that takes the copying clone
// (another uid: it could be stopped by its user before its exec) is waited for on
// the io_context, at most execTimeout (then it is killed, the exec fails and a
// line is logged): the daemon never blocks on it. Only after the reply has been
// given is the main process watched through its pidfd; when it exits it is reaped
// and onExit runs, so an exit report can never overtake its Exec reply. The group
// itself is reaped by Governor when it empties (final accounting), like any other
// workload group.
//
// Thread safety: none; everything runs on the io_context's one thread.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Authorization.hpp"
#include "gov/core/Governor.hpp"
#include "gov/runtime/ProcessAttributes.hpp"
#include "gov/runtime/Spawner.hpp"

namespace gov::daemon {

struct ExecRequest {
    std::string className;
    std::vector<std::string> argv;  // argv[0]: searched in the PATH of `env` when it has no '/'
    std::vector<std::string> env;   // "K=V", complete
    std::string cwd;                // absolute; empty: "/"
    // Borrowed for the duration of exec() (the child gets copies).
    int stdinFd = -1;
    int stdoutFd = -1;
    int stderrFd = -1;
    // Who is told of the exit (the caller's unique bus name); only it.
    std::string requester;
};

struct ExecStarted {
    std::string group;  // "adhoc.slice/sh-1234-7.scope"
    pid_t pid = -1;
};

struct ExecExit {
    std::string group;
    std::string className;
    pid_t pid = -1;
    uid_t owner = 0;
    std::string requester;  // from the ExecRequest
    int status = 0;         // the exit code, or 128+signal
    int signal = 0;         // the terminating signal, 0 when it exited
};

class ExecService {
  public:
    using Reply = std::function<void(Result<ExecStarted>)>;
    // How the caller's attributes are read (tests replace it).
    using AttributeReader = std::function<Result<runtime::ProcessAttributes>(const core::Caller&)>;

    // `governor` and `spawner` must outlive the service.
    ExecService(boost::asio::io_context& io, core::Governor& governor,
                runtime::ProcessSpawner& spawner);
    ~ExecService();
    ExecService(const ExecService&) = delete;
    ExecService& operator=(const ExecService&) = delete;

    // See the file comment. `reply` runs exactly once: during the call (a refusal,
    // a failure, or a child that has exec'd already) or later from the
    // io_context. Errors: ServiceErrc::UnknownClass, Denied, CommandNotFound,
    // CannotExecute, InvalidArgument, Frozen, or the spawn/cgroup error.
    void exec(const ExecRequest& request, const core::Caller& caller, Reply reply);

    // Sends `signal` to the process group of the workload's main process (it runs
    // in its own session, like a foreground job). Only its owner or root; the
    // workload must still be running (NoSuchGroup otherwise). A workload group this
    // daemon adopted (started before a restart) gets it in each of its processes,
    // when every one of them is the caller's (or the caller is root).
    Result<void> signal(const std::string& group, int signal, const core::Caller& caller);

    // Called once per workload when its main process has exited and been reaped.
    std::function<void(const ExecExit&)> onExit;

    // How long a child may take to reach its exec (default 5 s).
    void setExecTimeout(std::chrono::milliseconds timeout) { execTimeout_ = timeout; }
    void setAttributeReader(AttributeReader reader) { readAttributes_ = std::move(reader); }

    // Workloads whose main process is still running.
    size_t running() const { return running_.size(); }
    // Execs waiting for their child's exec.
    size_t pending() const { return pending_.size(); }

    // Stops watching (the workloads keep running; nobody reaps them until the
    // daemon exits, after which init does). Pending execs get no reply.
    void stop();

  private:
    struct Running;
    struct Pending;
    void complete(const std::string& group);
    void expire(const std::string& group);
    Result<ExecStarted> started(Pending& p, runtime::SpawnedProcess process);
    Error spawnFailed(const std::string& group, const std::string& className,
                      const std::string& command, Error err);
    void watch(Running& r);
    void reapExited(const std::string& group);
    Result<void> signalAdopted(const std::string& group, int signal, const core::Caller& caller);

    boost::asio::io_context& io_;
    core::Governor& governor_;
    runtime::ProcessSpawner& spawner_;
    std::chrono::milliseconds execTimeout_{5000};
    AttributeReader readAttributes_;
    std::map<std::string, std::unique_ptr<Pending>> pending_;
    std::map<std::string, std::unique_ptr<Running>> running_;
};

}  // namespace gov::daemon
