// governord's command line (README "Options"): every option, its default, the usage
// errors (exit 2) and the defaults resolved from the environment (systemd's
// STATE_DIRECTORY and INVOCATION_ID) over a fake /proc.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <string>
#include <vector>

#include "FakeTree.hpp"
#include "gov/daemon/Options.hpp"

namespace gov::daemon {
namespace {

using namespace std::chrono_literals;

// parseOptions over `args` (argv[0] is added); exitCode gets what it set.
std::optional<Options> parse(std::vector<std::string> args, int& exitCode) {
    args.insert(args.begin(), "governord");
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    exitCode = -1;
    return parseOptions(static_cast<int>(argv.size()), argv.data(), exitCode);
}

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name))
            old_ = old;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(Options, WithoutArgumentsEveryOptionHasItsDocumentedDefault) {
    int code = 0;
    auto o = parse({}, code);
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->policyFiles.empty());
    EXPECT_EQ(o->policyDir, "");
    EXPECT_EQ(o->cgroupRoot, "");
    EXPECT_EQ(o->stateDir, "");
    EXPECT_EQ(o->logLevel, "info");
    EXPECT_EQ(o->rescanInterval, 5000ms);
    EXPECT_EQ(o->metricsListen, "127.0.0.1:9783") << "loopback unless told otherwise";
    EXPECT_EQ(o->bus, "system");
}

TEST(Options, EveryOptionIsParsedAndPolicyFilesKeepTheirOrder) {
    testsupport::TempDir dir("gov-options");
    testsupport::writeFile(dir / "b.toml", "");
    testsupport::writeFile(dir / "a.toml", "");
    int code = 0;
    auto o = parse({"--policy", dir / "b.toml", "--policy", dir / "a.toml", "--policy-dir",
                    dir / "policy.d", "--cgroup-root", "/sys/fs/cgroup/x", "--state-dir",
                    "/var/tmp/st", "--log-level", "debug", "--rescan-interval", "0.2",
                    "--metrics-listen", "127.0.0.1:9999", "--bus", "unix:path=/run/b"},
                   code);
    ASSERT_TRUE(o) << "exit code " << code;
    EXPECT_EQ(o->policyFiles, (std::vector<std::string>{dir / "b.toml", dir / "a.toml"}));
    // The folder need not exist at start: it is read at each (re)load.
    EXPECT_EQ(o->policyDir, dir / "policy.d");
    EXPECT_EQ(o->cgroupRoot, "/sys/fs/cgroup/x");
    EXPECT_EQ(o->stateDir, "/var/tmp/st");
    EXPECT_EQ(o->logLevel, "debug");
    EXPECT_EQ(o->rescanInterval, 200ms);
    EXPECT_EQ(o->metricsListen, "127.0.0.1:9999");
    EXPECT_EQ(o->bus, "unix:path=/run/b");
}

TEST(Options, EmptyMetricsListenAndBusTurnThoseOff) {
    int code = 0;
    auto o = parse({"--metrics-listen", "", "--bus", ""}, code);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->metricsListen, "");
    EXPECT_EQ(o->bus, "");
}

TEST(Options, UsageErrorsExitWith2) {
    const std::vector<std::vector<std::string>> bad = {
        {"--no-such-option"},
        {"--policy", "/nonexistent/gov-policy.toml"},
        {"--log-level", "loud"},
        {"--rescan-interval", "0.05"},
        {"--rescan-interval", "3601"},
        {"--rescan-interval", "soon"},
        {"--state-dir"},
        {"stray-argument"},
    };
    for (const auto& args : bad) {
        int code = 0;
        auto o = parse(args, code);
        std::string line;
        for (const auto& a : args)
            line += a + " ";
        EXPECT_FALSE(o) << line;
        EXPECT_EQ(code, 2) << line;
    }
}

TEST(Options, HelpAndVersionExitWith0) {
    for (const char* flag : {"--help", "--version"}) {
        int code = -1;
        EXPECT_FALSE(parse({flag}, code)) << flag;
        EXPECT_EQ(code, 0) << flag;
    }
}

// A fake /proc whose mountinfo puts the cgroup2 mount at a temp folder with a
// cgroup.controllers file, and whose self/cgroup says `ownCgroup`.
class ResolveDefaults : public ::testing::Test {
  protected:
    void SetUp() override {
        testsupport::writeFile(dir_ / "cgroup2/cgroup.controllers", "cpu memory\n");
        testsupport::writeFile(dir_ / "proc/self/mountinfo",
                               "30 1 0:26 / " + mount() +
                                   " rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
                                   "rw,nsdelegate\n");
        ownCgroup("/system.slice/governord.service/governord");
    }
    void ownCgroup(const std::string& path) {
        testsupport::writeFile(dir_ / "proc/self/cgroup", "0::" + path + "\n");
    }
    std::string mount() const { return dir_ / "cgroup2"; }
    std::string proc() const { return dir_ / "proc"; }

    testsupport::TempDir dir_{"gov-resolve"};
    ScopedEnv noInvocation_{"INVOCATION_ID", nullptr};
    ScopedEnv noStateDirectory_{"STATE_DIRECTORY", nullptr};
};

TEST_F(ResolveDefaults, OutsideSystemdTheRootIsGovernorUnderTheMountAndAncestorsAreEnabled) {
    auto o = resolveDefaults(Options{}, proc());
    ASSERT_TRUE(o.ok()) << o.error().message();
    EXPECT_EQ(o->cgroupMount, mount());
    EXPECT_EQ(o->cgroupRoot, mount() + "/governor");
    EXPECT_TRUE(o->enableAncestors);
    EXPECT_EQ(o->stateDir, kDefaultStateDir);
}

TEST_F(ResolveDefaults, UnderSystemdTheRootIsTheServicesCgroupWithoutTheDaemonsLeaf) {
    ScopedEnv invocation("INVOCATION_ID", "0123456789abcdef");
    ScopedEnv state("STATE_DIRECTORY", "/var/lib/governor:/var/lib/other");
    auto o = resolveDefaults(Options{}, proc());
    ASSERT_TRUE(o.ok()) << o.error().message();
    // A restarted daemon still sits in <root>/governord: the root is its parent.
    EXPECT_EQ(o->cgroupRoot, mount() + "/system.slice/governord.service");
    EXPECT_FALSE(o->enableAncestors) << "systemd's groups are systemd's";
    EXPECT_EQ(o->stateDir, "/var/lib/governor") << "the first of STATE_DIRECTORY's folders";

    ownCgroup("/system.slice/governor-root.service");
    auto fresh = resolveDefaults(Options{}, proc());
    ASSERT_TRUE(fresh.ok()) << fresh.error().message();
    EXPECT_EQ(fresh->cgroupRoot, mount() + "/system.slice/governor-root.service");
}

TEST_F(ResolveDefaults, WhatTheCommandLineSaysWins) {
    ScopedEnv state("STATE_DIRECTORY", "/var/lib/governor");
    Options given;
    given.cgroupRoot = "/somewhere/else";
    given.stateDir = "/var/tmp/state";
    auto o = resolveDefaults(given, proc());
    ASSERT_TRUE(o.ok()) << o.error().message();
    EXPECT_EQ(o->cgroupRoot, "/somewhere/else");
    EXPECT_EQ(o->stateDir, "/var/tmp/state");
}

TEST_F(ResolveDefaults, NoCgroup2MountAndNoRootGivenIsAnError) {
    testsupport::writeFile(dir_ / "proc/self/mountinfo",
                           "22 28 0:21 / /proc rw,nosuid shared:13 - proc proc rw\n");
    auto o = resolveDefaults(Options{}, proc());
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error().message().find("find the cgroup v2 hierarchy"), std::string::npos)
        << o.error().message();
}

}  // namespace
}  // namespace gov::daemon
