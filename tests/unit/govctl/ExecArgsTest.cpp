#include <gtest/gtest.h>

#include "Command.hpp"
#include "ExecArgs.hpp"

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

TEST(ExecArgs, TerminalOptionsBelongToExecNotToTheCommand) {
    Args args = {"govctl", "exec", "-t", "-c", "adhoc", "-T", "bash", "-t"};
    EXPECT_EQ(splitExecCommand(args), (Args{"bash", "-t"}));
    EXPECT_EQ(args, (Args{"govctl", "exec", "-t", "-c", "adhoc", "-T"}));
}

TEST(ExecLine, TheFastPathTakesTheClassAndTheCommand) {
    auto line = parseExecLine({"govctl", "exec", "-c", "adhoc", "--", "ls", "-l"});
    ASSERT_TRUE(line);
    EXPECT_EQ(line->className, "adhoc");
    EXPECT_EQ(line->command, (Args{"ls", "-l"}));
    EXPECT_EQ(line->tty, ExecLine::Tty::Auto);
}

TEST(ExecLine, DashTForcesAPseudoTerminalAndDashTDisablesItTheLastOneWins) {
    auto forced = parseExecLine({"govctl", "exec", "-t", "--class", "adhoc", "top"});
    ASSERT_TRUE(forced);
    EXPECT_EQ(forced->tty, ExecLine::Tty::Force);
    EXPECT_EQ(forced->command, (Args{"top"}));
    auto never = parseExecLine({"govctl", "exec", "--class=adhoc", "-T", "cat"});
    ASSERT_TRUE(never);
    EXPECT_EQ(never->tty, ExecLine::Tty::Never);
    auto last = parseExecLine({"govctl", "exec", "-T", "-cadhoc", "--tty", "cat"});
    ASSERT_TRUE(last);
    EXPECT_EQ(last->tty, ExecLine::Tty::Force);
    auto afterCommand = parseExecLine({"govctl", "exec", "-c", "adhoc", "ssh", "-t", "host"});
    ASSERT_TRUE(afterCommand);
    EXPECT_EQ(afterCommand->tty, ExecLine::Tty::Auto) << "-t after the command is the command's";
    EXPECT_EQ(afterCommand->command, (Args{"ssh", "-t", "host"}));
}

TEST(ExecLine, AnythingElseGoesToTheFullClient) {
    EXPECT_FALSE(parseExecLine({"govctl", "exec", "--help"}));
    EXPECT_FALSE(parseExecLine({"govctl", "exec", "-c", "adhoc"}));
    EXPECT_FALSE(parseExecLine({"govctl", "exec", "-x", "-c", "adhoc", "true"}));
    EXPECT_FALSE(parseExecLine({"govctl", "exec", "-c", "a", "-c", "b", "true"}));
}

}  // namespace
}  // namespace gov::govctl
