// Clone3Spawner's beforeRun hook, which private networks use to give a workload its
// veth before it runs: the parent's work is done before the child's first
// instruction of the command, and a failing hook fails the spawn without leaving a
// process behind.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gov/runtime/Spawner.hpp"

namespace gov::runtime {
namespace {

std::string tempPath(const char* tag) {
    return "/tmp/gov-spawnhook-" + std::to_string(::getpid()) + "-" + tag;
}

TEST(SpawnHook, RunsInTheParentBeforeTheChildRunsTheCommand) {
    const std::string marker = tempPath("marker");
    const std::string seen = tempPath("seen");
    ::unlink(marker.c_str());
    ::unlink(seen.c_str());
    pid_t hookPid = -1;
    SpawnRequest req;
    // The command copies what the hook wrote: it can only do so if the hook ran first.
    req.argv = {"/bin/sh", "-c", "cat " + marker + " > " + seen};
    req.env = {"PATH=/usr/bin:/bin"};
    req.beforeRun = [&](pid_t pid) -> Result<void> {
        hookPid = pid;
        std::ofstream(marker) << "written by the parent for " << pid;
        return success();
    };
    Clone3Spawner spawner;
    auto p = spawner.spawn(req);
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(hookPid, p->pid);
    auto status = waitExit(*p);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(*status, 0);
    std::ifstream in(seen);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "written by the parent for " + std::to_string(p->pid));
    ::unlink(marker.c_str());
    ::unlink(seen.c_str());
}

TEST(SpawnHook, AFailingHookFailsTheSpawnAndLeavesNoProcess) {
    const std::string ran = tempPath("ran");
    ::unlink(ran.c_str());
    pid_t hookPid = -1;
    SpawnRequest req;
    req.argv = {"/bin/sh", "-c", "touch " + ran};
    req.env = {"PATH=/usr/bin:/bin"};
    req.beforeRun = [&](pid_t pid) -> Result<void> {
        hookPid = pid;
        return Error::withReason("connect to the private network", "no address left");
    };
    Clone3Spawner spawner;
    auto p = spawner.spawn(req);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message().find("connect to the private network: no address left"),
              std::string::npos)
        << p.error().message();
    ASSERT_GT(hookPid, 0);
    // Killed and reaped by spawn(): no such child any more, and the command never ran.
    EXPECT_EQ(::waitpid(hookPid, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
    EXPECT_NE(::access(ran.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace gov::runtime
