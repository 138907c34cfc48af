#include <gtest/gtest.h>

#include "Command.hpp"

namespace gov::govctl {
namespace {

using Args = std::vector<std::string>;

TEST(ExecArgs, CommandStartsAtTheFirstWordAfterExecsOptions) {
    Args args = {"govctl", "exec", "--class", "adhoc", "ls", "-l", "--class", "x"};
    EXPECT_EQ(splitExecCommand(args), (Args{"ls", "-l", "--class", "x"}));
    EXPECT_EQ(args, (Args{"govctl", "exec", "--class", "adhoc"}));
}

TEST(ExecArgs, DoubleDashSeparatesAndIsDropped) {
    Args args = {"govctl", "exec", "-c", "adhoc", "--", "--weird", "arg"};
    EXPECT_EQ(splitExecCommand(args), (Args{"--weird", "arg"}));
    EXPECT_EQ(args, (Args{"govctl", "exec", "-c", "adhoc"}));
}

TEST(ExecArgs, AttachedClassValuesAreRecognised) {
    Args a = {"govctl", "exec", "--class=adhoc", "true"};
    EXPECT_EQ(splitExecCommand(a), (Args{"true"}));
    Args b = {"govctl", "exec", "-cadhoc", "true"};
    EXPECT_EQ(splitExecCommand(b), (Args{"true"}));
}

TEST(ExecArgs, OtherSubcommandsAreLeftAlone) {
    Args args = {"govctl", "ls", "--json"};
    EXPECT_TRUE(splitExecCommand(args).empty());
    EXPECT_EQ(args, (Args{"govctl", "ls", "--json"}));
}

TEST(ExecArgs, NoCommandGivesAnEmptyCommand) {
    Args args = {"govctl", "exec", "--class", "adhoc"};
    EXPECT_TRUE(splitExecCommand(args).empty());
    Args help = {"govctl", "exec", "--help"};
    EXPECT_TRUE(splitExecCommand(help).empty());
    EXPECT_EQ(help.size(), 3u);
}

}  // namespace
}  // namespace gov::govctl
