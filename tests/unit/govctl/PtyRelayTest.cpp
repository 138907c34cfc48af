// The terminal session's relay state machine (govctl/PtyRelay.hpp) and the raw
// mode of the caller's terminal (govctl/Terminal.hpp) with a fake terminal: no
// descriptor is touched.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "PtyRelay.hpp"
#include "Terminal.hpp"

namespace gov::govctl {
namespace {

using namespace std::chrono_literals;
using Clock = PtyRelay::Clock;

PtyRelay::Options small() {
    PtyRelay::Options o;
    o.bufferLimit = 8;
    o.quiet = 100ms;
    o.drainLimit = 1000ms;
    return o;
}

TEST(PtyRelay, RelaysBothWaysAndStopsReadingASideWhoseBufferIsFull) {
    PtyRelay relay(small());
    EXPECT_TRUE(relay.wantInput());
    EXPECT_TRUE(relay.wantMasterRead());
    EXPECT_FALSE(relay.wantMasterWrite());
    relay.input("ls -l\r");
    EXPECT_TRUE(relay.wantMasterWrite());
    EXPECT_EQ(relay.toMaster(), "ls -l\r");
    relay.masterWritten(3);
    EXPECT_EQ(relay.toMaster(), "-l\r");
    relay.input("abcdef");  // 9 bytes pending: full
    EXPECT_FALSE(relay.wantInput()) << "a slow workload slows the caller down";
    relay.masterWritten(9);
    EXPECT_TRUE(relay.wantInput());

    const auto t = Clock::now();
    relay.masterOutput("total 0\r\n", t);
    EXPECT_TRUE(relay.wantOutputWrite());
    EXPECT_FALSE(relay.wantMasterRead()) << "a slow caller's terminal slows the workload down";
    relay.outputWritten(9);
    EXPECT_TRUE(relay.wantMasterRead());
    EXPECT_FALSE(relay.finished(t + 1h)) << "relaying never ends by itself";
}

TEST(PtyRelay, AfterTheExitReportTheMasterIsDrainedUntilItEnds) {
    PtyRelay relay(small());
    const auto t = Clock::now();
    relay.input("typed");
    relay.workloadExited(t);
    EXPECT_EQ(relay.phase(), PtyRelay::Phase::Draining);
    EXPECT_FALSE(relay.wantInput());
    EXPECT_FALSE(relay.wantMasterWrite()) << "nothing more goes to a workload that has ended";
    EXPECT_TRUE(relay.wantMasterRead());
    relay.masterOutput("bye\r\n", t + 10ms);
    EXPECT_FALSE(relay.finished(t + 20ms)) << "output pending";
    relay.outputWritten(5);
    EXPECT_FALSE(relay.finished(t + 20ms));
    relay.masterEnded();  // EIO: nobody holds the slave any more
    EXPECT_TRUE(relay.finished(t + 20ms));
}

TEST(PtyRelay, ABackgroundProcessHoldingTheSlaveDoesNotHoldTheDrain) {
    PtyRelay relay(small());
    const auto t = Clock::now();
    relay.workloadExited(t);
    // Quiet: done after `quiet`.
    EXPECT_FALSE(relay.finished(t + 50ms));
    ASSERT_TRUE(relay.deadline());
    EXPECT_EQ(*relay.deadline(), t + 100ms);
    EXPECT_TRUE(relay.finished(t + 100ms));

    // Chatty: done after `drainLimit` whatever it writes.
    PtyRelay chatty(small());
    chatty.workloadExited(t);
    for (auto at = t; at < t + 1000ms; at += 50ms) {
        chatty.masterOutput("x", at);
        chatty.outputWritten(1);
        EXPECT_FALSE(chatty.finished(at)) << (at - t).count();
    }
    EXPECT_TRUE(chatty.finished(t + 1000ms));
    EXPECT_EQ(*chatty.deadline(), t + 1000ms);
}

TEST(PtyRelay, AnOutputThatIsStuckEndsTheDrainAtTheLimit) {
    PtyRelay relay(small());
    const auto t = Clock::now();
    relay.masterOutput("stuck", t);
    relay.workloadExited(t);
    EXPECT_FALSE(relay.finished(t + 500ms));
    EXPECT_TRUE(relay.finished(t + 1000ms));
}

TEST(PtyRelay, EndOfInputSendsTheTerminalsEofCharacterOnce) {
    PtyRelay relay(small());
    relay.input("ls\n");
    relay.inputEnded('\x04');
    relay.inputEnded('\x04');
    EXPECT_EQ(relay.toMaster(), "ls\n\x04");
    EXPECT_FALSE(relay.wantInput());
    PtyRelay rawPty(small());
    rawPty.inputEnded(std::nullopt);  // not canonical: nothing to send
    EXPECT_EQ(rawPty.toMaster(), "");
    EXPECT_FALSE(rawPty.wantInput());
}

TEST(PtyRelay, AGoneOutputDropsWhatComesAndAHangUpEndsAtOnce) {
    PtyRelay relay(small());
    const auto t = Clock::now();
    relay.masterOutput("a", t);
    relay.outputFailed();
    EXPECT_FALSE(relay.wantOutputWrite());
    relay.masterOutput("b", t);
    EXPECT_EQ(relay.toOutput(), "");
    relay.hangUp();
    EXPECT_TRUE(relay.finished(t));
    EXPECT_FALSE(relay.wantInput());
    EXPECT_FALSE(relay.wantMasterRead());
}

// A terminal in memory: its modes and how often they were set.
class FakeTerminal : public Terminal {
  public:
    struct termios modes {};
    struct winsize size {};
    bool failGet = false;
    bool failSet = false;
    int sets = 0;
    FakeTerminal() {
        modes.c_lflag = ICANON | ECHO | ISIG;
        modes.c_iflag = ICRNL | IXON;
        modes.c_oflag = OPOST;
        size.ws_row = 40;
        size.ws_col = 120;
    }
    bool getAttributes(struct termios& out) override {
        out = modes;
        return !failGet;
    }
    bool setAttributes(const struct termios& m) override {
        if (failSet)
            return false;
        modes = m;
        ++sets;
        return true;
    }
    bool windowSize(struct winsize& out) override {
        out = size;
        return true;
    }
    bool cooked() const {
        return (modes.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG);
    }
    bool raw() const {
        return (modes.c_lflag & (ICANON | ECHO | ISIG)) == 0 && !(modes.c_iflag & IXON);
    }
};

TEST(RawMode, EnterMakesTheTerminalRawAndTheDestructorRestoresIt) {
    FakeTerminal t;
    {
        RawMode raw(t);
        ASSERT_TRUE(raw.enter());
        EXPECT_TRUE(t.raw());
        EXPECT_EQ(t.modes.c_cc[VMIN], 1);
    }
    EXPECT_TRUE(t.cooked());
    EXPECT_EQ(t.modes.c_iflag, ICRNL | IXON);
}

TEST(RawMode, RestoreHappensOnceWhateverTheNumberOfExitPaths) {
    FakeTerminal t;
    RawMode raw(t);
    ASSERT_TRUE(raw.enter());
    raw.restore();
    EXPECT_TRUE(t.cooked());
    const int sets = t.sets;
    // A later path (the destructor, a second restore) does not write again, so a
    // mode the shell set meanwhile is not clobbered.
    t.modes.c_lflag |= TOSTOP;
    raw.restore();
    EXPECT_EQ(t.sets, sets);
    EXPECT_TRUE(t.modes.c_lflag & TOSTOP);
}

TEST(RawMode, SuspendRestoresAndResumeComesBackToRawFromTheModesOfNow) {
    FakeTerminal t;
    RawMode raw(t);
    ASSERT_TRUE(raw.enter());
    raw.suspend();
    EXPECT_TRUE(t.cooked());
    EXPECT_FALSE(raw.active());
    t.modes.c_lflag |= TOSTOP;  // the shell changed something while govctl was stopped
    raw.resume();
    EXPECT_TRUE(raw.active());
    EXPECT_TRUE(t.raw());
    raw.restore();
    EXPECT_TRUE(t.cooked());
    EXPECT_TRUE(t.modes.c_lflag & TOSTOP) << "the modes of the resume are the ones restored";
}

TEST(RawMode, ReassertSetsRawAgainAfterAStopItDidNotSee) {
    FakeTerminal t;
    RawMode raw(t);
    ASSERT_TRUE(raw.enter());
    t.modes.c_lflag |= ICANON | ECHO;  // the shell put its modes back
    raw.reassert();
    EXPECT_TRUE(t.raw());
    raw.restore();
    EXPECT_TRUE(t.cooked());
}

TEST(RawMode, ATerminalThatRefusesChangesIsLeftAlone) {
    FakeTerminal t;
    t.failSet = true;
    RawMode raw(t);
    EXPECT_FALSE(raw.enter());
    EXPECT_FALSE(raw.active());
    t.failSet = false;
    raw.restore();
    EXPECT_EQ(t.sets, 0);
    FakeTerminal unreadable;
    unreadable.failGet = true;
    RawMode raw2(unreadable);
    EXPECT_FALSE(raw2.enter());
    EXPECT_EQ(unreadable.sets, 0);
}

}  // namespace
}  // namespace gov::govctl
