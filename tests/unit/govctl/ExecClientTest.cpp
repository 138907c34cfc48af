// `govctl exec` (the lean binary, GOVCTL_PATH) against a fake governord on a
// private dbus-daemon: the fake owns the daemon's name, answers Exec (keeping the
// descriptors it gets, as the workload would), GetGroup and SignalWorkload, and
// sends WorkloadExited when the test says so; it "restarts" by leaving the bus and
// coming back under a new unique name. govctl runs with pipes, or on a
// pseudo-terminal the test opens (a real terminal for govctl: the test is the
// terminal emulator). No root, no cgroup.
//
// What is checked: the exit status is the workload's however long the report
// takes, a restart is reported as one and nothing else is, a daemon that is not
// on the bus yet is waited for; with a terminal: raw mode while the workload runs
// and the modes restored on every way out, both directions relayed, the window
// size, the output drained after the exit report, -T.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "DbusConnection.hpp"
#include "DbusMessage.hpp"

namespace gov::wire {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kDbusDaemon = "/usr/bin/dbus-daemon";
constexpr const char* kName = "org.governor.Governor1";
constexpr const char* kPath = "/org/governor/Governor1";
constexpr const char* kInterface = "org.governor.Manager1";
constexpr const char* kGroup = "adhoc.slice/fake-1-1.scope";

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred())
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

int decode(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

// A fake governord: a thread with its own connection.
class FakeDaemon {
  public:
    explicit FakeDaemon(std::string address) : address_(std::move(address)) {}
    ~FakeDaemon() { stop(); }

    // Connects and owns the name; false (and `problem`) when it could not.
    std::string problem;
    bool start() {
        auto c = Connection::open(address_);
        if (!c) {
            problem = c.error().message();
            return false;
        }
        connection_.emplace(std::move(*c));
        connection_->acceptFds(true);
        BodyWriter name;
        name.string(kName).uint32(4);  // DBUS_NAME_FLAG_DO_NOT_QUEUE
        auto reply = connection_->call(methodCall("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                  "org.freedesktop.DBus", "RequestName", name),
                                       {}, 5000);
        if (!reply) {
            problem = reply.error().message();
            return false;
        }
        if (reply->type != MessageType::MethodReturn) {
            problem = reply->errorName + ": " + errorMessage(*reply);
            return false;
        }
        BodyReader r(*reply);
        const uint32_t answer = r.uint32();
        if (answer != 1) {  // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
            problem = "RequestName answered " + std::to_string(answer);
            return false;
        }
        uniqueName_ = connection_->uniqueName();
        running_ = true;
        thread_ = std::thread([this] { loop(); });
        return true;
    }
    // Leaves the bus: the name has no owner any more.
    void stop() {
        running_ = false;
        if (thread_.joinable())
            thread_.join();
        connection_.reset();
        std::lock_guard lock(mutex_);
        for (int fd : fds_)
            ::close(fd);
        fds_.clear();
    }

    // What GetGroup answers: the group is there, or NoSuchGroup.
    std::atomic<bool> groupExists{true};
    // Answer SignalWorkload(N) with WorkloadExited(128+N), as a workload that dies of it.
    std::atomic<bool> dieOnSignal{false};

    bool execReceived() {
        std::lock_guard lock(mutex_);
        return !requester_.empty();
    }
    // The descriptors Exec came with (the workload's stdin, stdout, stderr).
    std::vector<int> fds() {
        std::lock_guard lock(mutex_);
        return fds_;
    }
    // Closes them, as a workload that has ended.
    void closeFds() {
        std::lock_guard lock(mutex_);
        for (int fd : fds_)
            ::close(fd);
        fds_.clear();
    }
    std::vector<int> signalsReceived() {
        std::lock_guard lock(mutex_);
        return signals_;
    }
    int getGroupCalls() {
        std::lock_guard lock(mutex_);
        return getGroupCalls_;
    }
    void sendExit(int status) {
        std::lock_guard lock(mutex_);
        actions_.push_back(status);
    }
    void sendExitFrom(const std::string& sender, int status);

  private:
    void loop() {
        while (running_) {
            {
                std::lock_guard lock(mutex_);
                while (!actions_.empty()) {
                    exit(actions_.front());
                    actions_.pop_front();
                }
            }
            while (auto m = connection_->next())
                handle(*m);
            struct pollfd p = {connection_->fd(), POLLIN, 0};
            if (::poll(&p, 1, 10) > 0 && !connection_->readAvailable())
                return;
        }
    }
    void exit(int status) {
        BodyWriter body;
        body.string(kGroup).uint32(4242).int32(status).int32(status > 128 ? status - 128 : 0);
        (void)connection_->send(signal(requester_, kPath, kInterface, "WorkloadExited", body));
    }
    void handle(Message& m) {
        if (m.type != MessageType::MethodCall) {
            for (int fd : m.fds)
                ::close(fd);
            return;
        }
        std::lock_guard lock(mutex_);
        if (m.member == "Exec") {
            requester_ = m.sender;
            for (int fd : fds_)
                ::close(fd);
            fds_ = m.fds;
            BodyWriter body;
            body.string(kGroup).uint32(4242);
            (void)connection_->send(methodReturn(m, body));
        } else if (m.member == "GetGroup") {
            ++getGroupCalls_;
            if (groupExists)
                (void)connection_->send(methodReturn(m));
            else
                (void)connection_->send(
                    errorReply(m, "org.governor.Error.NoSuchGroup", "no such class or group"));
        } else if (m.member == "SignalWorkload") {
            BodyReader r(m);
            (void)r.string();
            const int signo = r.int32();
            signals_.push_back(signo);
            (void)connection_->send(methodReturn(m));
            if (dieOnSignal)
                exit(128 + signo);
        } else {
            (void)connection_->send(
                errorReply(m, "org.freedesktop.DBus.Error.UnknownMethod", m.member));
        }
    }

    std::string address_;
    std::optional<Connection> connection_;
    std::string uniqueName_;
    std::atomic<bool> running_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::string requester_;
    std::vector<int> fds_;
    std::vector<int> signals_;
    std::deque<int> actions_;
    int getGroupCalls_ = 0;
};

// A pseudo-terminal the test holds: govctl's terminal.
struct TestTerminal {
    int master = -1;
    int slave = -1;
    std::string output;  // everything read from the master

    bool open() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
            return false;
        slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        struct winsize w {};
        w.ws_row = 30;
        w.ws_col = 100;
        ::ioctl(master, TIOCSWINSZ, &w);
        return slave >= 0;
    }
    ~TestTerminal() {
        if (slave >= 0)
            ::close(slave);
        if (master >= 0)
            ::close(master);
    }
    // Reads what the master has, for up to `ms`.
    void pump(int ms = 20) {
        struct pollfd p = {master, POLLIN, 0};
        while (::poll(&p, 1, ms) > 0) {
            char buf[4096];
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0)
                return;
            output.append(buf, static_cast<size_t>(n));
            ms = 0;
        }
    }
    bool waitOutput(const std::string& text, std::chrono::milliseconds timeout = 5s) {
        return waitFor(
            [&] {
                pump();
                return output.find(text) != std::string::npos;
            },
            timeout);
    }
    struct termios modes() const {
        struct termios t {};
        ::tcgetattr(slave, &t);
        return t;
    }
};

bool sameModes(const struct termios& a, const struct termios& b) {
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
           a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

bool isRaw(const struct termios& t) {
    return (t.c_lflag & (ICANON | ECHO | ISIG)) == 0;
}

// The device a descriptor refers to (a terminal's rdev).
dev_t deviceOf(int fd) {
    struct stat st {};
    ::fstat(fd, &st);
    return st.st_rdev;
}

class ExecClient : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(::access(kDbusDaemon, X_OK), 0)
            << kDbusDaemon << " is needed to run a private bus (scripts/test installs dbus)";
        char dirTemplate[] = "/tmp/gov-execclient-XXXXXX";
        ASSERT_NE(::mkdtemp(dirTemplate), nullptr) << std::strerror(errno);
        dir_ = dirTemplate;
        address_ = "unix:path=" + (dir_ / "bus").string();
        std::ofstream(dir_ / "bus.conf")
            << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
               "1.0//EN\"\n \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
               "<busconfig><type>session</type><listen>"
            << address_
            << "</listen><auth>EXTERNAL</auth><policy context=\"default\">"
               "<allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>"
               "<allow own=\"*\"/><allow user=\"*\"/>"
               "</policy></busconfig>\n";
        startBus();
    }
    void TearDown() override {
        daemon_.reset();
        daemon2_.reset();
        if (govctl_ > 0) {
            ::kill(govctl_, SIGKILL);
            int st = 0;
            ::waitpid(govctl_, &st, 0);
        }
        stopBus();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    void startBus() {
        const std::string config = "--config-file=" + (dir_ / "bus.conf").string();
        const std::string errFile = (dir_ / "bus.err").string();
        const std::string outFile = (dir_ / "bus.out").string();
        std::error_code ignored;
        fs::remove(outFile, ignored);  // a restarted bus must not be taken for the old one
        busPid_ = ::fork();
        ASSERT_GE(busPid_, 0);
        if (busPid_ == 0) {
            const int null = ::open("/dev/null", O_RDWR);
            const int err = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int out = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (null < 0 || err < 0 || out < 0)
                ::_exit(120);
            ::dup2(null, 0);
            ::dup2(out, 1);
            ::dup2(err, 2);
            ::execl(kDbusDaemon, kDbusDaemon, config.c_str(), "--nofork", "--nopidfile",
                    "--print-address=1", static_cast<char*>(nullptr));
            ::_exit(121);
        }
        // The socket file exists from bind(), before listen(): a connection then is
        // refused. The address line is printed once the bus accepts connections.
        ASSERT_TRUE(
            waitFor([&] { return slurp(dir_ / "bus.out").find('\n') != std::string::npos; }, 10s))
            << "dbus-daemon did not report that it listens: " << slurp(dir_ / "bus.err");
    }
    void stopBus() {
        if (busPid_ > 0) {
            ::kill(busPid_, SIGTERM);
            int st = 0;
            ::waitpid(busPid_, &st, 0);
            busPid_ = -1;
        }
    }
    FakeDaemon& daemon() {
        if (!daemon_) {
            daemon_ = std::make_unique<FakeDaemon>(address_);
            EXPECT_TRUE(daemon_->start())
                << "the fake daemon could not own " << kName << ": " << daemon_->problem;
        }
        return *daemon_;
    }

    // Starts `govctl exec -c adhoc ARGS... -- fake` with stdin from /dev/null
    // and stdout/stderr to files; or, with `terminal`, on it as its controlling
    // terminal (all three stdio).
    void startGovctl(const std::vector<std::string>& options, TestTerminal* terminal = nullptr) {
        std::vector<std::string> argv = {GOVCTL_PATH, "exec", "-c", "adhoc"};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.push_back("--");
        argv.push_back("fake-command");
        const std::string out = (dir_ / "govctl.out").string();
        const std::string err = (dir_ / "govctl.err").string();
        govctl_ = ::fork();
        ASSERT_GE(govctl_, 0);
        if (govctl_ == 0) {
            ::setenv("GOVERNOR_BUS_ADDRESS", address_.c_str(), 1);
            if (terminal) {
                ::setsid();
                ::ioctl(terminal->slave, TIOCSCTTY, 0);
                for (int fd = 0; fd <= 2; ++fd)
                    ::dup2(terminal->slave, fd);
            } else {
                const int null = ::open("/dev/null", O_RDONLY);
                const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                ::dup2(null, 0);
                ::dup2(o, 1);
                ::dup2(e, 2);
            }
            std::vector<char*> args;
            for (auto& a : argv)
                args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(121);
        }
    }
    // govctl's exit status, or -1 when it has not exited within `timeout`.
    int waitGovctl(std::chrono::milliseconds timeout, TestTerminal* terminal = nullptr) {
        int st = 0;
        const bool done = waitFor(
            [&] {
                if (terminal)
                    terminal->pump(0);
                return ::waitpid(govctl_, &st, WNOHANG) == govctl_;
            },
            timeout);
        if (!done)
            return -1;
        govctl_ = -1;
        if (terminal)
            terminal->pump(50);
        return decode(st);
    }
    std::string govctlErr() { return slurp(dir_ / "govctl.err"); }

    fs::path dir_;
    std::string address_;
    pid_t busPid_ = -1;
    pid_t govctl_ = -1;
    std::unique_ptr<FakeDaemon> daemon_;
    std::unique_ptr<FakeDaemon> daemon2_;
};

TEST_F(ExecClient, TheStatusIsTheWorkloadsHoweverLongAfterItsGroupIsGone) {
    // The group is gone (a rescan reaped it) long before the exit report comes:
    // as long as the daemon that answered owns its name, that is no restart.
    FakeDaemon& d = daemon();
    d.groupExists = false;
    startGovctl({});
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    std::this_thread::sleep_for(4500ms);  // two idle checks
    EXPECT_EQ(waitGovctl(0ms), -1) << "govctl gave up: " << govctlErr();
    d.sendExit(42);
    EXPECT_EQ(waitGovctl(10s), 42) << govctlErr();
    EXPECT_EQ(govctlErr(), "") << "nothing to say about a daemon that never restarted";
    EXPECT_EQ(d.getGroupCalls(), 0) << "the group is asked for only after a restart";
}

TEST_F(ExecClient, ARestartIsReportedAndTheStatusIsThenUnknown) {
    FakeDaemon& d = daemon();
    startGovctl({});
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    d.stop();  // governord went away...
    std::this_thread::sleep_for(2500ms);
    daemon2_ = std::make_unique<FakeDaemon>(address_);  // ...and a new one came
    daemon2_->groupExists = true;
    ASSERT_TRUE(daemon2_->start());
    ASSERT_TRUE(waitFor([&] { return daemon2_->getGroupCalls() > 0; }, 10s)) << govctlErr();
    daemon2_->groupExists = false;  // the workload has ended meanwhile
    EXPECT_EQ(waitGovctl(10s), 1) << govctlErr();
    const std::string said = govctlErr();
    EXPECT_NE(said.find("governord went away while adhoc.slice/fake-1-1.scope runs"),
              std::string::npos)
        << said;
    EXPECT_NE(said.find("governord is back; still waiting for adhoc.slice/fake-1-1.scope"),
              std::string::npos)
        << said;
    EXPECT_NE(said.find("adhoc.slice/fake-1-1.scope has ended, but governord restarted while it "
                        "ran: its exit status is unknown"),
              std::string::npos)
        << said;
}

TEST_F(ExecClient, AnotherDaemonOwningTheNameIsARestartEvenWithoutAGap) {
    FakeDaemon& d = daemon();
    startGovctl({});
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    d.stop();
    daemon2_ = std::make_unique<FakeDaemon>(address_);
    daemon2_->groupExists = false;
    ASSERT_TRUE(daemon2_->start());
    EXPECT_EQ(waitGovctl(10s), 1) << govctlErr();
    EXPECT_NE(govctlErr().find("governord restarted while adhoc.slice/fake-1-1.scope runs"),
              std::string::npos)
        << govctlErr();
}

TEST_F(ExecClient, ADaemonNotOnTheBusYetIsWaitedForAndSaidSo) {
    startGovctl({});
    std::this_thread::sleep_for(1500ms);  // systemd restarts governord in 2 s
    FakeDaemon& d = daemon();
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s)) << govctlErr();
    d.sendExit(0);
    EXPECT_EQ(waitGovctl(10s), 0) << govctlErr();
    EXPECT_EQ(govctlErr(), "govctl exec: governord is not on " + address_ +
                               " (restarting?): waiting up to 10 s for it\n");
}

TEST_F(ExecClient, ADaemonThatDoesNotComeBackFailsAfterTheBound) {
    const auto t0 = std::chrono::steady_clock::now();
    startGovctl({});
    EXPECT_EQ(waitGovctl(20s), 5) << govctlErr();
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 9s);
    EXPECT_LT(waited, 15s);
    EXPECT_NE(govctlErr().find("governord is not reachable on " + address_), std::string::npos)
        << govctlErr();
}

TEST_F(ExecClient, WithoutATerminalTheDescriptorsAreGovctlsOwn) {
    FakeDaemon& d = daemon();
    startGovctl({});
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    auto fds = d.fds();
    ASSERT_EQ(fds.size(), 3u);
    for (int fd : fds)
        EXPECT_EQ(::isatty(fd), 0);
    ASSERT_EQ(::write(fds[1], "out\n", 4), 4);
    d.closeFds();
    d.sendExit(0);
    EXPECT_EQ(waitGovctl(10s), 0);
    EXPECT_EQ(slurp(dir_ / "govctl.out"), "out\n");
}

TEST_F(ExecClient, OnATerminalTheWorkloadGetsAPseudoTerminalRelayedBothWays) {
    TestTerminal t;
    ASSERT_TRUE(t.open());
    const struct termios before = t.modes();
    FakeDaemon& d = daemon();
    startGovctl({}, &t);
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    auto fds = d.fds();
    ASSERT_EQ(fds.size(), 3u);
    for (int fd : fds)
        EXPECT_EQ(::isatty(fd), 1) << "all three are the pseudo-terminal's slave";
    EXPECT_NE(deviceOf(fds[0]), deviceOf(t.slave)) << "a terminal of its own, not govctl's";
    struct winsize w {};
    ASSERT_EQ(::ioctl(fds[0], TIOCGWINSZ, &w), 0);
    EXPECT_EQ(w.ws_row, 30);
    EXPECT_EQ(w.ws_col, 100);
    ASSERT_TRUE(waitFor([&] { return isRaw(t.modes()); }, 5s)) << "govctl's terminal is raw";

    // Workload -> caller.
    ASSERT_EQ(::write(fds[1], "hello from the workload\n", 24), 24);
    EXPECT_TRUE(t.waitOutput("hello from the workload\r\n")) << t.output;
    // Caller -> workload: bytes as typed, Ctrl-C and Ctrl-Z included (the
    // workload's terminal decides what they mean; raw here, to read them as sent).
    struct termios workloadModes {};
    ASSERT_EQ(::tcgetattr(fds[0], &workloadModes), 0);
    ::cfmakeraw(&workloadModes);
    ASSERT_EQ(::tcsetattr(fds[0], TCSANOW, &workloadModes), 0);
    ASSERT_EQ(::write(t.master, "typed\x03\x1a", 7), 7);
    std::string got;
    ASSERT_TRUE(waitFor(
        [&] {
            char buf[64];
            struct pollfd p = {fds[0], POLLIN, 0};
            if (::poll(&p, 1, 10) > 0) {
                const ssize_t n = ::read(fds[0], buf, sizeof buf);
                if (n > 0)
                    got.append(buf, static_cast<size_t>(n));
            }
            return got.size() >= 7;
        },
        5s))
        << "got '" << got << "'";
    EXPECT_EQ(got, "typed\x03\x1a");
    // Window size changes reach the workload's terminal.
    w.ws_row = 50;
    w.ws_col = 160;
    ASSERT_EQ(::ioctl(t.master, TIOCSWINSZ, &w), 0);  // SIGWINCH for govctl
    EXPECT_TRUE(waitFor(
        [&] {
            struct winsize now {};
            ::ioctl(fds[0], TIOCGWINSZ, &now);
            return now.ws_row == 50 && now.ws_col == 160;
        },
        5s));

    d.closeFds();
    d.sendExit(3);
    EXPECT_EQ(waitGovctl(10s, &t), 3) << t.output;
    EXPECT_TRUE(sameModes(t.modes(), before)) << "the terminal's modes are restored";
}

TEST_F(ExecClient, TheOutputWrittenBeforeTheExitIsDrainedEvenWithTheSlaveStillOpen) {
    TestTerminal t;
    ASSERT_TRUE(t.open());
    FakeDaemon& d = daemon();
    startGovctl({}, &t);
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    auto fds = d.fds();
    ASSERT_EQ(fds.size(), 3u);
    std::string last(3000, 'z');
    last += "LAST LINE\n";
    ASSERT_EQ(::write(fds[1], last.data(), last.size()), static_cast<ssize_t>(last.size()));
    // A background process keeps the slave open (the fake keeps its descriptors).
    const auto t0 = std::chrono::steady_clock::now();
    d.sendExit(0);
    EXPECT_EQ(waitGovctl(10s, &t), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_NE(t.output.find("LAST LINE\r\n"), std::string::npos) << t.output.size();
}

TEST_F(ExecClient, SigtermToGovctlOnATerminalForwardsHangsUpAndRestoresTheTerminal) {
    TestTerminal t;
    ASSERT_TRUE(t.open());
    const struct termios before = t.modes();
    FakeDaemon& d = daemon();
    d.dieOnSignal = true;
    startGovctl({}, &t);
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    auto fds = d.fds();
    ASSERT_EQ(fds.size(), 3u);
    ASSERT_TRUE(waitFor([&] { return isRaw(t.modes()); }, 5s));
    ASSERT_EQ(::kill(govctl_, SIGTERM), 0);
    EXPECT_EQ(waitGovctl(10s, &t), 143) << t.output;
    EXPECT_EQ(d.signalsReceived(), std::vector<int>{SIGTERM});
    EXPECT_TRUE(sameModes(t.modes(), before));
    // The pseudo-terminal was hung up: its slave sees it.
    struct pollfd p = {fds[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 1000), 1);
    EXPECT_TRUE(p.revents & POLLHUP) << p.revents;
}

TEST_F(ExecClient, AWorkloadThatIgnoresTheSignalDoesNotKeepGovctlOnAHungUpTerminal) {
    TestTerminal t;
    ASSERT_TRUE(t.open());
    const struct termios before = t.modes();
    FakeDaemon& d = daemon();
    startGovctl({}, &t);
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    ASSERT_TRUE(waitFor([&] { return isRaw(t.modes()); }, 5s));
    ASSERT_EQ(::kill(govctl_, SIGHUP), 0);
    EXPECT_EQ(waitGovctl(10s, &t), 128 + SIGHUP);
    EXPECT_TRUE(sameModes(t.modes(), before));
}

TEST_F(ExecClient, TheTerminalIsRestoredWhenTheDaemonRestartsAndWhenTheBusIsLost) {
    {
        TestTerminal t;
        ASSERT_TRUE(t.open());
        const struct termios before = t.modes();
        FakeDaemon& d = daemon();
        startGovctl({}, &t);
        ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
        ASSERT_TRUE(waitFor([&] { return isRaw(t.modes()); }, 5s));
        d.stop();
        daemon2_ = std::make_unique<FakeDaemon>(address_);
        daemon2_->groupExists = false;
        ASSERT_TRUE(daemon2_->start());
        EXPECT_EQ(waitGovctl(10s, &t), 1) << t.output;
        EXPECT_TRUE(sameModes(t.modes(), before));
        EXPECT_NE(t.output.find("its exit status is unknown"), std::string::npos) << t.output;
    }
    daemon2_.reset();
    daemon_.reset();
    {
        TestTerminal t;
        ASSERT_TRUE(t.open());
        const struct termios before = t.modes();
        FakeDaemon& d = daemon();
        startGovctl({}, &t);
        ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
        ASSERT_TRUE(waitFor([&] { return isRaw(t.modes()); }, 5s));
        stopBus();
        EXPECT_EQ(waitGovctl(10s, &t), 5) << t.output;
        EXPECT_TRUE(sameModes(t.modes(), before));
        EXPECT_NE(t.output.find("lost the bus"), std::string::npos) << t.output;
    }
}

TEST_F(ExecClient, DashCapitalTPassesGovctlsOwnTerminal) {
    TestTerminal t;
    ASSERT_TRUE(t.open());
    const struct termios before = t.modes();
    FakeDaemon& d = daemon();
    startGovctl({"-T"}, &t);
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    auto fds = d.fds();
    ASSERT_EQ(fds.size(), 3u);
    EXPECT_EQ(deviceOf(fds[0]), deviceOf(t.slave));
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(sameModes(t.modes(), before)) << "no raw mode without a pseudo-terminal";
    d.closeFds();
    d.sendExit(0);
    EXPECT_EQ(waitGovctl(10s, &t), 0);
}

TEST_F(ExecClient, DashTGivesAPseudoTerminalWithoutOneAndEndOfInputIsAnEof) {
    FakeDaemon& d = daemon();
    startGovctl({"-t"});  // stdin /dev/null, stdout and stderr files
    ASSERT_TRUE(waitFor([&] { return d.execReceived(); }, 10s));
    auto fds = d.fds();
    ASSERT_EQ(fds.size(), 3u);
    for (int fd : fds)
        EXPECT_EQ(::isatty(fd), 1);
    // govctl's stdin (/dev/null) ended: the workload reads an end of file.
    char buf[16];
    struct pollfd p = {fds[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    EXPECT_EQ(::read(fds[0], buf, sizeof buf), 0);
    ASSERT_EQ(::write(fds[1], "via the pty\n", 12), 12);
    d.closeFds();
    d.sendExit(0);
    EXPECT_EQ(waitGovctl(10s), 0) << govctlErr();
    EXPECT_EQ(slurp(dir_ / "govctl.out"), "via the pty\r\n");
}

}  // namespace
}  // namespace gov::wire
