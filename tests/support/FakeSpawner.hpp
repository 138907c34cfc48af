// A ProcessSpawner that starts nothing, for the unit tests of the code that spawns
// (ExecService): every start() is recorded, and the test decides when the "child"
// reaches its exec (or fails before it) and when its "process" exits. Pipes stand
// in for the report fd and the pidfd, so the code under test can wait on them on
// its io_context exactly as on the real ones.
//
// Fake pids start at 4000000, above any pid_max, so a stray kill() reaches nobody.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "gov/runtime/Spawner.hpp"

namespace gov::testsupport {

class FakeSpawner : public runtime::ProcessSpawner {
  public:
    struct Child {
        runtime::SpawnRequest request;  // as start() got it (descriptors are numbers only)
        pid_t pid = -1;
        int reportWrite = -1;  // closed when it "execs"; a failure is written first
        int exitWrite = -1;    // the pidfd stand-in: written when it "exits"
        std::optional<runtime::ExitStatus> exit;
        std::optional<Error> failure;  // what finish() reports
        bool abandoned = false;
        bool finished = false;
    };

    // How the next start() goes.
    std::optional<Error> failStart;       // start() itself fails
    std::optional<Error> failBeforeExec;  // the child reports this failure
    bool execAtOnce = true;               // the child has exec'd when start() returns

    ~FakeSpawner() override {
        for (auto& [pid, c] : children_) {
            closeFd(c.reportWrite);
            closeFd(c.exitWrite);
        }
    }

    // The children in start() order.
    std::vector<const Child*> children() const {
        std::vector<const Child*> out;
        for (pid_t pid : order_)
            out.push_back(&children_.at(pid));
        return out;
    }
    const Child& child(size_t i) const { return children_.at(order_.at(i)); }

    // Child #i reaches its exec now (or reports its failure).
    void exec(size_t i) {
        Child& c = children_.at(order_.at(i));
        if (c.failure) {
            const char byte = 1;
            (void)::write(c.reportWrite, &byte, 1);
        }
        closeFd(c.reportWrite);
    }
    // Its process exits with `status` (128+signal when `signal`).
    void exit(size_t i, int status, int signal = 0) {
        Child& c = children_.at(order_.at(i));
        c.exit = runtime::ExitStatus{status, signal};
        const char byte = 1;
        (void)::write(c.exitWrite, &byte, 1);
    }

    Result<runtime::PendingSpawn> start(const runtime::SpawnRequest& request) override {
        if (failStart)
            return *std::exchange(failStart, std::nullopt);
        int report[2];
        int pidfd[2];
        if (::pipe2(report, O_CLOEXEC) != 0)
            return Error::fromErrno("fake spawn: pipe");
        if (::pipe2(pidfd, O_CLOEXEC) != 0) {
            ::close(report[0]);
            ::close(report[1]);
            return Error::fromErrno("fake spawn: pipe");
        }
        Child c;
        c.request = request;
        c.pid = nextPid_++;
        c.reportWrite = report[1];
        c.exitWrite = pidfd[1];
        c.failure = std::exchange(failBeforeExec, std::nullopt);
        order_.push_back(c.pid);
        auto& stored = children_[c.pid] = std::move(c);
        runtime::PendingSpawn p;
        p.process.pid = stored.pid;
        p.process.pidfd = runtime::Fd(pidfd[0]);
        p.report = runtime::Fd(report[0]);
        p.name = request.argv.empty() ? std::string() : request.argv.front();
        if (execAtOnce)
            exec(order_.size() - 1);
        return p;
    }

    Result<runtime::SpawnedProcess> finish(runtime::PendingSpawn& pending) override {
        Child& c = children_.at(pending.process.pid);
        c.finished = true;
        pending.report.reset();
        if (c.failure)
            return *c.failure;
        return std::move(pending.process);
    }

    void abandon(runtime::PendingSpawn& pending) override {
        children_.at(pending.process.pid).abandoned = true;
        pending.report.reset();
    }

    Result<std::optional<runtime::ExitStatus>> reap(
        const runtime::SpawnedProcess& process) override {
        return children_.at(process.pid).exit;
    }

  private:
    static void closeFd(int& fd) {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }

    pid_t nextPid_ = 4000000;
    std::vector<pid_t> order_;
    std::map<pid_t, Child> children_;
};

}  // namespace gov::testsupport
