// govctl's minimal D-Bus connection (govctl/wire/DbusConnection.hpp) against a real
// dbus-daemon: a private bus (session-like config, EXTERNAL auth, allow-all policy)
// on a socket in a temp dir, started for each test and ended by its pid. A missing
// dbus-daemon fails the tests: scripts/test installs it (package dbus).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
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

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

size_t openFdCount() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

Message busCall(const std::string& member, const BodyWriter& body = {}) {
    return methodCall("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                      member, body);
}

// Reads from `c` as a poll loop would until a message `match` accepts arrives;
// the others are dropped.
std::optional<Message> waitForMessage(Connection& c,
                                      const std::function<bool(const Message&)>& match,
                                      std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        while (auto m = c.next()) {
            if (match(*m))
                return m;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ms)
            return std::nullopt;
        struct pollfd p = {c.fd(), POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno != EINTR) {
            ADD_FAILURE() << "poll: " << std::strerror(errno);
            return std::nullopt;
        }
        if (r > 0) {
            auto read = c.readAvailable();
            if (!read) {
                ADD_FAILURE() << read.error().message();
                return std::nullopt;
            }
        }
    }
}

class DbusConnection : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(::access(kDbusDaemon, X_OK), 0)
            << kDbusDaemon
            << " is needed to run a private bus (scripts/test installs package dbus)";
        char dirTemplate[] = "/tmp/gov-wire-test-XXXXXX";
        ASSERT_NE(::mkdtemp(dirTemplate), nullptr) << std::strerror(errno);
        dir_ = dirTemplate;
        socket_ = dir_ / "bus";
        address_ = "unix:path=" + socket_.string();
        {
            std::ofstream conf(dir_ / "bus.conf");
            conf << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
                    "1.0//EN\"\n"
                    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                    "<busconfig>\n"
                    "  <type>session</type>\n"
                    "  <listen>"
                 << address_
                 << "</listen>\n"
                    "  <auth>EXTERNAL</auth>\n"
                    "  <policy context=\"default\">\n"
                    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                    "    <allow eavesdrop=\"true\"/>\n"
                    "    <allow own=\"*\"/>\n"
                    "    <allow user=\"*\"/>\n"
                    "  </policy>\n"
                    "</busconfig>\n";
        }
        const std::string config = "--config-file=" + (dir_ / "bus.conf").string();
        const std::string errFile = (dir_ / "bus.err").string();
        // The socket file exists from bind(), before listen(): connecting then is
        // refused. dbus-daemon prints its address once it accepts connections, so
        // the test waits for that line (--print-address on a pipe), with a bound.
        int ready[2];
        ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0) << std::strerror(errno);
        busPid_ = ::fork();
        ASSERT_GE(busPid_, 0) << std::strerror(errno);
        if (busPid_ == 0) {
            const int null = ::open("/dev/null", O_RDWR);
            const int err = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (null < 0 || err < 0)
                ::_exit(120);
            ::dup2(null, 0);
            ::dup2(null, 1);
            ::dup2(err, 2);
            ::dup2(ready[1], 3);  // dup2 clears close-on-exec on the copy
            ::execl(kDbusDaemon, kDbusDaemon, config.c_str(), "--nofork", "--nopidfile",
                    "--print-address=3", static_cast<char*>(nullptr));
            ::_exit(121);
        }
        ::close(ready[1]);
        std::string printed;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (printed.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd pfd{ready[0], POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0)
                break;
            char buf[256];
            const ssize_t n = ::read(ready[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;  // dbus-daemon exited or closed the pipe without an address
            printed.append(buf, static_cast<size_t>(n));
        }
        ::close(ready[0]);
        if (printed.find('\n') == std::string::npos) {
            int status = 0;
            const bool exited = ::waitpid(busPid_, &status, WNOHANG) == busPid_;
            if (exited)
                busPid_ = -1;
            FAIL() << "dbus-daemon did not report that it listens on " << socket_
                   << (exited ? " (it exited, status " + std::to_string(status) + ")" : "") << ": "
                   << slurp(dir_ / "bus.err");
        }
    }

    void TearDown() override {
        if (busPid_ > 0) {
            ::kill(busPid_, SIGTERM);
            int status = 0;
            ::waitpid(busPid_, &status, 0);
            busPid_ = -1;
        }
        if (!dir_.empty()) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }

    // Every test needs its connections: failing to open one ends the test (GoogleTest
    // reports the exception as the failure).
    Connection open() {
        auto c = Connection::open(address_);
        if (!c)
            throw std::runtime_error("open " + address_ + ": " + c.error().message());
        return std::move(c).value();
    }

    // A call that must get a method return.
    Message callOk(Connection& c, Message m, const std::vector<int>& fds = {}) {
        const std::string member = m.member;
        auto reply = c.call(std::move(m), fds, 5000);
        EXPECT_TRUE(reply.ok()) << member << ": " << reply.error().message();
        if (!reply.ok())
            return {};
        EXPECT_EQ(reply->type, MessageType::MethodReturn)
            << member << ": " << reply->errorName << ": " << errorMessage(*reply);
        return std::move(reply).value();
    }

    fs::path dir_;
    fs::path socket_;
    std::string address_;
    pid_t busPid_ = -1;
};

const std::regex kUniqueName(R"(:1\.[0-9]+)");

TEST_F(DbusConnection, OpensAndLearnsItsUniqueNameByTheFirstCall) {
    Connection c = open();
    EXPECT_GE(c.fd(), 0);
    callOk(c, busCall("GetId"));
    EXPECT_TRUE(std::regex_match(c.uniqueName(), kUniqueName)) << c.uniqueName();
}

TEST_F(DbusConnection, GetIdReturnsThe32HexCharacterBusId) {
    Connection c = open();
    const Message reply = callOk(c, busCall("GetId"));
    EXPECT_EQ(reply.signature, "s");
    EXPECT_EQ(reply.sender, "org.freedesktop.DBus");
    EXPECT_EQ(reply.destination, c.uniqueName());
    BodyReader r(reply);
    const std::string id = r.string();
    EXPECT_TRUE(r.atEnd());
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
}

TEST_F(DbusConnection, SignalsReadDuringACallWaitForNext) {
    Connection c = open();
    callOk(c, busCall("GetId"));
    // The bus tells every new connection its name with a unicast NameAcquired; call()
    // read it while waiting and kept it.
    auto acquired = waitForMessage(c, [](const Message& m) {
        return m.type == MessageType::Signal && m.member == "NameAcquired";
    });
    ASSERT_TRUE(acquired.has_value());
    EXPECT_EQ(acquired->sender, "org.freedesktop.DBus");
    BodyReader r(*acquired);
    EXPECT_EQ(r.string(), c.uniqueName());
}

TEST_F(DbusConnection, CallToAMissingNameGetsServiceUnknown) {
    Connection c = open();
    auto reply =
        c.call(methodCall("org.example.Missing", "/org/example", "org.example.Missing", "Nothing"),
               {}, 5000);
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    EXPECT_EQ(reply->type, MessageType::Error);
    EXPECT_EQ(reply->errorName, "org.freedesktop.DBus.Error.ServiceUnknown");
    EXPECT_NE(errorMessage(*reply).find("org.example.Missing"), std::string::npos)
        << errorMessage(*reply);
}

TEST_F(DbusConnection, OpenWithoutASocketFailsNamingThePath) {
    const std::string missing = (dir_ / "no-such-bus").string();
    auto c = Connection::open("unix:path=" + missing);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message().find(missing), std::string::npos) << c.error().message();
    EXPECT_EQ(c.error().code(), std::error_code(ENOENT, std::system_category()));
}

TEST_F(DbusConnection, OpenTriesTheAddressesInOrder) {
    const std::string missing = (dir_ / "no-such-bus").string();
    auto c = Connection::open("tcp:host=localhost,port=1;unix:path=" + missing + ";" + address_);
    ASSERT_TRUE(c.ok()) << c.error().message();
    callOk(*c, busCall("GetId"));
}

TEST_F(DbusConnection, OpenWithoutAUnixAddressFails) {
    auto c = Connection::open("tcp:host=localhost,port=1");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message().find("no unix socket"), std::string::npos) << c.error().message();
}

TEST_F(DbusConnection, ACallCarryingAnFdGetsItsAnswer) {
    Connection c = open();
    callOk(c, busCall("GetId"));  // learn our name
    int pipeFds[2];
    ASSERT_EQ(::pipe2(pipeFds, O_CLOEXEC), 0);
    BodyWriter body;
    body.string(c.uniqueName());
    const Message reply = callOk(c, busCall("GetConnectionUnixProcessID", body), {pipeFds[0]});
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
    EXPECT_EQ(reply.signature, "u");
    BodyReader r(reply);
    EXPECT_EQ(r.uint32(), static_cast<uint32_t>(::getpid()));
    EXPECT_TRUE(r.atEnd());
}

TEST_F(DbusConnection, UnicastSignalArrivesWithoutAMatchRule) {
    Connection a = open();
    Connection b = open();
    callOk(a, busCall("GetId"));
    callOk(b, busCall("GetId"));
    ASSERT_FALSE(b.uniqueName().empty());
    ASSERT_NE(a.uniqueName(), b.uniqueName());

    Message signal;
    signal.type = MessageType::Signal;
    signal.path = "/x";
    signal.interface = "a.b";
    signal.member = "C";
    signal.destination = b.uniqueName();
    BodyWriter body;
    body.string("payload").int32(-3);
    signal.signature = body.signature();
    signal.body = body.data();
    auto serial = a.send(signal);
    ASSERT_TRUE(serial.ok()) << serial.error().message();

    auto got = waitForMessage(
        b, [](const Message& m) { return m.type == MessageType::Signal && m.member == "C"; });
    ASSERT_TRUE(got.has_value()) << "B did not receive the signal";
    EXPECT_EQ(got->sender, a.uniqueName());
    EXPECT_EQ(got->destination, b.uniqueName());
    EXPECT_EQ(got->path, "/x");
    EXPECT_EQ(got->interface, "a.b");
    EXPECT_EQ(got->serial, *serial);
    BodyReader r(*got);
    EXPECT_EQ(r.string(), "payload");
    EXPECT_EQ(r.int32(), -3);
    EXPECT_TRUE(r.atEnd());
}

TEST_F(DbusConnection, FdsSentToUsAreClosedOnArrival) {
    Connection a = open();
    Connection b = open();
    callOk(a, busCall("GetId"));
    callOk(b, busCall("GetId"));
    // Drain what the bus sent B so far, so that the next read is A's message.
    while (b.next()) {
    }
    int pipeFds[2];
    ASSERT_EQ(::pipe2(pipeFds, O_CLOEXEC), 0);

    Message signal;
    signal.type = MessageType::Signal;
    signal.path = "/x";
    signal.interface = "a.b";
    signal.member = "WithFd";
    signal.destination = b.uniqueName();
    BodyWriter body;
    body.unixFd(0);
    signal.signature = body.signature();
    signal.body = body.data();
    ASSERT_TRUE(a.send(signal, {pipeFds[1]}).ok());
    ::close(pipeFds[1]);

    const size_t before = openFdCount();
    auto got = waitForMessage(b, [](const Message& m) { return m.member == "WithFd"; });
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->sender, a.uniqueName());
    EXPECT_EQ(got->unixFds, 1u);
    EXPECT_EQ(openFdCount(), before) << "the fd that came with the message was kept open";
    // And it was the last copy of the pipe's write end (the bus closed its own once
    // delivered): end of file.
    struct pollfd p = {pipeFds[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "the pipe's write end is still open somewhere";
    char c;
    EXPECT_EQ(::read(pipeFds[0], &c, 1), 0);
    ::close(pipeFds[0]);
}

TEST_F(DbusConnection, CallTimesOutWhenNobodyAnswers) {
    Connection c = open();
    callOk(c, busCall("GetId"));
    // To ourselves: the bus delivers it, we never answer.
    auto reply = c.call(methodCall(c.uniqueName(), "/x", "a.b", "Silent"), {}, 200);
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code(), std::make_error_code(std::errc::timed_out));
    EXPECT_NE(reply.error().message().find("Silent"), std::string::npos) << reply.error().message();
    // The call itself was queued for next() meanwhile.
    auto self = waitForMessage(
        c, [](const Message& m) { return m.member == "Silent"; }, 1s);
    EXPECT_TRUE(self.has_value());
}

TEST_F(DbusConnection, ReadingAfterTheBusIsGoneIsAnError) {
    Connection c = open();
    callOk(c, busCall("GetId"));
    ::kill(busPid_, SIGTERM);
    int status = 0;
    ::waitpid(busPid_, &status, 0);
    busPid_ = -1;
    Result<void> read = success();
    for (int i = 0; i < 100 && read.ok(); ++i) {
        struct pollfd p = {c.fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        read = c.readAvailable();
    }
    ASSERT_FALSE(read.ok());
    EXPECT_NE(read.error().message().find("closed"), std::string::npos) << read.error().message();
}

}  // namespace
}  // namespace gov::wire
