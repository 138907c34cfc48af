// Freezer on a fake tree: a helper thread plays the kernel by flipping the value in
// cgroup.events in place (one pwrite, so the watcher sees IN_MODIFY on the same inode).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "TestUtil.hpp"
#include "gov/runtime/Freezer.hpp"

namespace gov::runtime {
namespace {

using namespace std::chrono_literals;
using test::readFile;
using test::TempDir;
using test::writeFile;

constexpr const char* kEvents = "populated 1\nfrozen 0\n";
constexpr off_t kFrozenDigit = 19;     // offset of the frozen value
constexpr off_t kPopulatedDigit = 10;  // offset of the populated value

void setDigit(const std::string& path, off_t offset, char value) {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, &value, 1, offset), 1);
    ::close(fd);
}

class FreezerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(std::string(kEvents).substr(kFrozenDigit, 1), "0");
        writeFile(dir_ / "g/cgroup.events", kEvents);
        writeFile(dir_ / "g/cgroup.freeze", "0\n");
        writeFile(dir_ / "g/cgroup.kill", "");
        auto fs = CgroupFs::open(dir_.path());
        ASSERT_TRUE(fs.ok());
        fs_.emplace(std::move(*fs));
    }
    std::string events() const { return dir_ / "g/cgroup.events"; }

    TempDir dir_;
    std::optional<CgroupFs> fs_;
};

TEST_F(FreezerTest, FreezeWaitsForFrozenOne) {
    // The clock starts before the "kernel" thread exists: its 50 ms then lie inside
    // `took` however late this thread runs again after creating it.
    auto start = std::chrono::steady_clock::now();
    std::thread kernel([&] {
        std::this_thread::sleep_for(50ms);
        setDigit(events(), kFrozenDigit, '1');
    });
    auto r = freeze(*fs_, "g", 5000ms);
    auto took = std::chrono::steady_clock::now() - start;
    kernel.join();
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(readFile(dir_ / "g/cgroup.freeze").substr(0, 1), "1");
    EXPECT_GE(took, 45ms);
    EXPECT_LT(took, 4000ms);  // woken by the event, not by the timeout
}

TEST_F(FreezerTest, FreezeTimeoutUndoesAndSaysSo) {
    auto r = freeze(*fs_, "g", 60ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "freeze g: not frozen after 60 ms (freeze undone)");
    EXPECT_EQ(readFile(dir_ / "g/cgroup.freeze").substr(0, 1), "0");
}

TEST_F(FreezerTest, FreezeOfMissingGroupFailsWithoutWaiting) {
    auto r = freeze(*fs_, "missing", 5000ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(),
              "freeze missing: write cgroup.freeze in missing: No such file or directory");
}

TEST_F(FreezerTest, ThawWaitsForFrozenZero) {
    setDigit(events(), kFrozenDigit, '1');
    writeFile(dir_ / "g/cgroup.freeze", "1\n");
    std::thread kernel([&] {
        std::this_thread::sleep_for(30ms);
        setDigit(events(), kFrozenDigit, '0');
    });
    auto r = thaw(*fs_, "g", 5000ms);
    kernel.join();
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(readFile(dir_ / "g/cgroup.freeze").substr(0, 1), "0");
}

TEST_F(FreezerTest, ThawTimeoutIsAnError) {
    setDigit(events(), kFrozenDigit, '1');
    auto r = thaw(*fs_, "g", 40ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "thaw g: still frozen after 40 ms");
}

TEST_F(FreezerTest, KillWritesOneAndWaitsForEmpty) {
    std::thread kernel([&] {
        std::this_thread::sleep_for(30ms);
        setDigit(events(), kPopulatedDigit, '0');
    });
    auto r = kill(*fs_, "g", 5000ms);
    kernel.join();
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(readFile(dir_ / "g/cgroup.kill"), "1");
}

TEST_F(FreezerTest, KillWithoutWaitReturnsAtOnceAndTimeoutIsAnError) {
    ASSERT_TRUE(kill(*fs_, "g").ok());
    auto r = kill(*fs_, "g", 30ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "kill g: still populated after 30 ms");
}

TEST_F(FreezerTest, MalformedEventsIsAnError) {
    writeFile(events(), "populated x\n");
    auto r = waitForEvent(*fs_, "g", "frozen", 1, 100ms);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("parse cgroup.events in g"), std::string::npos);
}

}  // namespace
}  // namespace gov::runtime
