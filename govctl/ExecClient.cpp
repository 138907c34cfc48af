#include "ExecClient.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "DbusConnection.hpp"
#include "ExitCodes.hpp"

extern char** environ;

namespace gov::govctl {
namespace {

using wire::BodyReader;
using wire::BodyWriter;
using wire::Message;
using wire::MessageType;

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
// How often we check, while waiting, that the daemon and the group are still there.
constexpr int kLivenessCheckMs = 2000;
constexpr const char* kNoSuchGroup = dbus::kErrorNoSuchGroup;

void say(std::FILE* err, const std::string& line) {
    std::fprintf(err, "govctl exec: %s\n", line.c_str());
    std::fflush(err);
}

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

// Our stdin/stdout/stderr for the workload; a closed one becomes /dev/null (a
// closed descriptor cannot be sent).
std::vector<int> stdioFds(std::vector<int>& opened) {
    std::vector<int> fds;
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0) {
            fds.push_back(fd);
            continue;
        }
        const int null = ::open("/dev/null", fd == 0 ? O_RDONLY | O_CLOEXEC : O_WRONLY | O_CLOEXEC);
        if (null >= 0)
            opened.push_back(null);
        fds.push_back(null);
    }
    return fds;
}

Message call(const std::string& member, const BodyWriter& body) {
    return wire::methodCall(kBusName, kBusObjectPath, kBusInterface, member, body);
}

}  // namespace

int runExec(const ExecLine& line, std::FILE* err) {
    const int sigFd = blockForwardedSignals();
    if (sigFd < 0) {
        say(err, std::string("signalfd: ") + std::strerror(errno));
        return kExitFailed;
    }
    const char* custom = std::getenv(kBusAddressEnv);
    const std::string address = custom && *custom ? custom : wire::systemBusAddress();
    const std::string where = busDescription();

    auto connection = wire::Connection::open(address);
    if (!connection) {
        say(err, "governord is not reachable on " + where + ": " + connection.error().message());
        return kExitUnreachable;
    }
    wire::Connection& bus = *connection;

    std::vector<int> opened;
    const std::vector<int> fds = stdioFds(opened);
    BodyWriter body;
    body.string(line.className)
        .stringArray(line.command)
        .stringArray(environment())
        .string(currentDir())
        .unixFd(0)
        .unixFd(1)
        .unixFd(2);
    auto reply = bus.call(call("Exec", body), fds);
    for (int fd : opened)
        ::close(fd);
    if (!reply) {
        say(err, "governord is not reachable on " + where + ": " + reply.error().message());
        return kExitUnreachable;
    }
    if (reply->type == MessageType::Error) {
        if (reply->errorName == "org.freedesktop.DBus.Error.NoReply") {
            // The daemon died (or hung) with the call in hand: it may have started
            // the command already.
            say(err, "governord went away before answering (" + wire::errorMessage(*reply) +
                         "); the command may have started: see `govctl ls " + line.className + "`");
            return kExitUnreachable;
        }
        say(err, describeError(reply->errorName, wire::errorMessage(*reply), where));
        return exitCodeForError(reply->errorName);
    }
    BodyReader started(*reply);
    const std::string group = started.string();
    (void)started.uint32();  // the pid
    if (!started.ok() || group.empty()) {
        say(err, "governord's answer to Exec is not (group, pid) but '" + reply->signature + "'");
        return kExitFailed;
    }
    // Only the daemon that started the workload reports its exit: anyone may send
    // us a signal, so the sender is checked.
    const std::string daemon = reply->sender;

    std::set<uint32_t> forwards;  // SignalWorkload calls whose answer is pending
    uint32_t probe = 0;           // the GetGroup call checking the group, if pending
    bool daemonAway = false;
    for (;;) {
        while (auto m = bus.next()) {
            if (m->type == MessageType::Signal) {
                if (m->sender != daemon || m->member != "WorkloadExited" ||
                    m->interface != kBusInterface || m->path != kBusObjectPath)
                    continue;
                BodyReader r(*m);
                const std::string g = r.string();
                (void)r.uint32();
                const int32_t status = r.int32();
                (void)r.int32();
                if (r.ok() && g == group)
                    return status;
                continue;
            }
            if (m->type != MessageType::Error && m->type != MessageType::MethodReturn)
                continue;
            if (forwards.erase(m->replySerial) > 0) {
                // A workload already gone (its exit is on the way) is not an error.
                if (m->type == MessageType::Error && m->errorName != kNoSuchGroup) {
                    say(err, "forward signal: " +
                                 describeError(m->errorName, wire::errorMessage(*m), where));
                }
                continue;
            }
            if (probe != 0 && m->replySerial == probe) {
                probe = 0;
                if (m->type == MessageType::MethodReturn) {
                    if (daemonAway)
                        say(err, "governord is back; still waiting for " + group);
                    daemonAway = false;
                } else if (m->errorName == kNoSuchGroup) {
                    say(err, group +
                                 " has ended, but governord restarted while it ran: its exit "
                                 "status is unknown");
                    return kExitFailed;
                } else if (isUnreachableError(m->errorName) && !daemonAway) {
                    daemonAway = true;
                    say(err, "governord went away while " + group +
                                 " runs; waiting for it to come back (the workload keeps running)");
                }
            }
        }

        struct pollfd p[2] = {{bus.fd(), POLLIN, 0}, {sigFd, POLLIN, 0}};
        const int r = ::poll(p, 2, kLivenessCheckMs);
        if (r < 0 && errno != EINTR) {
            say(err, std::string("poll: ") + std::strerror(errno));
            return kExitFailed;
        }
        if (r == 0 && probe == 0) {
            BodyWriter target;
            target.string(group);
            auto sent = bus.send(call("GetGroup", target));
            if (!sent) {
                say(err, "lost the bus while waiting for " + group +
                             " (its exit status is unknown): " + sent.error().message());
                return kExitUnreachable;
            }
            probe = *sent;
        }
        if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            auto read = bus.readAvailable();
            if (!read) {
                say(err, "lost the bus while waiting for " + group +
                             " (its exit status is unknown): " + read.error().message());
                return kExitUnreachable;
            }
        }
        if (r > 0 && (p[1].revents & POLLIN)) {
            struct signalfd_siginfo si {};
            while (::read(sigFd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                BodyWriter args;
                args.string(group).int32(static_cast<int32_t>(si.ssi_signo));
                auto sent = bus.send(call("SignalWorkload", args));
                if (sent)
                    forwards.insert(*sent);
            }
        }
    }
}

}  // namespace gov::govctl
