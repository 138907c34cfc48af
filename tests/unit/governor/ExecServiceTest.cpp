// ExecService on a fake cgroup tree (plain directories) with a fake spawner
// (tests/support/FakeSpawner.hpp): what is counted and logged for refused calls,
// what is refused before anything is made, the asynchronous spawn (the reply when
// the child has exec'd, the daemon never waiting for it, a bound on a child that
// never execs) and the order of the reply and the exit report.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "FakeSpawner.hpp"
#include "gov/daemon/ExecService.hpp"

namespace gov::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using core::Caller;
using core::Governor;
using core::GovernorConfig;
using core::serviceCode;
using core::ServiceErrc;
using core::serviceMessage;

void writeFile(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// Every log line of the test, in a string.
class LogCapture {
  public:
    LogCapture() : previous_(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
        auto logger = std::make_shared<spdlog::logger>("test", sink);
        logger->set_pattern("%l %v");
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    std::string text() const { return out_.str(); }
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::istringstream in(out_.str());
        std::string line;
        while (std::getline(in, line))
            out.push_back(line);
        return out;
    }

  private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
};

class ExecServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() /
                ("gov-exec-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base_);
        root_ = base_ / "cgroup";
        writeFile(root_ / "cgroup.controllers", "");
        writeFile(root_ / "cgroup.subtree_control", "");
        writeFile(root_ / "cgroup.events", "populated 1\nfrozen 0\n");
        for (const char* cls : {"adhoc", "open"}) {
            const fs::path slice = root_ / (std::string(cls) + ".slice");
            writeFile(slice / "cgroup.controllers", "");
            writeFile(slice / "cgroup.subtree_control", "");
            writeFile(slice / "cgroup.events", "populated 0\nfrozen 0\n");
            writeFile(slice / "cgroup.freeze", "0\n");
        }
        writeFile(base_ / "policy.toml",
                  "[classes.adhoc]\ndescription = \"root only\"\n\n"
                  "[classes.open]\nexec.users = [\"nobody\"]\n");
        GovernorConfig config;
        config.cgroupRoot = root_.string();
        config.stateDir = (base_ / "state").string();
        config.policyFiles = {(base_ / "policy.toml").string()};
        config.moveSelf = false;
        config.sysRoot = (base_ / "sys").string();
        config.devRoot = (base_ / "dev").string();
        auto g = Governor::start(config);
        ASSERT_TRUE(g.ok()) << g.error().message();
        governor_ = std::move(*g);
        exec_ = std::make_unique<ExecService>(io_, *governor_, spawner_);
        exec_->setAttributeReader([this](const Caller&) -> Result<runtime::ProcessAttributes> {
            if (attributeError_)
                return *attributeError_;
            return attributes_;
        });
        exec_->onExit = [this](const ExecExit& e) {
            events_.push_back("exit " + e.group + " " + std::to_string(e.status));
        };
    }
    void TearDown() override {
        exec_.reset();
        governor_.reset();
        fs::remove_all(base_);
    }

    ExecRequest request(std::vector<std::string> argv, const std::string& cls = "adhoc") {
        ExecRequest r;
        r.className = cls;
        r.argv = std::move(argv);
        r.env = {"PATH=/usr/bin:/bin"};
        r.cwd = "/";
        r.requester = ":1.42";
        return r;
    }
    // Runs exec(); the reply lands in replies_ (and events_).
    void exec(const ExecRequest& r, const Caller& c = Caller{}) {
        exec_->exec(r, c, [this](Result<ExecStarted> started) {
            replies_.push_back(std::move(started));
            events_.push_back(replies_.back() ? "reply " + replies_.back()->group
                                              : "error " + replies_.back().error().message());
        });
    }
    // Runs the loop until `done` or `timeout`.
    void runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 2s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(10ms);
        }
    }
    uint64_t counted(const std::string& cls, const std::string& outcome) {
        const auto& execs = governor_->stats().execs;
        auto it = execs.find({cls, outcome});
        return it == execs.end() ? 0 : it->second;
    }
    Caller nobody() {
        Caller c;
        c.uid = 65534;
        c.gid = 65534;
        c.pid = ::getpid();
        return c;
    }
    size_t scopes(const std::string& cls) {
        size_t n = 0;
        for (auto& e : fs::directory_iterator(root_ / (cls + ".slice")))
            n += e.is_directory() ? 1 : 0;
        return n;
    }

    fs::path base_;
    fs::path root_;
    boost::asio::io_context io_;
    std::unique_ptr<Governor> governor_;
    testsupport::FakeSpawner spawner_;
    std::unique_ptr<ExecService> exec_;
    runtime::ProcessAttributes attributes_;
    std::optional<Error> attributeError_;
    std::vector<Result<ExecStarted>> replies_;
    std::vector<std::string> events_;
};

TEST_F(ExecServiceTest, ARequestForAClassNotInThePolicyIsNeverCountedUnderItsName) {
    // An empty command line used to be counted (outcome "error") under the class
    // it named before the class was looked up: any string became a label.
    exec(request({}, "no-such-class-1"));
    exec(request({"true"}, "no-such-class-2"));
    ASSERT_EQ(replies_.size(), 2u);
    EXPECT_EQ(serviceCode(replies_[0].error()), int(ServiceErrc::UnknownClass));
    EXPECT_EQ(serviceCode(replies_[1].error()), int(ServiceErrc::UnknownClass));
    for (const auto& [key, n] : governor_->stats().execs)
        EXPECT_EQ(key.first.find("no-such-class"), std::string::npos) << key.first;
    EXPECT_EQ(counted("", "unknown_class"), 2u);
    EXPECT_TRUE(spawner_.children().empty());
}

TEST_F(ExecServiceTest, AnEmptyCommandLineInAKnownClassIsAnInvalidArgument) {
    exec(request({}));
    ASSERT_EQ(replies_.size(), 1u);
    EXPECT_EQ(serviceCode(replies_[0].error()), int(ServiceErrc::InvalidArgument));
    EXPECT_EQ(counted("adhoc", "error"), 1u);
}

TEST_F(ExecServiceTest, ARelativeWorkingDirectoryIsRefusedBeforeAnythingIsMade) {
    ExecRequest r = request({"true"});
    r.cwd = "tmp/work";
    exec(r);
    ASSERT_EQ(replies_.size(), 1u);
    ASSERT_FALSE(replies_[0].ok());
    EXPECT_EQ(serviceCode(replies_[0].error()), int(ServiceErrc::InvalidArgument));
    EXPECT_EQ(serviceMessage(replies_[0].error()),
              "exec: the working directory must be an absolute path, not \"tmp/work\"");
    EXPECT_TRUE(spawner_.children().empty());
    EXPECT_EQ(scopes("adhoc"), 0u);
}

TEST_F(ExecServiceTest, TheWorkloadGetsTheAttributesReadFromTheCallersProcess) {
    attributes_.nice = 7;
    attributes_.oomScoreAdj = 300;
    attributes_.noNewPrivs = true;
    attributes_.capBounding = 0x1;
    attributes_.umask = 077;
    attributes_.loginUid = 4242;
    attributes_.sessionId = 17;
    LogCapture log;
    exec(request({"true"}, "open"), nobody());
    runUntil([&] { return log.text().find("exec \"true\"") != std::string::npos; });
    // The workload gets a session of its own: the log links it to the caller's.
    EXPECT_NE(log.text().find("exec \"true\" as uid 65534 (nobody) (audit loginuid 4242, "
                              "session 17) in open.slice/true-"),
              std::string::npos)
        << log.text();
    ASSERT_EQ(spawner_.children().size(), 1u);
    const auto& req = spawner_.child(0).request;
    ASSERT_TRUE(req.attributes.has_value());
    EXPECT_EQ(req.attributes->nice, 7);
    EXPECT_EQ(req.attributes->oomScoreAdj, 300);
    EXPECT_TRUE(req.attributes->noNewPrivs);
    EXPECT_EQ(req.attributes->capBounding, 0x1u);
    EXPECT_EQ(req.attributes->umask, 077u);
    EXPECT_EQ(req.attributes->loginUid, 4242u);
    EXPECT_EQ(req.uid, 65534u);
    EXPECT_EQ(req.cwd, "/");
}

TEST_F(ExecServiceTest, ACallerWhoseProcessCannotBeReadIsRefused) {
    attributeError_ = Error::withReason("process 812", "exited while its attributes were read",
                                        std::errc::no_such_process);
    exec(request({"true"}, "open"), nobody());
    ASSERT_EQ(replies_.size(), 1u);
    EXPECT_EQ(serviceCode(replies_[0].error()), int(ServiceErrc::Denied));
    EXPECT_NE(serviceMessage(replies_[0].error()).find("exited while its attributes were read"),
              std::string::npos);
    EXPECT_TRUE(spawner_.children().empty());
    EXPECT_EQ(scopes("open"), 0u);
}

TEST_F(ExecServiceTest, StdinThatIsATerminalBecomesTheControllingTerminal) {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(master, 0);
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(slave, 0);
    int pipeFds[2];
    ASSERT_EQ(::pipe2(pipeFds, O_CLOEXEC), 0);
    ExecRequest withTerminal = request({"sh"});
    withTerminal.stdinFd = slave;
    exec(withTerminal);
    ExecRequest withPipe = request({"sh"});
    withPipe.stdinFd = pipeFds[0];
    exec(withPipe);
    ::close(slave);
    ::close(master);
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
    ASSERT_EQ(spawner_.children().size(), 2u);
    EXPECT_TRUE(spawner_.child(0).request.controllingTerminal);
    EXPECT_TRUE(spawner_.child(0).request.newSession);
    EXPECT_FALSE(spawner_.child(1).request.controllingTerminal);
}

TEST_F(ExecServiceTest, TheReplyWaitsForTheChildsExecWithoutHoldingTheLoop) {
    spawner_.execAtOnce = false;
    const auto t0 = std::chrono::steady_clock::now();
    exec(request({"sleep", "1"}, "open"), nobody());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "exec() waited for the child";
    EXPECT_TRUE(replies_.empty()) << "no reply before the child has exec'd";
    EXPECT_EQ(exec_->pending(), 1u);
    // The loop serves other work meanwhile.
    bool served = false;
    boost::asio::post(io_, [&] { served = true; });
    runUntil([&] { return served; });
    EXPECT_TRUE(served);
    EXPECT_TRUE(replies_.empty());
    spawner_.exec(0);
    runUntil([&] { return !replies_.empty(); });
    ASSERT_EQ(replies_.size(), 1u);
    ASSERT_TRUE(replies_[0].ok()) << replies_[0].error().message();
    EXPECT_EQ(replies_[0]->pid, spawner_.child(0).pid);
    EXPECT_EQ(exec_->pending(), 0u);
    EXPECT_EQ(exec_->running(), 1u);
    EXPECT_EQ(counted("open", "ok"), 1u);
}

TEST_F(ExecServiceTest, TheExitReportNeverOvertakesTheExecReply) {
    // The process has exited (its pidfd is readable) before the loop has seen
    // that it exec'd: the reply must still come first.
    spawner_.execAtOnce = false;
    exec(request({"true"}, "open"), nobody());
    spawner_.exit(0, 7);
    spawner_.exec(0);
    runUntil([&] { return events_.size() >= 2; });
    ASSERT_EQ(events_.size(), 2u);
    EXPECT_EQ(events_[0].rfind("reply ", 0), 0u) << events_[0];
    EXPECT_EQ(events_[1].rfind("exit ", 0), 0u) << events_[1];
    EXPECT_EQ(events_[1].substr(events_[1].size() - 2), " 7");
}

TEST_F(ExecServiceTest, AChildThatNeverExecsIsKilledAfterTheBoundWithALogLine) {
    LogCapture log;
    spawner_.execAtOnce = false;
    exec_->setExecTimeout(150ms);
    exec(request({"stopped-child"}, "open"), nobody());
    EXPECT_TRUE(replies_.empty());
    runUntil([&] { return !replies_.empty(); });
    ASSERT_EQ(replies_.size(), 1u);
    ASSERT_FALSE(replies_[0].ok());
    EXPECT_EQ(replies_[0].error().message(),
              "spawn stopped-child: the child did not reach exec within 150 ms (stopped or "
              "frozen?)");
    EXPECT_TRUE(spawner_.child(0).abandoned);
    EXPECT_EQ(scopes("open"), 0u) << "the group is discarded";
    EXPECT_EQ(counted("open", "error"), 1u);
    EXPECT_NE(log.text().find("did not reach exec within 150 ms"), std::string::npos) << log.text();
}

TEST_F(ExecServiceTest, ACommandTheCallerCannotFindIsCommandNotFoundAndLeavesNoGroup) {
    spawner_.failBeforeExec = Error::fromErrno("exec tcpdumb", ENOENT);
    exec(request({"tcpdumb"}));
    ASSERT_EQ(replies_.size(), 1u);
    EXPECT_EQ(serviceCode(replies_[0].error()), int(ServiceErrc::CommandNotFound));
    EXPECT_EQ(serviceMessage(replies_[0].error()), "tcpdumb: command not found");
    EXPECT_EQ(scopes("adhoc"), 0u);
    spawner_.failBeforeExec = Error::fromErrno("exec /root/.bashrc", EACCES);
    exec(request({"/root/.bashrc"}));
    EXPECT_EQ(serviceCode(replies_.at(1).error()), int(ServiceErrc::CannotExecute));
}

TEST_F(ExecServiceTest, AFrozenClassIsRefusedBeforeAGroupIsMade) {
    writeFile(root_ / "adhoc.slice" / "cgroup.freeze", "1\n");
    exec(request({"true"}));
    ASSERT_EQ(replies_.size(), 1u);
    EXPECT_EQ(serviceCode(replies_[0].error()), int(ServiceErrc::Frozen));
    EXPECT_TRUE(spawner_.children().empty());
    EXPECT_EQ(scopes("adhoc"), 0u);
}

TEST_F(ExecServiceTest, ANewlineInTheCommandOfARefusedExecStaysOneEscapedLogLine) {
    LogCapture log;
    const std::string forged =
        "x\n2026-11-29 03:00:00.000 info  exec /bin/sh as uid 0 (root) in "
        "adhoc.slice/FORGED.scope: pid 1";
    exec(request({forged}), nobody());  // nobody may not exec into adhoc
    ASSERT_EQ(replies_.size(), 1u);
    EXPECT_EQ(serviceCode(replies_[0].error()), int(ServiceErrc::Denied));
    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 1u) << log.text();
    EXPECT_EQ(lines[0].rfind("warning exec \"x\\n2026-11-29", 0), 0u) << lines[0];
}

TEST_F(ExecServiceTest, AHugeClassNameIsCutInTheLogWithItsLengthStated) {
    LogCapture log;
    const std::string huge(100000, 'k');
    exec(request({"true"}, huge), nobody());
    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_LT(lines[0].size(), 1000u);
    EXPECT_NE(lines[0].find("[cut: "), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace gov::daemon
