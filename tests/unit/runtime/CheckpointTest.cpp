// checkpointGroup and restoreIntoGroup on a fake cgroup tree, with a fake criu
// speaking the real RPC (FakeCriu.cpp) and a helper thread playing the kernel: it
// mirrors cgroup.freeze into "frozen" and empties the group on cgroup.kill. The
// workload is a real child of this test (stdio as each test sets it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "TestUtil.hpp"
#include "gov/runtime/Checkpoint.hpp"

namespace gov::runtime {
namespace {

using namespace std::chrono_literals;
using test::readFile;
using test::TempDir;
using test::writeFile;

constexpr const char* kGroup = "c.slice/w.scope";

class CheckpointTest : public ::testing::Test {
  protected:
    void SetUp() override {
        writeFile(cg() + "/cgroup.freeze", "0\n");
        writeFile(cg() + "/cgroup.events", "populated 1\nfrozen 0\n");
        writeFile(cg() + "/cgroup.kill", "");
        auto fs = CgroupFs::open(dir_ / "cg");
        ASSERT_TRUE(fs.ok());
        fs_.emplace(std::move(*fs));
        kernel_ = std::thread([this] { playKernel(); });
    }
    void TearDown() override {
        stop_ = true;
        if (kernel_.joinable()) {
            kernel_.join();
        }
        if (child_ > 0) {
            ::kill(child_, SIGKILL);
            ::waitpid(child_, nullptr, 0);
        }
    }
    std::string cg() const { return dir_ / (std::string("cg/") + kGroup); }
    std::string images() const { return dir_ / "images"; }

    // Mirrors cgroup.freeze into cgroup.events and empties the group on a kill, by
    // rewriting cgroup.events in place (inotify sees IN_MODIFY).
    void playKernel() {
        while (!stop_) {
            std::string freeze = readFile(cg() + "/cgroup.freeze");
            std::string kill = readFile(cg() + "/cgroup.kill");
            char frozen = !freeze.empty() && freeze[0] == '1' ? '1' : '0';
            char populated = !kill.empty() && kill[0] == '1' ? '0' : '1';
            std::string want = std::string("populated ") + populated + "\nfrozen " + frozen + "\n";
            if (readFile(cg() + "/cgroup.events") != want) {
                int fd = ::open((cg() + "/cgroup.events").c_str(), O_WRONLY);
                if (fd >= 0) {
                    (void)!::pwrite(fd, want.data(), want.size(), 0);
                    ::close(fd);
                }
                if (freeze[0] == '1') {
                    ++freezes_;
                }
            }
            std::this_thread::sleep_for(2ms);
        }
    }

    // A sleeping child as the group's only process, stdout to `out` (-1: /dev/null).
    void startWorkload(int out = -1) {
        int devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ASSERT_GE(devNull, 0);
        child_ = ::fork();
        ASSERT_GE(child_, 0);
        if (child_ == 0) {
            ::dup2(devNull, 0);
            ::dup2(out >= 0 ? out : devNull, 1);
            ::dup2(devNull, 2);
            ::pause();
            ::_exit(0);
        }
        ::close(devNull);
        writeFile(cg() + "/cgroup.procs", std::to_string(child_) + "\n");
    }

    CheckpointRequest request() {
        CheckpointRequest r;
        r.group = kGroup;
        r.manifest.className = "adhoc";
        r.manifest.governorVersion = "0.1.0";
        r.manifest.limits = {{"memory.max", "2147483648"}};
        r.freezeTimeout = 2000ms;
        return r;
    }
    // The fake criu acting out `mode` (see FakeCriu.cpp), called through a symlink.
    Criu criu(const std::string& mode) const {
        std::string link = dir_ / ("criu-" + mode);
        std::error_code ec;
        std::filesystem::create_symlink(GOV_FAKE_CRIU, link, ec);
        return Criu(Criu::Options{link, 20s});
    }
    // openCheckpointFolder(images()) then checkpointGroup into it.
    Result<CheckpointOutcome> checkpoint(const std::string& mode, const CheckpointRequest& r) {
        auto folder = openCheckpointFolder(images());
        if (!folder) {
            return std::move(folder).error();
        }
        return checkpointGroup(*fs_, criu(mode), r, *folder);
    }
    std::string freezeFile() const { return readFile(cg() + "/cgroup.freeze").substr(0, 1); }
    std::string killFile() const { return readFile(cg() + "/cgroup.kill"); }
    bool exists(const std::string& name) const {
        return std::filesystem::exists(images() + "/" + name);
    }

    TempDir dir_;
    std::optional<CgroupFs> fs_;
    std::thread kernel_;
    std::atomic<bool> stop_{false};
    std::atomic<int> freezes_{0};
    pid_t child_ = -1;
};

TEST_F(CheckpointTest, WritesTheManifestLastThenKillsTheGroup) {
    startWorkload();
    auto out = checkpoint("ok", request());
    ASSERT_TRUE(out.ok()) << out.error().message();
    EXPECT_EQ(killFile(), "1");
    EXPECT_GE(freezes_.load(), 1);
    auto m = readCheckpoint(images());
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(*m, out->manifest);
    EXPECT_EQ(m->className, "adhoc");
    EXPECT_EQ(m->group, kGroup);
    // The test's own child: a plain process of the test's uid (root's: 0).
    EXPECT_EQ(m->ownerUid, ::getuid());
    EXPECT_NE(std::find(m->ownerGids.begin(), m->ownerGids.end(), ::getgid()), m->ownerGids.end());
    EXPECT_EQ(m->criuVersion, "3.17.1");
    EXPECT_EQ(m->rootPid, child_);
    EXPECT_EQ(m->processes, 1u);
    EXPECT_EQ(m->memoryBytes, 8192u);
    EXPECT_GT(m->imageBytes, 8192u);
    EXPECT_EQ(m->limits.at("memory.max"), "2147483648");
    EXPECT_TRUE(m->lostStdio.empty());
    EXPECT_FALSE(m->command.empty());
    EXPECT_FALSE(exists(kIncompleteFile));
    EXPECT_FALSE(exists(std::string(kManifestFile) + ".tmp"));
}

TEST_F(CheckpointTest, LeaveRunningThawsInsteadOfKilling) {
    startWorkload();
    auto r = request();
    r.leaveRunning = true;
    auto out = checkpoint("ok", r);
    ASSERT_TRUE(out.ok()) << out.error().message();
    EXPECT_EQ(freezeFile(), "0");
    EXPECT_EQ(killFile(), "");
    EXPECT_TRUE(exists(kManifestFile));
}

TEST_F(CheckpointTest, ACriuFailureThawsAndLeavesAnIncompleteFolder) {
    startWorkload();
    auto out = checkpoint("fail", request());
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message(),
              "checkpoint c.slice/w.scope: criu dump of pid " + std::to_string(child_) +
                  ": Error (criu/cr-dump.c:123): fake failure (log: criu-dump.log)");
    EXPECT_EQ(out.error().code(), std::make_error_code(std::errc::io_error));
    EXPECT_GE(freezes_.load(), 1);
    EXPECT_EQ(freezeFile(), "0");
    EXPECT_EQ(killFile(), "");
    EXPECT_FALSE(exists("pages-1.img"));
    EXPECT_TRUE(exists("criu-dump.log"));
    EXPECT_FALSE(exists(kManifestFile));
    std::string why = readFile(images() + "/" + kIncompleteFile);
    EXPECT_NE(why.find("fake failure"), std::string::npos) << why;
    auto again = readCheckpoint(images());
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message().find("incomplete (checkpoint failed: "), std::string::npos)
        << again.error().message();
}

TEST_F(CheckpointTest, CriuExitingWithoutAnAnswerIsAFailureThatThaws) {
    startWorkload();
    auto out = checkpoint("silent", request());
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message().find("criu exited without answering"), std::string::npos)
        << out.error().message();
    EXPECT_EQ(freezeFile(), "0");
    EXPECT_TRUE(exists(kIncompleteFile));
}

TEST_F(CheckpointTest, StdioToTheOutsideIsRefusedUnlessDetachedAndThawed) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    startWorkload(p[1]);
    auto refused = checkpoint("ok", request());
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("stdio that a restore cannot re-attach"),
              std::string::npos)
        << refused.error().message();
    EXPECT_NE(refused.error().message().find("fd 1 pipe:["), std::string::npos);
    EXPECT_EQ(freezeFile(), "0");
    EXPECT_EQ(killFile(), "");

    std::filesystem::remove_all(images());
    auto r = request();
    r.detachStdio = true;
    auto out = checkpoint("ok", r);
    ::close(p[0]);
    ::close(p[1]);
    ASSERT_TRUE(out.ok()) << out.error().message();
    ASSERT_EQ(out->manifest.lostStdio.size(), 1u);
    EXPECT_EQ(out->manifest.lostStdio[0].fd, 1);
    EXPECT_EQ(out->manifest.lostStdio[0].resource.rfind("pipe:[", 0), 0u);
}

TEST_F(CheckpointTest, ANonEmptyFolderIsRefusedBeforeFreezing) {
    startWorkload();
    writeFile(images() + "/precious", "keep me");
    auto out = checkpoint("ok", request());
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message(), "checkpoint folder " + images() + ": not empty");
    EXPECT_EQ(freezes_.load(), 0);
    EXPECT_EQ(readFile(images() + "/precious"), "keep me");
}

TEST_F(CheckpointTest, TheFolderVetSeesTheParentAndAMissingFolderAndCanRefuse) {
    std::optional<FileFacts> seenDir = FileFacts{};
    FileFacts seenParent;
    auto refused = openCheckpointFolder(
        images(),
        [&](const std::optional<FileFacts>& d, const FileFacts& parent,
            const std::string& path) -> Result<void> {
            seenDir = d;
            seenParent = parent;
            return Error::withReason(path, "not yours", std::errc::permission_denied);
        });
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message(), images() + ": not yours");
    EXPECT_FALSE(seenDir.has_value());
    EXPECT_TRUE(S_ISDIR(seenParent.mode));
    EXPECT_EQ(seenParent.uid, ::geteuid());
    EXPECT_FALSE(std::filesystem::exists(images())) << "a refused folder was created";
}

TEST_F(CheckpointTest, AFolderThatIsASymlinkIsShownAsOneToTheVet) {
    std::filesystem::create_directories(dir_ / "elsewhere");
    std::filesystem::create_directory_symlink(dir_ / "elsewhere", images());
    std::optional<FileFacts> seenDir;
    auto out = openCheckpointFolder(
        images(), [&](const std::optional<FileFacts>& d, const FileFacts&, const std::string&) {
            seenDir = d;
            return success();
        });
    ASSERT_TRUE(out.ok()) << out.error().message();
    ASSERT_TRUE(seenDir.has_value());
    EXPECT_TRUE(S_ISLNK(seenDir->mode));
    EXPECT_FALSE(out->created);
}

TEST_F(CheckpointTest, AFailureBeforeTheFreezeRemovesTheFolderItCreated) {
    startWorkload();
    auto folder = openCheckpointFolder(images());
    ASSERT_TRUE(folder.ok()) << folder.error().message();
    EXPECT_TRUE(folder->created);
    auto r = request();
    r.group = "c.slice/gone.scope";
    auto out = checkpointGroup(*fs_, criu("ok"), r, *folder);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(freezes_.load(), 0);
    EXPECT_FALSE(std::filesystem::exists(images()));
}

TEST_F(CheckpointTest, AnOwnerOnlyCheckpointOfAnotherOwnersProcessesIsRefusedAndThawed) {
    startWorkload();
    auto r = request();
    r.requireOwner = ::getuid() + 1;
    auto out = checkpoint("ok", r);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message().find("no longer all plain processes of uid " +
                                         std::to_string(::getuid() + 1)),
              std::string::npos)
        << out.error().message();
    EXPECT_EQ(out.error().code(), std::make_error_code(std::errc::permission_denied));
    EXPECT_GE(freezes_.load(), 1);
    EXPECT_EQ(freezeFile(), "0");
    EXPECT_EQ(killFile(), "");
    EXPECT_FALSE(exists(kManifestFile));
    EXPECT_FALSE(exists("pages-1.img"));
    EXPECT_TRUE(exists(kIncompleteFile));

    std::filesystem::remove_all(images());
    r.requireOwner = ::getuid();
    auto ok = checkpoint("ok", r);
    EXPECT_TRUE(ok.ok()) << ok.error().message();
}

TEST_F(CheckpointTest, AnEmptyGroupIsRefusedAndThawed) {
    writeFile(cg() + "/cgroup.procs", "");
    auto out = checkpoint("ok", request());
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message().find("the group has no process"), std::string::npos);
    EXPECT_EQ(freezeFile(), "0");
}

TEST_F(CheckpointTest, RestoreRefusesAClassThatCannotHoldTheImage) {
    startWorkload();
    ASSERT_TRUE(checkpoint("ok", request()).ok());
    writeFile(dir_ / "cg/c.slice/r.scope/cgroup.procs", "");
    auto opened = openCheckpoint(images());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    RestoreRequest r;
    r.group = "c.slice/r.scope";
    r.className = "noncore";
    r.classMemoryMax = 4096;
    auto out = restoreIntoGroup(*fs_, criu("ok"), r, *opened);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message(),
              "class noncore: memory.max 4096 is below the image's 8192 bytes of memory");
}

TEST_F(CheckpointTest, OpenCheckpointRefusesAFolderWithoutManifest) {
    std::filesystem::create_directories(images());
    auto out = openCheckpoint(images());
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message().find("no manifest.toml (not a complete Governor checkpoint)"),
              std::string::npos)
        << out.error().message();
}

TEST_F(CheckpointTest, OpenCheckpointHandsTheOpenFolderAndManifestToTheVet) {
    startWorkload();
    ASSERT_TRUE(checkpoint("ok", request()).ok());
    FileFacts seenDir, seenManifest;
    auto refused = openCheckpoint(
        images(),
        [&](const FileFacts& d, const FileFacts& m, const std::string& path) -> Result<void> {
            seenDir = d;
            seenManifest = m;
            return Error::withReason(path, "not written by governord",
                                     std::errc::permission_denied);
        });
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message(), images() + ": not written by governord");
    EXPECT_TRUE(S_ISDIR(seenDir.mode));
    EXPECT_TRUE(S_ISREG(seenManifest.mode));
    // What the dump wrote is writable by its owner only.
    EXPECT_EQ(seenDir.mode & 077, 0u);
    EXPECT_EQ(seenManifest.mode & 077, 0u);
}

TEST_F(CheckpointTest, AManifestThatIsASymlinkIsRefused) {
    std::filesystem::create_directories(images());
    writeFile(dir_ / "forged.toml", "format = 1\n");
    std::filesystem::create_symlink(dir_ / "forged.toml", images() + "/" + kManifestFile);
    auto out = openCheckpoint(images());
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message().find("no manifest.toml"), std::string::npos)
        << out.error().message();
}

}  // namespace
}  // namespace gov::runtime
