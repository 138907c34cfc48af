#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include "TestUtil.hpp"
#include "gov/runtime/EventsWatcher.hpp"

namespace gov::runtime {
namespace {

using test::TempDir;
using test::writeFile;

void touchInPlace(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "p", 1, 0), 1);
    ::close(fd);
}

bool readable(int fd, int timeoutMs) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeoutMs) == 1;
}

class EventsWatcherTest : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* g : {"a.slice", "a.slice/x.scope", "b.slice"}) {
            writeFile(dir_ / (std::string(g) + "/cgroup.events"), "populated 1\nfrozen 0\n");
        }
        auto fs = CgroupFs::open(dir_.path());
        ASSERT_TRUE(fs.ok());
        fs_.emplace(std::move(*fs));
        auto w = EventsWatcher::create();
        ASSERT_TRUE(w.ok()) << w.error().message();
        w_.emplace(std::move(*w));
    }
    TempDir dir_;
    std::optional<CgroupFs> fs_;
    std::optional<EventsWatcher> w_;
};

TEST_F(EventsWatcherTest, ReportsOnlyTheGroupsThatChanged) {
    ASSERT_TRUE(w_->watch(*fs_, "a.slice").ok());
    ASSERT_TRUE(w_->watch(*fs_, "a.slice/x.scope").ok());
    ASSERT_TRUE(w_->watch(*fs_, "b.slice").ok());
    auto none = w_->drain();
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    EXPECT_FALSE(readable(w_->fd(), 0));

    touchInPlace(dir_ / "a.slice/x.scope/cgroup.events");
    touchInPlace(dir_ / "b.slice/cgroup.events");
    touchInPlace(dir_ / "a.slice/x.scope/cgroup.events");
    ASSERT_TRUE(readable(w_->fd(), 1000));
    auto changed = w_->drain();
    ASSERT_TRUE(changed.ok()) << changed.error().message();
    EXPECT_EQ(*changed, (std::vector<std::string>{"a.slice/x.scope", "b.slice"}));
    auto again = w_->drain();
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
}

TEST_F(EventsWatcherTest, UnwatchedGroupsAreNotReported) {
    ASSERT_TRUE(w_->watch(*fs_, "a.slice").ok());
    ASSERT_TRUE(w_->watch(*fs_, "b.slice").ok());
    w_->unwatch("a.slice");
    w_->unwatch("never-watched");
    EXPECT_EQ(w_->watched(), (std::vector<std::string>{"b.slice"}));
    touchInPlace(dir_ / "a.slice/cgroup.events");
    touchInPlace(dir_ / "b.slice/cgroup.events");
    auto changed = w_->drain();
    ASSERT_TRUE(changed.ok());
    EXPECT_EQ(*changed, (std::vector<std::string>{"b.slice"}));
}

TEST_F(EventsWatcherTest, RemovedGroupIsReportedThenForgotten) {
    ASSERT_TRUE(w_->watch(*fs_, "b.slice").ok());
    ASSERT_EQ(::unlink((dir_ / "b.slice/cgroup.events").c_str()), 0);
    auto changed = w_->drain();
    ASSERT_TRUE(changed.ok());
    EXPECT_EQ(*changed, (std::vector<std::string>{"b.slice"}));
    EXPECT_TRUE(w_->watched().empty());
}

TEST_F(EventsWatcherTest, PruneMissingUnwatchesRemovedGroupsOnly) {
    ASSERT_TRUE(w_->watch(*fs_, "a.slice").ok());
    ASSERT_TRUE(w_->watch(*fs_, "b.slice").ok());
    std::filesystem::remove_all(dir_ / "b.slice");
    (void)w_->drain();
    ASSERT_TRUE(w_->watch(*fs_, "a.slice/x.scope").ok());
    std::filesystem::remove_all(dir_ / "a.slice/x.scope");
    EXPECT_EQ(w_->pruneMissing(*fs_), (std::vector<std::string>{"a.slice/x.scope"}));
    EXPECT_EQ(w_->watched(), (std::vector<std::string>{"a.slice"}));
}

TEST_F(EventsWatcherTest, WatchingAMissingGroupIsAnError) {
    auto r = w_->watch(*fs_, "c.slice");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "watch cgroup.events in c.slice: No such file or directory");
    EXPECT_FALSE(w_->watch(*fs_, "../etc").ok());
}

TEST_F(EventsWatcherTest, WatchingTwiceIsHarmless) {
    ASSERT_TRUE(w_->watch(*fs_, "a.slice").ok());
    ASSERT_TRUE(w_->watch(*fs_, "a.slice").ok());
    EXPECT_EQ(w_->watched(), (std::vector<std::string>{"a.slice"}));
    touchInPlace(dir_ / "a.slice/cgroup.events");
    auto changed = w_->drain();
    ASSERT_TRUE(changed.ok());
    EXPECT_EQ(*changed, (std::vector<std::string>{"a.slice"}));
}

}  // namespace
}  // namespace gov::runtime
