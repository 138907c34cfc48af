#include "ExecClient.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "DbusConnection.hpp"
#include "ExitCodes.hpp"
#include "PtyRelay.hpp"
#include "Terminal.hpp"

extern char** environ;

namespace gov::govctl {
namespace {

using wire::BodyReader;
using wire::BodyWriter;
using wire::Message;
using wire::MessageType;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr const char* kNoSuchGroup = dbus::kErrorNoSuchGroup;
constexpr const char* kBusDriver = "org.freedesktop.DBus";

void say(std::FILE* err, const std::string& line) {
    std::fprintf(err, "govctl exec: %s\n", line.c_str());
    std::fflush(err);
}

// In raw mode a line needs its carriage return.
void sayRaw(std::FILE* err, bool raw, const std::string& line) {
    std::fprintf(err, "govctl exec: %s%s", line.c_str(), raw ? "\r\n" : "\n");
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

// Blocks `signals` and returns a signalfd for them: a signal that arrives while
// the call is in flight is kept and handled once the workload exists. The mask is
// inherited by nothing (the daemon spawns the workload).
int blockSignals(const std::vector<int>& signals) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals)
        sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
        return -1;
    return ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// An owned descriptor.
class OwnedFd {
  public:
    explicit OwnedFd(int fd = -1) : fd_(fd) {}
    ~OwnedFd() { reset(); }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    OwnedFd& operator=(OwnedFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_;
};

bool isTerminal(int fd) {
    return ::isatty(fd) == 1;
}

Message call(const std::string& member, const BodyWriter& body) {
    return wire::methodCall(kBusName, kBusObjectPath, kBusInterface, member, body);
}

bool nameIsMissing(const std::string& errorName) {
    return errorName == "org.freedesktop.DBus.Error.ServiceUnknown" ||
           errorName == "org.freedesktop.DBus.Error.NameHasNoOwner";
}

int msUntil(Clock::time_point when, Clock::time_point now) {
    if (when <= now)
        return 0;
    return static_cast<int>(std::chrono::ceil<milliseconds>(when - now).count());
}

// Writes what it can of `data` to `fd` (one write); the count, or -1 with errno.
ssize_t writeSome(int fd, std::string_view data) {
    ssize_t n;
    do {
        n = ::write(fd, data.data(), std::min<size_t>(data.size(), 16384));
    } while (n < 0 && errno == EINTR);
    return n;
}

// The terminal session of one exec, when it has a pseudo-terminal.
struct TerminalSession {
    OwnedFd master;
    int input = 0;  // govctl's stdin
    bool inputIsTerminal = false;
    int output = 1;                    // where the workload's output goes
    std::optional<FdTerminal> caller;  // the caller's terminal (modes, size)
    std::optional<RawMode> raw;
    PtyRelay relay;
};

}  // namespace

int runExec(const ExecLine& line, std::FILE* err) {
    // A pseudo-terminal when govctl's stdin is a terminal (or -t), as ssh does.
    int callerTerminal = -1;  // the first of stdin, stdout, stderr that is a terminal
    for (int fd = 0; fd <= 2 && callerTerminal < 0; ++fd) {
        if (isTerminal(fd))
            callerTerminal = fd;
    }
    const bool usePty =
        line.tty == ExecLine::Tty::Force || (line.tty == ExecLine::Tty::Auto && isTerminal(0));

    std::vector<int> handled(std::begin(kForwarded), std::end(kForwarded));
    if (usePty) {
        // Window changes are copied to the pseudo-terminal; Ctrl-Z of the outer
        // shell (SIGTSTP) restores the terminal before govctl stops.
        handled.insert(handled.end(), {SIGWINCH, SIGTSTP, SIGCONT});
        // A closed output is an error to handle, not a death with a raw terminal.
        std::signal(SIGPIPE, SIG_IGN);
    }
    const int sigFd = blockSignals(handled);
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

    std::optional<TerminalSession> tty;
    OwnedFd slave;
    if (usePty) {
        tty.emplace();
        std::optional<struct termios> modes;
        std::optional<struct winsize> size;
        if (callerTerminal >= 0) {
            tty->caller.emplace(callerTerminal);
            struct termios t {};
            if (tty->caller->getAttributes(t))
                modes = t;
            struct winsize w {};
            if (tty->caller->windowSize(w) && w.ws_row > 0)
                size = w;
        }
        if (!size) {
            struct winsize w {};
            w.ws_row = 24;
            w.ws_col = 80;
            size = w;
        }
        auto pty = openPty(modes, size);
        if (!pty) {
            say(err, pty.error().message());
            return kExitFailed;
        }
        tty->master = OwnedFd(pty->master);
        slave = OwnedFd(pty->slave);
        tty->inputIsTerminal = isTerminal(0);
        // Without -t only terminals are replaced: their output comes back through
        // the master, to the caller's terminal. With -t everything goes through it
        // and comes back on stdout (ssh -tt, docker -t).
        tty->output = 1;
        if (line.tty != ExecLine::Tty::Force && !isTerminal(1))
            tty->output = isTerminal(2) ? 2 : callerTerminal;
    }

    // The workload's stdin, stdout and stderr: ours, the pseudo-terminal's slave
    // in place of our terminals (all three with -t), /dev/null for a closed one (a
    // closed descriptor cannot be sent).
    std::vector<int> fds;
    std::vector<OwnedFd> opened;
    opened.reserve(3);
    for (int fd = 0; fd <= 2; ++fd) {
        if (tty && (line.tty == ExecLine::Tty::Force || isTerminal(fd))) {
            fds.push_back(slave.get());
            continue;
        }
        if (::fcntl(fd, F_GETFD) >= 0) {
            fds.push_back(fd);
            continue;
        }
        opened.emplace_back(
            ::open("/dev/null", fd == 0 ? O_RDONLY | O_CLOEXEC : O_WRONLY | O_CLOEXEC));
        fds.push_back(opened.back().get());
    }
    const std::vector<std::string> env = environment();
    const std::string cwd = currentDir();
    auto execCall = [&] {
        BodyWriter body;
        body.string(line.className)
            .stringArray(line.command)
            .stringArray(env)
            .string(cwd)
            .unixFd(0)
            .unixFd(1)
            .unixFd(2);
        return bus.call(call("Exec", body), fds);
    };

    // A daemon that is restarting (systemd starts it again within seconds) is
    // waited for, a bounded time; any other error is the answer.
    auto reply = execCall();
    const auto restartDeadline = Clock::now() + milliseconds(kRestartWaitMs);
    int backoffMs = 50;
    bool waitedForRestart = false;
    while (reply && reply->type == MessageType::Error && nameIsMissing(reply->errorName) &&
           Clock::now() < restartDeadline) {
        if (!waitedForRestart) {
            say(err, "governord is not on " + where + " (restarting?): waiting up to " +
                         std::to_string(kRestartWaitMs / 1000) + " s for it");
            waitedForRestart = true;
        }
        struct pollfd p = {sigFd, POLLIN, 0};
        if (::poll(&p, 1, std::min(backoffMs, msUntil(restartDeadline, Clock::now()))) > 0) {
            struct signalfd_siginfo si {};
            if (::read(sigFd, &si, sizeof si) == static_cast<ssize_t>(sizeof si) &&
                std::find(std::begin(kForwarded), std::end(kForwarded),
                          static_cast<int>(si.ssi_signo)) != std::end(kForwarded)) {
                say(err, "interrupted while waiting for governord; the command did not start");
                return 128 + static_cast<int>(si.ssi_signo);
            }
        }
        backoffMs = std::min(backoffMs * 2, 500);
        reply = execCall();
    }
    opened.clear();
    // The workload has its own copy: ours must go, or the master would never see
    // the slave closed.
    slave.reset();
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
    BodyReader startedReply(*reply);
    const std::string group = startedReply.string();
    (void)startedReply.uint32();  // the pid
    if (!startedReply.ok() || group.empty()) {
        say(err, "governord's answer to Exec is not (group, pid) but '" + reply->signature + "'");
        return kExitFailed;
    }
    // The daemon is the connection that answered: only it reports the exit (anyone
    // may send us a signal, so the sender is checked), and as long as it owns the
    // daemon's name it has not restarted, however long the report takes.
    const std::string daemon = reply->sender;

    if (tty && tty->inputIsTerminal && tty->caller && tty->caller->fd() == 0) {
        tty->raw.emplace(*tty->caller);
        (void)tty->raw->enter();
    }
    const bool raw = tty && tty->raw && tty->raw->active();

    std::set<uint32_t> forwards;  // SignalWorkload calls whose answer is pending
    uint32_t ownerProbe = 0;      // GetNameOwner, while we believe the daemon is there
    uint32_t groupProbe = 0;      // GetGroup, once it restarted
    bool restarted = false;       // another connection owns the name (or none does)
    bool daemonAway = false;      // nobody owns it right now
    std::optional<int> exitStatus;
    std::optional<int> hangupSignal;  // govctl is leaving (pty): the signal, or SIGHUP
    Clock::time_point hangupDeadline{};
    Clock::time_point lastBus = Clock::now();

    auto forward = [&](int signo) {
        BodyWriter args;
        args.string(group).int32(signo);
        auto sent = bus.send(call("SignalWorkload", args));
        if (sent)
            forwards.insert(*sent);
    };
    // govctl leaves a terminal session: the caller's terminal gets its modes back,
    // and closing the master hangs the pseudo-terminal up, which sends SIGHUP to
    // the workload's session as when any terminal goes away (it ends interactive
    // shells, which ignore SIGTERM and SIGINT). The exit report is waited for a
    // little longer.
    auto hangUp = [&](int signo) {
        if (hangupSignal)
            return;
        hangupSignal = signo;
        if (tty->raw)
            tty->raw->restore();
        tty->relay.hangUp();
        tty->master.reset();
        hangupDeadline = Clock::now() + milliseconds(kHangupWaitMs);
    };
    auto copyWindowSize = [&] {
        struct winsize w {};
        if (tty && tty->caller && tty->master.get() >= 0 && tty->caller->windowSize(w))
            (void)::ioctl(tty->master.get(), TIOCSWINSZ, &w);
    };

    for (;;) {
        while (auto m = bus.next()) {
            lastBus = Clock::now();
            if (m->type == MessageType::Signal) {
                if (m->sender != daemon || m->member != "WorkloadExited" ||
                    m->interface != kBusInterface || m->path != kBusObjectPath)
                    continue;
                BodyReader r(*m);
                const std::string g = r.string();
                (void)r.uint32();
                const int32_t status = r.int32();
                (void)r.int32();
                if (r.ok() && g == group && !exitStatus) {
                    exitStatus = status;
                    if (tty)
                        tty->relay.workloadExited(Clock::now());
                }
                continue;
            }
            if (m->type != MessageType::Error && m->type != MessageType::MethodReturn)
                continue;
            if (forwards.erase(m->replySerial) > 0) {
                // A workload already gone (its exit is on the way) is not an error.
                if (m->type == MessageType::Error && m->errorName != kNoSuchGroup) {
                    sayRaw(err, raw && !hangupSignal,
                           "forward signal: " +
                               describeError(m->errorName, wire::errorMessage(*m), where));
                }
                continue;
            }
            if (ownerProbe != 0 && m->replySerial == ownerProbe) {
                ownerProbe = 0;
                std::string owner;
                if (m->type == MessageType::MethodReturn) {
                    BodyReader r(*m);
                    owner = r.string();
                }
                if (owner == daemon)
                    continue;  // the same daemon: no restart, keep waiting
                restarted = true;
                daemonAway = owner.empty();
                sayRaw(err, raw && !hangupSignal,
                       daemonAway ? "governord went away while " + group +
                                        " runs; waiting for it to come back (the workload "
                                        "keeps running)"
                                  : "governord restarted while " + group +
                                        " runs; its exit status will not be known");
                continue;
            }
            if (groupProbe != 0 && m->replySerial == groupProbe) {
                groupProbe = 0;
                if (m->type == MessageType::MethodReturn) {
                    if (daemonAway)
                        sayRaw(err, raw && !hangupSignal,
                               "governord is back; still waiting for " + group);
                    daemonAway = false;
                } else if (m->errorName == kNoSuchGroup) {
                    if (tty && tty->raw)
                        tty->raw->restore();
                    say(err, group +
                                 " has ended, but governord restarted while it ran: its exit "
                                 "status is unknown");
                    return kExitFailed;
                } else if (isUnreachableError(m->errorName) && !daemonAway) {
                    daemonAway = true;
                    sayRaw(err, raw && !hangupSignal,
                           "governord went away while " + group +
                               " runs; waiting for it to come back (the workload keeps "
                               "running)");
                }
            }
        }

        const auto now = Clock::now();
        if (exitStatus && (!tty || tty->relay.finished(now))) {
            if (tty && tty->raw)
                tty->raw->restore();
            return *exitStatus;
        }
        if (hangupSignal && now >= hangupDeadline)
            return exitStatus.value_or(128 + *hangupSignal);

        // Quiet on the bus for a while: is the daemon that answered still there?
        const auto idleCheck = lastBus + milliseconds(kIdleCheckMs);
        if (now >= idleCheck && ownerProbe == 0 && groupProbe == 0) {
            Result<uint32_t> sent = 0u;
            if (!restarted) {
                BodyWriter name;
                name.string(kBusName);
                sent = bus.send(wire::methodCall(kBusDriver, "/org/freedesktop/DBus", kBusDriver,
                                                 "GetNameOwner", name));
                if (sent)
                    ownerProbe = *sent;
            } else {
                BodyWriter target;
                target.string(group);
                sent = bus.send(call("GetGroup", target));
                if (sent)
                    groupProbe = *sent;
            }
            if (!sent) {
                if (tty && tty->raw)
                    tty->raw->restore();
                say(err, "lost the bus while waiting for " + group +
                             " (its exit status is unknown): " + sent.error().message());
                return kExitUnreachable;
            }
            lastBus = now;
        }

        // What to wait for.
        struct pollfd p[5];
        int n = 0;
        p[n++] = {bus.fd(), POLLIN, 0};
        p[n++] = {sigFd, POLLIN, 0};
        int inputAt = -1, masterAt = -1, outputAt = -1;
        int timeout = msUntil(lastBus + milliseconds(kIdleCheckMs), now);
        if (hangupSignal)
            timeout = std::min(timeout, msUntil(hangupDeadline, now));
        if (tty && !hangupSignal) {
            PtyRelay& relay = tty->relay;
            if (relay.wantInput()) {
                inputAt = n;
                p[n++] = {tty->input, POLLIN, 0};
            }
            const short masterEvents = static_cast<short>((relay.wantMasterRead() ? POLLIN : 0) |
                                                          (relay.wantMasterWrite() ? POLLOUT : 0));
            if (masterEvents != 0 && tty->master.get() >= 0) {
                masterAt = n;
                p[n++] = {tty->master.get(), masterEvents, 0};
            }
            if (relay.wantOutputWrite()) {
                outputAt = n;
                p[n++] = {tty->output, POLLOUT, 0};
            }
            if (auto d = relay.deadline())
                timeout = std::min(timeout, msUntil(*d, now));
        }
        const int r = ::poll(p, static_cast<nfds_t>(n), timeout);
        if (r < 0 && errno != EINTR) {
            if (tty && tty->raw)
                tty->raw->restore();
            say(err, std::string("poll: ") + std::strerror(errno));
            return kExitFailed;
        }
        if (r <= 0)
            continue;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            auto read = bus.readAvailable();
            if (!read) {
                if (tty && tty->raw)
                    tty->raw->restore();
                say(err, "lost the bus while waiting for " + group +
                             " (its exit status is unknown): " + read.error().message());
                return kExitUnreachable;
            }
        }
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si {};
            while (::read(sigFd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                const int signo = static_cast<int>(si.ssi_signo);
                if (signo == SIGWINCH) {
                    copyWindowSize();
                } else if (signo == SIGTSTP) {
                    // Stop as the shell asked, with its terminal as it left it.
                    if (tty->raw)
                        tty->raw->suspend();
                    ::kill(::getpid(), SIGSTOP);
                    if (tty->raw)
                        tty->raw->resume();
                    copyWindowSize();
                } else if (signo == SIGCONT) {
                    // Continued after a stop we did not see coming (SIGSTOP): the
                    // shell may have put its own modes back.
                    if (tty->raw && tty->raw->active())
                        tty->raw->reassert();
                } else {
                    forward(signo);
                    if (tty)
                        hangUp(signo);
                }
            }
        }
        if (!tty || hangupSignal)
            continue;
        PtyRelay& relay = tty->relay;
        const auto at = Clock::now();
        if (inputAt >= 0 && (p[inputAt].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[16384];
            ssize_t got;
            do {
                got = ::read(tty->input, buf, sizeof buf);
            } while (got < 0 && errno == EINTR);
            if (got > 0) {
                relay.input(std::string_view(buf, static_cast<size_t>(got)));
            } else if (tty->inputIsTerminal) {
                // Our terminal is gone (the window closed, ssh dropped).
                hangUp(SIGHUP);
                continue;
            } else {
                // A file or pipe has ended: an end of file for a terminal reader.
                std::optional<char> eof;
                struct termios t {};
                if (::tcgetattr(tty->master.get(), &t) == 0 && (t.c_lflag & ICANON))
                    eof = static_cast<char>(t.c_cc[VEOF]);
                relay.inputEnded(eof);
            }
        }
        if (masterAt >= 0) {
            const short ev = p[masterAt].revents;
            if (ev & (POLLIN | POLLHUP | POLLERR)) {
                char buf[16384];
                const ssize_t got = ::read(tty->master.get(), buf, sizeof buf);
                if (got > 0)
                    relay.masterOutput(std::string_view(buf, static_cast<size_t>(got)), at);
                else if (got == 0 || (errno != EAGAIN && errno != EINTR))
                    relay.masterEnded();  // EIO: every holder of the slave closed it
            }
            if ((ev & POLLOUT) && relay.wantMasterWrite()) {
                const ssize_t put = writeSome(tty->master.get(), relay.toMaster());
                if (put > 0)
                    relay.masterWritten(static_cast<size_t>(put));
                else if (put < 0 && errno != EAGAIN)
                    relay.masterEnded();
            }
        }
        if (outputAt >= 0 && (p[outputAt].revents & (POLLOUT | POLLHUP | POLLERR)) &&
            relay.wantOutputWrite()) {
            const ssize_t put = writeSome(tty->output, relay.toOutput());
            if (put > 0) {
                relay.outputWritten(static_cast<size_t>(put));
            } else if (put < 0 && errno != EAGAIN) {
                relay.outputFailed();
                if (!exitStatus)
                    hangUp(SIGHUP);
            }
        }
    }
}

}  // namespace gov::govctl
