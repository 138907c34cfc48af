// Who may do what through the control API (docs/dbus.md, "Who the caller is, and who
// may do what"): every decision of the authorization functions, table-driven, over
// a policy compiled from TOML (so the policy keys are pinned to the lists they fill),
// and the owner rules of ExecService::signal for adopted workload groups.
//
// Names resolve through NSS: the users and groups below are Debian's base-passwd
// entries (present on every Debian system); ids 4200-4299 have no passwd or group
// entry, so only their group ids can match.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "FakeSpawner.hpp"
#include "FakeTree.hpp"
#include "gov/core/Authorization.hpp"
#include "gov/core/Governor.hpp"
#include "gov/daemon/ExecService.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::daemon {
namespace {

// The decisions are gov::core's (Authorization.hpp); ExecService is the daemon's.
using namespace gov::core;

// The roles of the table: admins by user (bin) and group (sys); class web with an
// exec list (user daemon, group adm) and a control list (user sync, group tty);
// class batch with other lists (exec user games, control user man and group disk);
// class locked with no lists (root only).
constexpr const char* kPolicy = R"(
[governor]
admins.users = ["bin"]
admins.groups = ["sys"]

[classes.web]
exec.users = ["daemon"]
exec.groups = ["adm"]
control.users = ["sync"]
control.groups = ["tty"]

[classes.batch]
exec.users = ["games"]
control.users = ["man"]
control.groups = ["disk"]

[classes.locked]
)";

// Base-passwd ids (Debian: /usr/share/base-passwd/{passwd,group}.master). A user's
// callers below carry that user's real primary group: sync's is nogroup, games's
// group games (60), man's group man (12). (The uid numbers 4, 5, 6 are also the gids
// of adm, tty and disk: only a caller's gids, never its uid, may match a group.)
constexpr uid_t kRoot = 0, kDaemon = 1, kBin = 2, kSync = 4, kGames = 5, kMan = 6, kNobody = 65534;
constexpr gid_t kGroupSys = 3, kGroupAdm = 4, kGroupTty = 5, kGroupDisk = 6, kGroupMan = 12,
                kGroupGames = 60, kNogroup = 65534;

policies::Policy testPolicy() {
    auto compiled = policies::compileText(kPolicy, "authorization.toml");
    EXPECT_TRUE(compiled.ok()) << (compiled.diagnostics.empty() ? std::string()
                                                                : compiled.diagnostics[0].format());
    return compiled.policy.value_or(policies::Policy{});
}

Caller caller(uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
    Caller c;
    c.uid = uid;
    c.gid = gid;
    c.groups = std::move(groups);
    return c;
}

// One caller and what it may do, in the column order of kColumns:
// exec into web, batch, locked; freeze web, batch, locked; reload. 'Y' allowed.
struct Row {
    const char* who;
    Caller caller;
    const char* may;
};

constexpr const char* kColumns[] = {"exec web",     "exec batch",    "exec locked", "freeze web",
                                    "freeze batch", "freeze locked", "reload"};

std::vector<Row> table() {
    return {
        {"root", caller(kRoot, 0), "YYYYYYY"},
        // Admins control every class and reload, and exec nowhere they are not listed.
        {"admin by user name", caller(kBin, kBin), "NNNYYYY"},
        {"admin by supplementary group", caller(4201, 4201, {kGroupSys}), "NNNYYYY"},
        {"admin by primary group", caller(4202, kGroupSys), "NNNYYYY"},
        // A class's exec list: exec into that class only.
        {"web exec user", caller(kDaemon, kDaemon), "YNNNNNN"},
        {"web exec group (supplementary)", caller(4203, 4203, {kNogroup, kGroupAdm}), "YNNNNNN"},
        {"web exec group (primary)", caller(4204, kGroupAdm), "YNNNNNN"},
        {"batch exec user", caller(kGames, kGroupGames), "NYNNNNN"},
        // A class's control list: freeze/thaw/kill that class only, no exec, no reload.
        {"web control user", caller(kSync, kNogroup), "NNNYNNN"},
        {"web control group", caller(4205, 4205, {kGroupTty}), "NNNYNNN"},
        {"batch control user", caller(kMan, kGroupMan), "NNNNYNN"},
        {"batch control group (primary)", caller(4206, kGroupDisk), "NNNNYNN"},
        // Everyone else: nothing.
        {"nobody", caller(kNobody, kNogroup), "NNNNNNN"},
        {"a uid without a passwd entry", caller(4207, 4207), "NNNNNNN"},
        // A user whose NAME equals a listed group's name is not in that group.
        {"user sys (a group name in admins)", caller(3, 4208), "NNNNNNN"},
    };
}

Result<void> decide(const policies::Policy& p, int column, const Caller& c) {
    switch (column) {
        case 0:
            return authorizeExec(p, "web", c);
        case 1:
            return authorizeExec(p, "batch", c);
        case 2:
            return authorizeExec(p, "locked", c);
        case 3:
            return authorizeControl(p, "web", "freeze", "class web", c);
        case 4:
            return authorizeControl(p, "batch", "freeze", "class batch", c);
        case 5:
            return authorizeControl(p, "locked", "freeze", "class locked", c);
        default:
            return authorizeAdmin(p, "reload the policy", c);
    }
}

TEST(Authorization, EveryCallerMayDoExactlyWhatThePermissionTableSays) {
    const auto policy = testPolicy();
    for (const auto& row : table()) {
        ASSERT_EQ(std::string(row.may).size(), std::size(kColumns)) << row.who;
        for (int col = 0; col < int(std::size(kColumns)); ++col) {
            auto r = decide(policy, col, row.caller);
            const bool want = row.may[col] == 'Y';
            EXPECT_EQ(r.ok(), want)
                << row.who << " (uid " << row.caller.uid << "): " << kColumns[col] << ": want "
                << (want ? "allowed" : "refused") << ", got "
                << (r.ok() ? "allowed" : serviceMessage(r.error()));
            if (!r.ok()) {
                EXPECT_EQ(serviceCode(r.error()), int(ServiceErrc::Denied))
                    << row.who << ": " << kColumns[col] << ": " << r.error().message();
            }
        }
    }
}

TEST(Authorization, ThawAndKillFollowTheSameListsAsFreeze) {
    const auto policy = testPolicy();
    for (const char* action : {"thaw", "kill"}) {
        EXPECT_TRUE(
            authorizeControl(policy, "web", action, "class web", caller(kSync, kNogroup)).ok())
            << action;
        EXPECT_FALSE(
            authorizeControl(policy, "batch", action, "class batch", caller(kSync, kNogroup)).ok())
            << action;
        EXPECT_TRUE(
            authorizeControl(policy, "batch", action, "class batch", caller(kBin, kBin)).ok())
            << action;
        EXPECT_FALSE(
            authorizeControl(policy, "web", action, "class web", caller(kNobody, kNogroup)).ok())
            << action;
    }
}

TEST(Authorization, RefusalsNameTheCallerTheActionAndTheObject) {
    const auto policy = testPolicy();
    auto exec = authorizeExec(policy, "locked", caller(kDaemon, kDaemon));
    ASSERT_FALSE(exec.ok());
    EXPECT_EQ(serviceMessage(exec.error()), "uid 1 (daemon) may not exec into class locked");

    auto kill = authorizeControl(policy, "web", "kill", "group web.slice/x-1-2.scope",
                                 caller(kMan, kGroupMan));
    ASSERT_FALSE(kill.ok());
    EXPECT_EQ(serviceMessage(kill.error()), "uid 6 (man) may not kill group web.slice/x-1-2.scope");

    auto reload = authorizeAdmin(policy, "reload the policy", caller(4207, 4207));
    ASSERT_FALSE(reload.ok());
    EXPECT_EQ(serviceMessage(reload.error()), "uid 4207 may not reload the policy");
}

TEST(Authorization, ExecIntoAClassNotInThePolicyIsUnknownClassEvenForRoot) {
    const auto policy = testPolicy();
    for (const auto& c : {caller(kRoot, 0), caller(kBin, kBin), caller(kNobody, kNogroup)}) {
        auto r = authorizeExec(policy, "nosuch", c);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(serviceCode(r.error()), int(ServiceErrc::UnknownClass));
        EXPECT_EQ(serviceMessage(r.error()), "unknown class 'nosuch' (not in the policy in force)");
    }
}

TEST(Authorization, WithoutAnyListsOnlyRootMayDoAnything) {
    // The built-in default policy lists nobody.
    const auto policy = policies::defaultPolicy();
    for (const char* cls : {"core", "noncore", "adhoc"}) {
        EXPECT_TRUE(authorizeExec(policy, cls, caller(kRoot, 0)).ok()) << cls;
        EXPECT_TRUE(authorizeControl(policy, cls, "kill", cls, caller(kRoot, 0)).ok()) << cls;
        EXPECT_FALSE(authorizeExec(policy, cls, caller(kBin, kBin, {kGroupSys})).ok()) << cls;
        EXPECT_FALSE(
            authorizeControl(policy, cls, "kill", cls, caller(kBin, kBin, {kGroupSys})).ok())
            << cls;
    }
    EXPECT_TRUE(authorizeAdmin(policy, "reload the policy", caller(kRoot, 0)).ok());
    EXPECT_FALSE(authorizeAdmin(policy, "reload the policy", caller(kBin, kBin, {kGroupSys})).ok());
}

TEST(Authorization, IsAllowedMatchesUserNamesAndGroupNamesOnly) {
    policies::Principals who;
    who.users = {"daemon"};
    who.groups = {"adm"};
    EXPECT_TRUE(isAllowed(who, caller(kRoot, 0)));
    EXPECT_TRUE(isAllowed(who, caller(kDaemon, 4209)));
    EXPECT_TRUE(isAllowed(who, caller(4209, kGroupAdm)));
    EXPECT_TRUE(isAllowed(who, caller(4209, 4209, {4210, kGroupAdm})));
    EXPECT_FALSE(isAllowed(who, caller(4209, 4209, {4210})));
    // gid 1 is group "daemon": a listed USER name does not admit a group of that name.
    EXPECT_FALSE(isAllowed(who, caller(4209, kDaemon)));
    EXPECT_FALSE(isAllowed(policies::Principals{}, caller(kDaemon, kGroupAdm)));
}

// ---- ExecService::signal on workload groups the daemon adopted --------------------
// Who exec'd an adopted group is not recorded: root may signal it, and so may a
// caller that owns every one of its processes (real uid); nobody else. The
// processes here are children of the test that block SIGUSR1, so a delivered signal
// stays pending and is seen at once in /proc/<pid>/status (ShdPnd).

class AdoptedSignal : public ::testing::Test {
  protected:
    void SetUp() override {
        // Processes owned by someone other than the test need root (setresuid);
        // without it the test's own uid is the owner and pid 1 (init, never
        // signalled: the call is refused first) stands for someone else's process.
        root_ = ::geteuid() == 0;
        owner_ = root_ ? 4211 : ::getuid();
        mine_ = child(owner_);
        mine2_ = child(owner_);
        other_ = root_ ? child(kNobody) : 1;
        otherUid_ = root_ ? kNobody : 0;
        ASSERT_GT(mine_, 0);
        ASSERT_GT(mine2_, 0);
        ASSERT_GT(other_, 0);

        tree_.makeGroup("adhoc.slice");
        tree_.makeGroup("adhoc.slice/mine.scope", /*populated=*/true);
        tree_.write("adhoc.slice/mine.scope/cgroup.procs",
                    std::to_string(mine_) + "\n" + std::to_string(mine2_) + "\n");
        tree_.makeGroup("adhoc.slice/mixed.scope", /*populated=*/true);
        tree_.write("adhoc.slice/mixed.scope/cgroup.procs",
                    std::to_string(mine_) + "\n" + std::to_string(other_) + "\n");
        config_.cgroupRoot = tree_.root().string();
        config_.stateDir = (tree_.base() / "state").string();
        config_.moveSelf = false;
        config_.sysRoot = tree_.sysRoot().string();
        config_.devRoot = tree_.devRoot().string();
        config_.policyFiles = {(tree_.base() / "policy.toml").string()};
        testsupport::writeFile(config_.policyFiles[0], "[classes.adhoc]\n");
        auto g = Governor::start(config_);
        ASSERT_TRUE(g.ok()) << g.error().message();
        governor_ = std::move(*g);
        ASSERT_EQ(governor_->workloads().count("adhoc.slice/mixed.scope"), 1u);
        exec_ = std::make_unique<ExecService>(io_, *governor_, spawner_);
    }

    void TearDown() override {
        EXPECT_TRUE(spawner_.children().empty()) << "signal() must not spawn";
        exec_.reset();
        for (pid_t pid : children_) {
            ::kill(pid, SIGKILL);
            int status = 0;
            // SIGKILL cannot be blocked or ignored: the wait ends.
            ::waitpid(pid, &status, 0);
        }
    }

    // A child that blocks SIGUSR1 and waits, as `uid` (setresuid when it differs).
    pid_t child(uid_t uid) {
        int ready[2];
        if (::pipe(ready) != 0)
            return -1;
        pid_t pid = ::fork();
        if (pid == 0) {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR1);
            sigprocmask(SIG_BLOCK, &set, nullptr);
            if (uid != ::getuid() && ::setresuid(uid, uid, uid) != 0)
                ::_exit(1);
            (void)!::write(ready[1], "x", 1);
            for (;;)
                ::pause();
        }
        ::close(ready[1]);
        char c = 0;
        // The child writes once it is set up (or dies: EOF).
        const bool up = pid > 0 && ::read(ready[0], &c, 1) == 1;
        ::close(ready[0]);
        if (pid > 0)
            children_.push_back(pid);
        return up ? pid : -1;
    }

    // Whether SIGUSR1 is pending for the process `pid` (ShdPnd of /proc/<pid>/status).
    static bool usr1Pending(pid_t pid) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/status");
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("ShdPnd:", 0) == 0) {
                unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
                return (mask >> (SIGUSR1 - 1)) & 1u;
            }
        }
        ADD_FAILURE() << "no ShdPnd line for pid " << pid;
        return false;
    }

    bool root_ = false;
    uid_t owner_ = 0;
    uid_t otherUid_ = 0;
    pid_t mine_ = -1, mine2_ = -1, other_ = -1;
    std::vector<pid_t> children_;
    testsupport::FakeCgroupTree tree_;
    GovernorConfig config_;
    std::unique_ptr<Governor> governor_;
    boost::asio::io_context io_;
    // signal() never spawns: TearDown checks that nothing was started.
    testsupport::FakeSpawner spawner_;
    std::unique_ptr<ExecService> exec_;
};

TEST_F(AdoptedSignal, TheOwnerOfEveryProcessSignalsEachOfThem) {
    auto r = exec_->signal("adhoc.slice/mine.scope", SIGUSR1, caller(owner_, owner_));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(usr1Pending(mine_));
    EXPECT_TRUE(usr1Pending(mine2_));
}

TEST_F(AdoptedSignal, RootSignalsEveryProcessWhoeverOwnsThem) {
    if (!root_)
        GTEST_SKIP() << "needs root: a process of another uid to signal";
    auto r = exec_->signal("adhoc.slice/mixed.scope", SIGUSR1, caller(kRoot, 0));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(usr1Pending(mine_));
    EXPECT_TRUE(usr1Pending(other_));
}

TEST_F(AdoptedSignal, ACallerWhoDoesNotOwnEveryProcessIsRefusedAndNoneIsSignalled) {
    auto r = exec_->signal("adhoc.slice/mixed.scope", SIGUSR1, caller(owner_, owner_));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(serviceCode(r.error()), int(ServiceErrc::Denied));
    EXPECT_NE(serviceMessage(r.error()).find(
                  "may not signal the workload in adhoc.slice/mixed.scope (process " +
                  std::to_string(other_) + " is uid " + std::to_string(otherUid_) + ")"),
              std::string::npos)
        << serviceMessage(r.error());
    EXPECT_FALSE(usr1Pending(mine_)) << "the caller's own process was signalled anyway";
}

TEST_F(AdoptedSignal, SomeoneElseIsRefused) {
    for (const auto& c : {caller(kNobody, kNogroup), caller(kBin, kBin, {kGroupSys})}) {
        if (c.uid == owner_)
            continue;
        auto r = exec_->signal("adhoc.slice/mine.scope", SIGUSR1, c);
        ASSERT_FALSE(r.ok()) << "uid " << c.uid;
        EXPECT_EQ(serviceCode(r.error()), int(ServiceErrc::Denied)) << r.error().message();
    }
    EXPECT_FALSE(usr1Pending(mine_));
    EXPECT_FALSE(usr1Pending(mine2_));
}

TEST_F(AdoptedSignal, UnknownGroupsAndInvalidSignalsAreRefusedBeforeAnyCheck) {
    auto unknown = exec_->signal("adhoc.slice/nosuch.scope", SIGUSR1, caller(kRoot, 0));
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(serviceCode(unknown.error()), int(ServiceErrc::NoSuchGroup));
    for (int bad : {0, -1, NSIG}) {
        auto r = exec_->signal("adhoc.slice/mine.scope", bad, caller(kRoot, 0));
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(serviceCode(r.error()), int(ServiceErrc::InvalidArgument)) << bad;
    }
    EXPECT_FALSE(usr1Pending(mine_));
}

}  // namespace
}  // namespace gov::daemon
