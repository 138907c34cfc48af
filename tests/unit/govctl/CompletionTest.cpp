// packaging/bash-completion/govctl, run by bash with the bash-completion helpers
// it uses stubbed (so the test does not need the bash-completion package) and a
// fake `govctl` answering ls/status --json like the daemon.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <string>

namespace {

const char* kStubs = R"SH(
_init_completion() {
    words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
}
_filedir() { COMPREPLY=("FILEDIR:$1"); }
_command_offset() { COMPREPLY=("COMMAND_OFFSET:$1"); }
govctl() {
    case "$1" in
    ls) printf '{\n  "groups": [\n    {\n      "class": "adhoc",\n      "group": "adhoc.slice"\n    },\n    {\n      "class": "adhoc",\n      "group": "adhoc.slice/sh-1-2.scope"\n    }\n  ]\n}\n' ;;
    status) printf '{\n  "classes": [\n    {\n      "name": "adhoc"\n    },\n    {\n      "name": "core"\n    }\n  ]\n}\n' ;;
    esac
}
)SH";

// The completions for the command line `line` (the last word is completed; a
// trailing space means an empty word), sorted, space-separated.
std::string complete(const std::string& line) {
    std::string script = std::string(kStubs) +
                         "source '" GOV_SOURCE_DIR "/packaging/bash-completion/govctl'\n" +
                         "read -ra COMP_WORDS <<< '" + line + "'\n" +
                         (line.back() == ' ' ? "COMP_WORDS+=('')\n" : "") +
                         "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                         "_govctl\n"
                         "printf '%s\\n' \"${COMPREPLY[@]}\" | sort | tr '\\n' ' '\n";
    std::string cmd = "bash -c '" + std::string() + "eval \"$0\"' \"$(cat <<'GOVEOF'\n" + script +
                      "\nGOVEOF\n)\"";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p)
        return "<popen failed>";
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    int st = ::pclose(p);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return "<bash failed: " + out + ">";
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

TEST(Completion, CompletesSubcommands) {
    EXPECT_EQ(complete("govctl "), "--help exec freeze kill ls policy reload status thaw top");
    EXPECT_EQ(complete("govctl st"), "status");
    EXPECT_EQ(complete("govctl policy "), "--help check diff show-default");
}

TEST(Completion, CompletesClassesAfterExecClassFromTheDaemon) {
    EXPECT_EQ(complete("govctl exec --class "), "adhoc core");
    EXPECT_EQ(complete("govctl exec --"), "-- --class --help --no-tty --tty");
    EXPECT_EQ(complete("govctl exec -c c"), "core");
}

TEST(Completion, HandsTheWorkloadsCommandLineToBashAfterTheClass) {
    EXPECT_EQ(complete("govctl exec -c adhoc ls -"), "COMMAND_OFFSET:4");
}

TEST(Completion, CompletesGroupsForControlAndStatus) {
    EXPECT_EQ(complete("govctl freeze adhoc.s"), "adhoc.slice adhoc.slice/sh-1-2.scope");
    EXPECT_EQ(complete("govctl status --j"), "--json");
}

TEST(Completion, CompletesTopOrdersAndPolicyFiles) {
    EXPECT_EQ(complete("govctl top --order m"), "memory");
    EXPECT_EQ(complete("govctl policy diff "), "FILEDIR:toml");
    EXPECT_EQ(complete("govctl policy check --d"), "--default");
}

}  // namespace
