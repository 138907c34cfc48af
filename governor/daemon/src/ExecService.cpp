#include "gov/daemon/ExecService.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "gov/core/Queries.hpp"
#include "gov/runtime/Accounting.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3  // waitid on a pidfd (Linux 5.4); older glibc lacks the constant
#endif

namespace gov::daemon {

using namespace gov::core;  // exec is a service over the core

struct ExecService::Running {
    std::string group;
    std::string className;
    uid_t owner = 0;
    std::string requester;
    runtime::SpawnedProcess process;
    // Watches a duplicate of the pidfd (the descriptor owns what it is given).
    std::unique_ptr<boost::asio::posix::stream_descriptor> watcher;
};

namespace {

void count(Governor& governor, const std::string& className, const char* outcome) {
    ++governor.stats().execs[{className, outcome}];
}

std::string baseName(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

ExecService::ExecService(boost::asio::io_context& io, Governor& governor,
                         runtime::ProcessSpawner& spawner)
    : io_(io), governor_(governor), spawner_(spawner) {}

ExecService::~ExecService() {
    stop();
}

void ExecService::stop() {
    for (auto& [group, r] : running_) {
        if (r->watcher) {
            boost::system::error_code ignored;
            r->watcher->cancel(ignored);
        }
    }
}

Result<ExecStarted> ExecService::exec(const ExecRequest& request, const Caller& caller) {
    if (request.argv.empty() || request.argv.front().empty()) {
        count(governor_, request.className, "error");
        return serviceError(ServiceErrc::InvalidArgument, "exec: empty command line");
    }
    auto allowed = authorizeExec(governor_.policy(), request.className, caller);
    if (!allowed) {
        const bool unknown = serviceCode(allowed.error()) == int(ServiceErrc::UnknownClass);
        // An unknown class is not counted under its (attacker-chosen) name: that
        // would grow the metric's label set without bound.
        count(governor_, unknown ? std::string() : request.className,
              unknown ? "unknown_class" : "denied");
        spdlog::warn("exec {} refused: {}", request.argv.front(), serviceMessage(allowed.error()));
        return std::move(allowed).error();
    }
    const auto* cls = governor_.policy().find(request.className);

    auto group = governor_.createWorkloadGroup(request.className, baseName(request.argv.front()));
    if (!group) {
        count(governor_, request.className, "error");
        return std::move(group).error().wrap("exec into class " + request.className);
    }
    // A group under a frozen class (or a frozen ancestor) is born frozen: the child
    // would never reach exec, and the spawn would wait for it forever.
    auto events = runtime::readEvents(governor_.fs(), *group);
    if (!events || events->frozen) {
        governor_.discardWorkloadGroup(*group);
        count(governor_, request.className, "error");
        if (!events)
            return std::move(events).error().wrap("exec into class " + request.className);
        return serviceError(ServiceErrc::Frozen, "class " + request.className +
                                                     " is frozen: thaw it (govctl thaw " +
                                                     request.className + ") to exec into it");
    }
    auto dir = governor_.fs().openGroup(*group);
    if (!dir) {
        governor_.discardWorkloadGroup(*group);
        count(governor_, request.className, "error");
        return std::move(dir).error();
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
    spawn.stdinFd = request.stdinFd;
    spawn.stdoutFd = request.stdoutFd;
    spawn.stderrFd = request.stderrFd;
    spawn.cwd = request.cwd.empty() ? "/" : request.cwd;
    // Its own session and process group: signals for the daemon's group never
    // reach it, and a forwarded Ctrl-C reaches the whole job, as in a shell.
    spawn.newSession = true;

    auto spawned = spawner_.spawn(spawn);
    if (!spawned) {
        governor_.discardWorkloadGroup(*group);
        Error err = std::move(spawned).error();
        const int code = err.code().value();
        const bool isExecStep =
            err.context().rfind("exec ", 0) == 0 && err.code().category() == std::system_category();
        if (isExecStep && code == ENOENT) {
            count(governor_, request.className, "not_found");
            return serviceError(ServiceErrc::CommandNotFound,
                                request.argv.front() + ": command not found");
        }
        count(governor_, request.className, "error");
        if (isExecStep && (code == EACCES || code == ENOEXEC || code == EISDIR)) {
            return serviceError(ServiceErrc::CannotExecute,
                                request.argv.front() + ": cannot execute: " + err.reason());
        }
        return err;
    }
    governor_.markPopulated(*group);
    count(governor_, request.className, "ok");

    auto r = std::make_unique<Running>();
    r->group = *group;
    r->className = request.className;
    r->owner = caller.uid;
    r->requester = request.requester;
    r->process = std::move(*spawned);
    ExecStarted started{r->group, r->process.pid};
    // Logged once the reply is on its way: naming the caller looks up its user
    // (NSS), which the caller need not wait for.
    boost::asio::post(io_, [command = request.argv.front(), caller, group = r->group,
                            pid = r->process.pid] {
        spdlog::info("exec {} as {} in {}: pid {}", command, describeCaller(caller), group, pid);
    });
    Running& ref = *r;
    running_[r->group] = std::move(r);
    watch(ref);
    return started;
}

void ExecService::watch(Running& r) {
    if (!r.process.pidfd.valid()) {
        // No pidfd (old kernel fallback): nothing to wait on in the loop. Not
        // expected on the kernels Governor supports (5.7+ has both).
        spdlog::error("exec {}: no pidfd for pid {}; its exit will not be reported", r.group,
                      r.process.pid);
        return;
    }
    int dup = ::fcntl(r.process.pidfd.get(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
        spdlog::error("exec {}: dup pidfd: {}", r.group, std::strerror(errno));
        return;
    }
    r.watcher = std::make_unique<boost::asio::posix::stream_descriptor>(io_, dup);
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
    siginfo_t info{};
    int rc;
    do {
        rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(r.process.pidfd.get()),
                      &info, WEXITED | WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        spdlog::error("reap pid {} of {}: {}", r.process.pid, group, std::strerror(errno));
    } else if (info.si_pid == 0) {
        // Readable but not yet waitable (should not happen): look again.
        watch(r);
        return;
    }
    ExecExit exit;
    exit.group = r.group;
    exit.className = r.className;
    exit.pid = r.process.pid;
    exit.owner = r.owner;
    exit.requester = r.requester;
    if (rc == 0 && info.si_code == CLD_EXITED) {
        exit.status = info.si_status;
    } else if (rc == 0) {
        exit.signal = info.si_status;
        exit.status = 128 + info.si_status;
    } else {
        exit.status = 255;
    }
    spdlog::info("workload {} pid {} {} {}", exit.group, exit.pid,
                 exit.signal ? "killed by signal" : "exited with",
                 exit.signal ? exit.signal : exit.status);
    // Our watcher owns its own duplicate: destroying it closes only that.
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
    if (governor_.workloads().count(group) == 0) {
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
