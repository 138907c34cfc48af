#include "gov/runtime/Criu.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "gov/runtime/Fd.hpp"
#include "gov/runtime/Spawner.hpp"
#include "rpc.pb-c.h"

namespace gov::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Everything one criu swrk process needs: its socket, its captured stderr, itself.
struct Session {
    Fd socket;
    Fd stderrMemfd;
    SpawnedProcess process;
};

Result<Session> startSwrk(const std::string& program, const std::string& context, int cgroupFd) {
    int sv[2];
    // SOCK_SEQPACKET: one message per request/response, as CRIU expects.
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        return Error::fromErrno(context + ": socketpair");
    }
    Fd ours(sv[0]);
    Fd theirs(sv[1]);
    Fd devNull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devNull.valid()) {
        return Error::fromErrno(context + ": open /dev/null");
    }
    // CRIU's early messages (before its log file is open) go to its stderr: kept in
    // memory so an error can quote them.
    Fd err(::memfd_create("criu-stderr", MFD_CLOEXEC));
    if (!err.valid()) {
        return Error::fromErrno(context + ": memfd_create");
    }
    SpawnRequest req;
    // The socket becomes criu's stdin: `criu swrk 0` (only 0..2 survive the spawn).
    req.argv = {program, "swrk", "0"};
    req.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    req.cgroupFd = cgroupFd;
    req.stdinFd = theirs.get();
    req.stdoutFd = devNull.get();
    req.stderrFd = err.get();
    Clone3Spawner spawner;
    auto spawned = spawner.spawn(req);
    if (!spawned) {
        return std::move(spawned).error().wrap(context);
    }
    return Session{std::move(ours), std::move(err), std::move(*spawned)};
}

std::string stderrText(const Session& s) {
    std::string text;
    char buf[4096];
    off_t off = 0;
    for (;;) {
        ssize_t n = ::pread(s.stderrMemfd.get(), buf, sizeof buf, off);
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<size_t>(n));
        off += n;
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

// Ends the session: on success criu exits by itself after answering; otherwise (or
// when it does not) it is killed. Always reaped.
void finish(Session& s, bool kill) {
    if (kill) {
        (void)sendSignal(s.process, SIGKILL);
    }
    s.socket.reset();  // criu sees EOF and exits if it is waiting for more
    (void)waitExit(s.process);
}

struct RespDeleter {
    void operator()(CriuResp* r) const { criu_resp__free_unpacked(r, nullptr); }
};
using RespPtr = std::unique_ptr<CriuResp, RespDeleter>;

Result<void> sendReq(Session& s, const CriuReq& req, const std::string& context) {
    std::vector<uint8_t> buf(criu_req__get_packed_size(&req));
    criu_req__pack(&req, buf.data());
    ssize_t n = ::send(s.socket.get(), buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n < 0) {
        return Error::fromErrno(context + ": send the request to criu");
    }
    if (static_cast<size_t>(n) != buf.size()) {
        return Error::withReason(context, "short send of the request to criu", std::errc::io_error);
    }
    return success();
}

// Reads one response, waiting until `deadline`.
Result<RespPtr> recvResp(Session& s, Clock::time_point deadline, const std::string& context) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return Error::withReason(context, "criu did not answer in time (killed)",
                                     std::errc::timed_out);
        }
        pollfd pfd{s.socket.get(), POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
        if (r < 0 && errno != EINTR) {
            return Error::fromErrno(context + ": poll the criu socket");
        }
        if (r <= 0) {
            continue;
        }
        // The message's size first (MSG_TRUNC with MSG_PEEK reports the real length).
        char probe;
        ssize_t size = ::recv(s.socket.get(), &probe, 1, MSG_PEEK | MSG_TRUNC);
        if (size < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Error::fromErrno(context + ": receive criu's answer");
        }
        if (size == 0) {
            std::string err = stderrText(s);
            return Error::withReason(
                context, "criu exited without answering" + (err.empty() ? "" : ": " + err),
                std::errc::io_error);
        }
        std::vector<uint8_t> buf(static_cast<size_t>(size));
        ssize_t n = ::recv(s.socket.get(), buf.data(), buf.size(), 0);
        if (n != size) {
            return Error::fromErrno(context + ": receive criu's answer");
        }
        CriuResp* resp = criu_resp__unpack(nullptr, buf.size(), buf.data());
        if (resp == nullptr) {
            return Error::withReason(context, "criu's answer does not decode", std::errc::io_error);
        }
        return RespPtr(resp);
    }
}

// One request and its final response. NOTIFY messages (only sent when asked for)
// are acknowledged and skipped.
Result<RespPtr> call(Session& s, const CriuReq& req, std::chrono::milliseconds timeout,
                     const std::string& context) {
    const auto deadline = Clock::now() + timeout;
    GOV_TRY(sendReq(s, req, context));
    for (;;) {
        auto resp = recvResp(s, deadline, context);
        if (!resp) {
            return resp;
        }
        if ((*resp)->type != CRIU_REQ_TYPE__NOTIFY) {
            if ((*resp)->type != req.type) {
                return Error::withReason(context, "criu answered another request type",
                                         std::errc::protocol_error);
            }
            return resp;
        }
        CriuReq ack = CRIU_REQ__INIT;
        ack.type = CRIU_REQ_TYPE__NOTIFY;
        ack.has_notify_success = 1;
        ack.notify_success = 1;
        GOV_TRY(sendReq(s, ack, context));
    }
}

std::string readLog(int dirFd, const std::string& name) {
    Fd fd(::openat(dirFd, name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return "";
    }
    std::string text;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

// The error for a response with success == false.
Error failure(const CriuResp& resp, const std::string& context, int dirFd,
              const std::string& logFile) {
    std::string why;
    if (resp.cr_errmsg != nullptr && resp.cr_errmsg[0] != '\0') {
        why = resp.cr_errmsg;
    }
    if (why.empty() && dirFd >= 0 && !logFile.empty()) {
        why = lastCriuError(readLog(dirFd, logFile));
    }
    if (why.empty() && resp.has_cr_errno && resp.cr_errno != 0) {
        why = std::error_code(resp.cr_errno, std::system_category()).message();
    }
    if (why.empty()) {
        why = "criu reported a failure";
    }
    // CRIU's messages end with a newline.
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
        why.pop_back();
    }
    if (!logFile.empty()) {
        why += " (log: " + logFile + ")";
    }
    int err = resp.has_cr_errno && resp.cr_errno != 0 ? resp.cr_errno : EIO;
    return Error::withReason(context, why, static_cast<std::errc>(err));
}

// Runs one request in a fresh criu swrk and returns the final response (success or
// not: the caller interprets it).
Result<RespPtr> runRequest(const Criu::Options& options, const CriuReq& req, int cgroupFd,
                           const std::string& context) {
    auto session = startSwrk(options.program, context, cgroupFd);
    if (!session) {
        return std::move(session).error();
    }
    auto resp = call(*session, req, options.requestTimeout, context);
    finish(*session, !resp.ok());
    return resp;
}

}  // namespace

std::string CriuVersion::text() const {
    std::string t = std::to_string(major) + "." + std::to_string(minor);
    if (sublevel > 0) {
        t += "." + std::to_string(sublevel);
    }
    return t;
}

std::string lastCriuError(const std::string& logText) {
    size_t pos = logText.rfind("Error (");
    if (pos == std::string::npos) {
        return "";
    }
    size_t end = logText.find('\n', pos);
    std::string line =
        logText.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    return line;
}

Result<CriuVersion> Criu::version() const {
    const std::string context = "criu version";
    CriuReq req = CRIU_REQ__INIT;
    req.type = CRIU_REQ_TYPE__VERSION;
    auto resp = runRequest(options_, req, -1, context);
    if (!resp) {
        return std::move(resp).error();
    }
    if (!(*resp)->success || (*resp)->version == nullptr) {
        return failure(**resp, context, -1, "");
    }
    CriuVersion v;
    v.major = (*resp)->version->major_number;
    v.minor = (*resp)->version->minor_number;
    v.sublevel = (*resp)->version->has_sublevel ? (*resp)->version->sublevel : 0;
    return v;
}

Result<void> Criu::check() const {
    const std::string context = "criu check";
    CriuReq req = CRIU_REQ__INIT;
    req.type = CRIU_REQ_TYPE__CHECK;
    auto resp = runRequest(options_, req, -1, context);
    if (!resp) {
        return std::move(resp).error();
    }
    if (!(*resp)->success) {
        return failure(**resp, context, -1, "");
    }
    return success();
}

Result<void> Criu::dump(const CriuDumpOptions& o) const {
    const std::string context = "criu dump of pid " + std::to_string(o.pid);
    CriuOpts opts = CRIU_OPTS__INIT;
    opts.images_dir_fd = o.imagesDirFd;
    opts.has_pid = 1;
    opts.pid = o.pid;
    opts.has_leave_running = 1;
    opts.leave_running = o.leaveRunning;
    opts.has_ext_unix_sk = 1;
    opts.ext_unix_sk = o.externalUnixSockets;
    opts.has_log_level = 1;
    opts.log_level = o.logLevel;
    std::string logFile = o.logFile;
    opts.log_file = logFile.data();
    std::string freeze = o.freezeCgroup;
    if (!freeze.empty()) {
        opts.freeze_cgroup = freeze.data();
    }
    if (o.timeoutSeconds > 0) {
        opts.has_timeout = 1;
        opts.timeout = o.timeoutSeconds;
    }
    // Cgroups are Governor's business: nothing of them goes into the image, so a
    // restore never recreates or joins the old group.
    opts.has_manage_cgroups_mode = 1;
    opts.manage_cgroups_mode = CRIU_CG_MODE__IGNORE;
    std::vector<std::string> external = o.external;
    std::vector<char*> externalPtrs;
    for (auto& e : external) {
        externalPtrs.push_back(e.data());
    }
    opts.n_external = externalPtrs.size();
    opts.external = externalPtrs.empty() ? nullptr : externalPtrs.data();
    CriuReq req = CRIU_REQ__INIT;
    req.type = CRIU_REQ_TYPE__DUMP;
    req.opts = &opts;
    auto resp = runRequest(options_, req, -1, context);
    if (!resp) {
        return std::move(resp).error();
    }
    if (!(*resp)->success) {
        return failure(**resp, context, o.imagesDirFd, o.logFile);
    }
    return success();
}

Result<pid_t> Criu::restore(const CriuRestoreOptions& o, int cgroupFd) const {
    const std::string context = "criu restore";
    CriuOpts opts = CRIU_OPTS__INIT;
    opts.images_dir_fd = o.imagesDirFd;
    opts.has_log_level = 1;
    opts.log_level = o.logLevel;
    std::string logFile = o.logFile;
    opts.log_file = logFile.data();
    // The tasks stay in the group criu was born in (see the header).
    opts.has_manage_cgroups_mode = 1;
    opts.manage_cgroups_mode = CRIU_CG_MODE__IGNORE;
    // criu's stdout (fd 1 in criu) is /dev/null: each lost resource is given that.
    std::vector<std::string> keys = o.inheritNull;
    std::vector<InheritFd> inherit(keys.size());
    std::vector<InheritFd*> inheritPtrs;
    for (size_t i = 0; i < keys.size(); ++i) {
        inherit[i] = INHERIT_FD__INIT;
        inherit[i].key = keys[i].data();
        inherit[i].fd = 1;
        inheritPtrs.push_back(&inherit[i]);
    }
    opts.n_inherit_fd = inheritPtrs.size();
    opts.inherit_fd = inheritPtrs.empty() ? nullptr : inheritPtrs.data();
    CriuReq req = CRIU_REQ__INIT;
    req.type = CRIU_REQ_TYPE__RESTORE;
    req.opts = &opts;
    auto resp = runRequest(options_, req, cgroupFd, context);
    if (!resp) {
        return std::move(resp).error();
    }
    if (!(*resp)->success || (*resp)->restore == nullptr) {
        return failure(**resp, context, o.imagesDirFd, o.logFile);
    }
    return static_cast<pid_t>((*resp)->restore->pid);
}

}  // namespace gov::runtime
