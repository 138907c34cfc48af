#include "gov/daemon/ExecService.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "gov/LogText.hpp"
#include "gov/core/Plan.hpp"
#include "gov/core/Queries.hpp"

namespace gov::daemon {

using namespace gov::core;  // exec is a service over the core

struct ExecService::Running {
    std::string group;
    std::string className;
    uid_t owner = 0;
    std::string requester;
    // Its pidfd is owned by `watcher` (pid-based calls are safe meanwhile: the
    // process is our unreaped child, its pid cannot be reused).
    runtime::SpawnedProcess process;
    std::unique_ptr<boost::asio::posix::stream_descriptor> watcher;
};

// An exec whose child has not reported yet (the copying clone).
struct ExecService::Pending {
    std::string group;
    std::string className;
    std::string command;
    Caller caller;
    std::string requester;
    // The caller's audit identity, for the log: the workload gets the loginuid but
    // a session of its own (the kernel allocates one).
    std::string audit;
    runtime::PendingSpawn spawn;
    Reply reply;
    // Watches a duplicate of the report fd (the descriptor owns what it is given).
    std::unique_ptr<boost::asio::posix::stream_descriptor> report;
    std::unique_ptr<boost::asio::steady_timer> deadline;
};

namespace {

void count(Governor& governor, const std::string& className, const char* outcome) {
    ++governor.stats().execs[{className, outcome}];
}

std::string baseName(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool readableNow(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    int r;
    do {
        r = ::poll(&p, 1, 0);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

}  // namespace

ExecService::ExecService(boost::asio::io_context& io, Governor& governor,
                         runtime::ProcessSpawner& spawner)
    : io_(io), governor_(governor), spawner_(spawner), readAttributes_([](const Caller& c) {
          return runtime::readProcessAttributes(c.pid, c.uid);
      }) {}

ExecService::~ExecService() {
    stop();
}

void ExecService::stop() {
    boost::system::error_code ignored;
    for (auto& [group, r] : running_) {
        if (r->watcher)
            r->watcher->cancel(ignored);
    }
    for (auto& [group, p] : pending_) {
        if (p->report)
            p->report->cancel(ignored);
        if (p->deadline)
            p->deadline->cancel();
    }
}

void ExecService::exec(const ExecRequest& request, const Caller& caller, Reply reply) {
    const std::string command = request.argv.empty() ? std::string() : request.argv.front();
    auto allowed = authorizeExec(governor_.policy(), request.className, caller);
    if (!allowed) {
        const bool unknown = serviceCode(allowed.error()) == int(ServiceErrc::UnknownClass);
        // An unknown class is not counted under its (client-chosen) name: that
        // would grow the metric's label set without bound.
        count(governor_, unknown ? std::string() : request.className,
              unknown ? "unknown_class" : "denied");
        spdlog::warn("exec {} refused: {}", logQuoted(command),
                     logEscaped(serviceMessage(allowed.error())));
        reply(std::move(allowed).error());
        return;
    }
    if (command.empty()) {
        count(governor_, request.className, "error");
        reply(serviceError(ServiceErrc::InvalidArgument, "exec: empty command line"));
        return;
    }
    if (!request.cwd.empty() && request.cwd.front() != '/') {
        // It would be taken relative to the daemon's own working directory.
        count(governor_, request.className, "error");
        reply(serviceError(
            ServiceErrc::InvalidArgument,
            "exec: the working directory must be an absolute path, not " + logQuoted(request.cwd)));
        return;
    }
    // Never more than the caller: what its process may pass on, from the kernel.
    auto attributes = readAttributes_(caller);
    if (!attributes) {
        count(governor_, request.className, "error");
        reply(serviceError(ServiceErrc::Denied,
                           "exec: cannot read what the calling process may do (" +
                               attributes.error().message() + ")"));
        return;
    }
    const auto* cls = governor_.policy().find(request.className);

    // A group made under a frozen class slice is born frozen: the child would
    // never reach its exec. The slice's cgroup.freeze is what decides (a frozen
    // ancestor of the root would have frozen governord itself, which lives there).
    const std::string slice = sliceGroup(request.className);
    auto freeze = governor_.fs().read(slice, "cgroup.freeze");
    if (!freeze) {
        count(governor_, request.className, "error");
        reply(std::move(freeze).error().wrap("exec into class " + request.className));
        return;
    }
    if (freeze->rfind('1', 0) == 0) {
        count(governor_, request.className, "error");
        reply(serviceError(ServiceErrc::Frozen, "class " + request.className +
                                                    " is frozen: thaw it (govctl thaw " +
                                                    request.className + ") to exec into it"));
        return;
    }
    auto group = governor_.createWorkloadGroup(request.className, baseName(command));
    if (!group) {
        count(governor_, request.className, "error");
        reply(std::move(group).error().wrap("exec into class " + request.className));
        return;
    }
    auto dir = governor_.fs().openGroup(*group);
    if (!dir) {
        governor_.discardWorkloadGroup(*group);
        count(governor_, request.className, "error");
        reply(std::move(dir).error());
        return;
    }

    runtime::SpawnRequest spawn;
    spawn.argv = request.argv;
    spawn.env = request.env;
    spawn.cgroupFd = dir->get();
    spawn.namespaces = cls->namespaces;
    // Always drop to the caller's identity, root included: the supplementary
    // groups become exactly the caller's, never the daemon's.
    spawn.uid = caller.uid;
    spawn.gid = caller.gid;
    spawn.groups = caller.groups;
    std::string audit;
    if (attributes->loginUid) {
        audit = " (audit loginuid " + std::to_string(*attributes->loginUid);
        if (attributes->sessionId)
            audit += ", session " + std::to_string(*attributes->sessionId);
        audit += ")";
    }
    spawn.attributes = std::move(*attributes);
    spawn.stdinFd = request.stdinFd;
    spawn.stdoutFd = request.stdoutFd;
    spawn.stderrFd = request.stderrFd;
    spawn.cwd = request.cwd.empty() ? "/" : request.cwd;
    // Its own session and process group: signals for the daemon's group never
    // reach it, and a forwarded Ctrl-C reaches the whole job, as in a shell. A
    // terminal on stdin (govctl's pseudo-terminal) becomes its controlling one.
    spawn.newSession = true;
    spawn.controllingTerminal = request.stdinFd >= 0 && ::isatty(request.stdinFd) == 1;

    auto started = spawner_.start(spawn);
    if (!started) {
        reply(spawnFailed(*group, request.className, command, std::move(started).error()));
        return;
    }
    auto p = std::make_unique<Pending>();
    p->group = *group;
    p->className = request.className;
    p->command = command;
    p->caller = caller;
    p->requester = request.requester;
    p->audit = std::move(audit);
    p->spawn = std::move(*started);
    p->reply = std::move(reply);
    Pending& ref = *p;
    pending_[*group] = std::move(p);
    if (readableNow(ref.spawn.report.get())) {
        // Exec'd already (the shared-memory clone returns after the exec).
        complete(*group);
        return;
    }
    // The copying clone: wait on the loop, bounded.
    const int dup = ::fcntl(ref.spawn.report.get(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
        // Cannot wait on the loop: wait here, as briefly as the bound allows.
        const std::string g = *group;
        struct pollfd pfd = {ref.spawn.report.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(execTimeout_.count())) > 0)
            complete(g);
        else
            expire(g);
        return;
    }
    ref.report = std::make_unique<boost::asio::posix::stream_descriptor>(io_, dup);
    ref.deadline = std::make_unique<boost::asio::steady_timer>(io_);
    const std::string g = *group;
    ref.report->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, g](const boost::system::error_code& ec) {
                               if (!ec)
                                   complete(g);
                           });
    ref.deadline->expires_after(execTimeout_);
    ref.deadline->async_wait([this, g](const boost::system::error_code& ec) {
        if (!ec)
            expire(g);
    });
}

Error ExecService::spawnFailed(const std::string& group, const std::string& className,
                               const std::string& command, Error err) {
    governor_.discardWorkloadGroup(group);
    const int code = err.code().value();
    const bool isExecStep =
        err.context().rfind("exec ", 0) == 0 && err.code().category() == std::system_category();
    if (isExecStep && code == ENOENT) {
        count(governor_, className, "not_found");
        return serviceError(ServiceErrc::CommandNotFound, command + ": command not found");
    }
    count(governor_, className, "error");
    if (isExecStep && (code == EACCES || code == ENOEXEC || code == EISDIR)) {
        return serviceError(ServiceErrc::CannotExecute,
                            command + ": cannot execute: " + err.reason());
    }
    return err;
}

void ExecService::complete(const std::string& group) {
    auto it = pending_.find(group);
    if (it == pending_.end())
        return;
    std::unique_ptr<Pending> p = std::move(it->second);
    pending_.erase(it);
    if (p->deadline)
        p->deadline->cancel();
    auto process = spawner_.finish(p->spawn);
    if (!process) {
        p->reply(spawnFailed(p->group, p->className, p->command, std::move(process).error()));
        return;
    }
    // The reply first, then the watch: the exit report follows the reply.
    p->reply(started(*p, std::move(*process)));
    if (auto r = running_.find(p->group); r != running_.end())
        watch(*r->second);
}

void ExecService::expire(const std::string& group) {
    auto it = pending_.find(group);
    if (it == pending_.end())
        return;
    std::unique_ptr<Pending> p = std::move(it->second);
    pending_.erase(it);
    if (p->report) {
        boost::system::error_code ignored;
        p->report->cancel(ignored);
    }
    const pid_t pid = p->spawn.process.pid;
    spawner_.abandon(p->spawn);
    governor_.discardWorkloadGroup(p->group);
    count(governor_, p->className, "error");
    spdlog::warn(
        "exec {} for {} in {}: pid {} did not reach exec within {} ms (stopped or "
        "frozen?); killed",
        logQuoted(p->command), describeCaller(p->caller), p->group, pid, execTimeout_.count());
    p->reply(Error::withReason("spawn " + p->command,
                               "the child did not reach exec within " +
                                   std::to_string(execTimeout_.count()) +
                                   " ms (stopped or frozen?)",
                               std::errc::timed_out));
}

Result<ExecStarted> ExecService::started(Pending& p, runtime::SpawnedProcess process) {
    governor_.markPopulated(p.group);
    count(governor_, p.className, "ok");
    auto r = std::make_unique<Running>();
    r->group = p.group;
    r->className = p.className;
    r->owner = p.caller.uid;
    r->requester = p.requester;
    r->process = std::move(process);
    ExecStarted out{r->group, r->process.pid};
    // Logged once the reply is on its way: naming the caller looks up its user
    // (NSS), which the caller need not wait for.
    boost::asio::post(io_, [command = p.command, caller = p.caller, audit = p.audit,
                            group = r->group, pid = r->process.pid] {
        spdlog::info("exec {} as {}{} in {}: pid {}", logQuoted(command), describeCaller(caller),
                     audit, group, pid);
    });
    running_[r->group] = std::move(r);
    return out;
}

void ExecService::watch(Running& r) {
    if (!r.process.pidfd.valid()) {
        // No pidfd (old kernel fallback): nothing to wait on in the loop. Not
        // expected on the kernels Governor supports (5.7+ has both).
        spdlog::error("exec {}: no pidfd for pid {}; its exit will not be reported", r.group,
                      r.process.pid);
        return;
    }
    // The descriptor takes the pidfd itself (nothing to duplicate, nothing that
    // can fail): reaping and signalling go by pid from here on.
    r.watcher =
        std::make_unique<boost::asio::posix::stream_descriptor>(io_, r.process.pidfd.release());
    std::string group = r.group;
    // A pidfd becomes readable when the process exits.
    r.watcher->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this, group](const boost::system::error_code& ec) {
                              if (ec)
                                  return;  // cancelled (stop)
                              reapExited(group);
                          });
}

void ExecService::reapExited(const std::string& group) {
    auto it = running_.find(group);
    if (it == running_.end())
        return;
    Running& r = *it->second;
    auto reaped = spawner_.reap(r.process);
    if (reaped && !*reaped) {
        // Readable but not yet waitable (should not happen): look again.
        r.watcher->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                              [this, group](const boost::system::error_code& ec) {
                                  if (!ec)
                                      reapExited(group);
                              });
        return;
    }
    ExecExit exit;
    exit.group = r.group;
    exit.className = r.className;
    exit.pid = r.process.pid;
    exit.owner = r.owner;
    exit.requester = r.requester;
    if (reaped) {
        exit.status = (*reaped)->status;
        exit.signal = (*reaped)->signal;
    } else {
        spdlog::error("reap pid {} of {}: {}", r.process.pid, group, reaped.error().message());
        exit.status = 255;
    }
    spdlog::info("workload {} pid {} {} {}", exit.group, exit.pid,
                 exit.signal ? "killed by signal" : "exited with",
                 exit.signal ? exit.signal : exit.status);
    running_.erase(it);
    if (onExit)
        onExit(exit);
}

Result<void> ExecService::signal(const std::string& group, int signo, const Caller& caller) {
    auto it = running_.find(group);
    if (it == running_.end())
        return signalAdopted(group, signo, caller);
    Running& r = *it->second;
    if (caller.uid != 0 && caller.uid != r.owner) {
        return serviceError(ServiceErrc::Denied,
                            describeCaller(caller) + " may not signal the workload in " + group);
    }
    if (signo <= 0 || signo >= NSIG) {
        return serviceError(ServiceErrc::InvalidArgument,
                            "signal " + std::to_string(signo) + " is not a valid signal");
    }
    // The main process is our unreaped child, so its pid (and its process group
    // id, it is a session leader) cannot have been reused yet.
    if (::kill(-r.process.pid, signo) == 0)
        return success();
    return runtime::sendSignal(r.process, signo);
}

Result<void> ExecService::signalAdopted(const std::string& group, int signo, const Caller& caller) {
    // A workload group this daemon did not start (a previous daemon did, before a
    // restart, or someone placed it): who exec'd it is not recorded, so each of its
    // processes must be the caller's (root may signal any). Every process gets the
    // signal, as a terminal's Ctrl-C reaches the whole foreground job.
    if (governor_.workloads().count(group) == 0 || pending_.count(group) != 0) {
        return serviceError(ServiceErrc::NoSuchGroup,
                            "no running workload in group '" + group + "'");
    }
    if (signo <= 0 || signo >= NSIG) {
        return serviceError(ServiceErrc::InvalidArgument,
                            "signal " + std::to_string(signo) + " is not a valid signal");
    }
    std::vector<runtime::Fd> targets;
    for (pid_t pid : groupPids(governor_, group)) {
        // Pinned first, checked second: the pidfd cannot come to mean another process.
        runtime::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (!pidfd.valid())
            continue;  // gone meanwhile
        auto ids = readProcIds(pid);
        if (!ids)
            continue;
        if (caller.uid != 0 && ids->uid != caller.uid) {
            return serviceError(ServiceErrc::Denied,
                                describeCaller(caller) + " may not signal the workload in " +
                                    group + " (process " + std::to_string(pid) + " is uid " +
                                    std::to_string(ids->uid) + ")");
        }
        targets.push_back(std::move(pidfd));
    }
    if (targets.empty()) {
        return serviceError(ServiceErrc::NoSuchGroup,
                            "no running workload in group '" + group + "'");
    }
    for (const auto& t : targets)
        (void)::syscall(SYS_pidfd_send_signal, t.get(), signo, nullptr, 0);
    spdlog::info("signal {} to the {} processes of {} (adopted) for {}", signo, targets.size(),
                 group, describeCaller(caller));
    return success();
}

}  // namespace gov::daemon
