// The exec service: runs a command for a bus caller in a fresh workload group of a
// class, and reports its exit. Plain C++ over Governor and a ProcessSpawner; the
// D-Bus adaptor only unpacks the call, fills the Caller from the bus credentials
// and maps errors.
//
// exec():
// - authorizes the caller against the class (Authorization: root, exec allow-list);
// - Governor::createWorkloadGroup() makes the group (workload limits written,
//   watched), then the spawner clones the command directly into it
//   (clone3 CLONE_INTO_CGROUP: no cgroup.procs migration) with the caller's uid,
//   gid and supplementary groups, the class's namespaces, a new session, the
//   given stdio fds, environment and cwd;
// - a failed spawn discards the group; the outcome is counted in
//   Governor::stats().execs by (class, outcome).
// The main process is then watched through its pidfd on the io_context; when it
// exits it is reaped and onExit runs. The group itself is reaped by Governor when
// it empties (final accounting), like any other workload group.
//
// Thread safety: none; everything runs on the io_context's one thread.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/core/Authorization.hpp"
#include "gov/core/Governor.hpp"
#include "gov/runtime/Spawner.hpp"

namespace gov::daemon {

struct ExecRequest {
    std::string className;
    std::vector<std::string> argv;  // argv[0]: searched in the PATH of `env` when it has no '/'
    std::vector<std::string> env;   // "K=V", complete
    std::string cwd;                // empty: "/"
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
    // `governor` and `spawner` must outlive the service.
    ExecService(boost::asio::io_context& io, core::Governor& governor,
                runtime::ProcessSpawner& spawner);
    ~ExecService();
    ExecService(const ExecService&) = delete;
    ExecService& operator=(const ExecService&) = delete;

    // See the file comment. Errors: ServiceErrc::UnknownClass, Denied,
    // CommandNotFound, CannotExecute, InvalidArgument, or the spawn/cgroup error.
    Result<ExecStarted> exec(const ExecRequest& request, const core::Caller& caller);

    // Sends `signal` to the process group of the workload's main process (it runs
    // in its own session, like a foreground job). Only its owner or root; the
    // workload must still be running (NoSuchGroup otherwise). A workload group this
    // daemon adopted (started before a restart) gets it in each of its processes,
    // when every one of them is the caller's (or the caller is root).
    Result<void> signal(const std::string& group, int signal, const core::Caller& caller);

    // Called once per workload when its main process has exited and been reaped.
    std::function<void(const ExecExit&)> onExit;

    // Workloads whose main process is still running.
    size_t running() const { return running_.size(); }

    // Stops watching (the workloads keep running; nobody reaps them until the
    // daemon exits, after which init does).
    void stop();

  private:
    struct Running;
    void watch(Running& r);
    void reapExited(const std::string& group);
    Result<void> signalAdopted(const std::string& group, int signal, const core::Caller& caller);

    boost::asio::io_context& io_;
    core::Governor& governor_;
    runtime::ProcessSpawner& spawner_;
    std::map<std::string, std::unique_ptr<Running>> running_;
};

}  // namespace gov::daemon
