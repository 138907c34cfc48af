// The checkpoint manifest: format, round trip, and every refusal naming its key.
#include <gtest/gtest.h>

#include "gov/runtime/CheckpointManifest.hpp"

namespace gov::runtime {
namespace {

CheckpointManifest sample() {
    CheckpointManifest m;
    m.created = "2026-11-29T03:12:44Z";
    m.governorVersion = "0.1.0";
    m.criuVersion = "3.17.1";
    m.className = "adhoc";
    m.group = "adhoc.slice/exec-812-3.scope";
    m.ownerUid = 1000;
    m.ownerGids = {27, 1000};
    m.command = {"python3", "count.py", "--out", "a b\"c"};
    m.rootPid = 812;
    m.processes = 3;
    m.memoryBytes = 1052672;
    m.imageBytes = 1392640;
    m.limits = {{"memory.max", "2147483648"}, {"pids.max", "1000"}};
    m.lostStdio = {{812, 1, "pipe:[4711]"}, {812, 0, "tty[8800:1a]"}, {813, 2, "socket:[99]"}};
    return m;
}

// The text of sample() with `from` replaced by `to` (must occur).
std::string edited(const std::string& from, const std::string& to) {
    std::string text = formatManifest(sample());
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " not in\n" << text;
    if (at != std::string::npos) {
        text.replace(at, from.size(), to);
    }
    return text;
}

std::string errorOf(const std::string& text) {
    auto m = parseManifest(text);
    EXPECT_FALSE(m.ok()) << text;
    return m.ok() ? "" : m.error().message();
}

TEST(CheckpointManifest, RoundTripsEveryField) {
    auto parsed = parseManifest(formatManifest(sample()));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_EQ(*parsed, sample());
}

TEST(CheckpointManifest, LimitsAndLostStdioAreOptional) {
    CheckpointManifest m = sample();
    m.limits.clear();
    m.lostStdio.clear();
    std::string text = formatManifest(m);
    EXPECT_EQ(text.find("limits"), std::string::npos);
    EXPECT_EQ(text.find("lost_stdio"), std::string::npos);
    auto parsed = parseManifest(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_EQ(*parsed, m);
}

TEST(CheckpointManifest, EveryRequiredKeyIsNamedWhenMissing) {
    for (const char* key :
         {"format", "created", "governor_version", "criu_version", "class", "group", "owner_uid",
          "owner_gids", "command", "root_pid", "processes", "memory_bytes", "image_bytes"}) {
        std::string text = formatManifest(sample());
        std::string line = std::string("\n") + key + " = ";
        size_t at = text.find(line);
        ASSERT_NE(at, std::string::npos) << key;
        size_t end = text.find('\n', at + 1);
        text.erase(at, end - at);
        EXPECT_EQ(errorOf(text), std::string("manifest: ") + key + ": missing") << key;
    }
}

TEST(CheckpointManifest, RefusesAnotherFormat) {
    EXPECT_EQ(errorOf(edited("format = 1", "format = 2")),
              "manifest: format: 2 is not a format this Governor reads (1)");
}

TEST(CheckpointManifest, RefusesUnknownKeys) {
    EXPECT_EQ(errorOf(edited("format = 1", "format = 1\nextra = true")),
              "manifest: extra: unknown key");
    EXPECT_EQ(errorOf(edited("fd = 1", "fd = 1\nmode = 2")),
              "manifest: lost_stdio[0].mode: unknown key");
}

TEST(CheckpointManifest, RefusesBadValuesNamingTheKey) {
    EXPECT_EQ(errorOf(edited("owner_uid = 1000", "owner_uid = -1")),
              "manifest: owner_uid: -1 is out of range [0, 4294967294]");
    EXPECT_EQ(errorOf(edited("owner_gids = [ 27, 1000 ]", "owner_gids = [ 27, 'wheel' ]")),
              "manifest: owner_gids[1]: not an integer");
    EXPECT_EQ(errorOf(edited("owner_gids = [ 27, 1000 ]", "owner_gids = [ 4294967295 ]")),
              "manifest: owner_gids[0]: 4294967295 is not a gid");
    EXPECT_EQ(errorOf(edited("owner_gids = [ 27, 1000 ]", "owner_gids = 27")),
              "manifest: owner_gids: not an array of gids");
    EXPECT_EQ(errorOf(edited("root_pid = 812", "root_pid = \"812\"")),
              "manifest: root_pid: not an integer");
    EXPECT_EQ(errorOf(edited("group = 'adhoc.slice/exec-812-3.scope'", "group = '../etc'")),
              "manifest: group: '../etc' is not a group path below Governor's root");
    EXPECT_EQ(errorOf(edited("class = 'adhoc'", "class = 'a/b'")),
              "manifest: class: 'a/b' is not a class name");
    EXPECT_EQ(errorOf(edited("fd = 1", "fd = 7")),
              "manifest: lost_stdio[0].fd: 7 is out of range [0, 2]");
    EXPECT_EQ(
        errorOf(edited("'pipe:[4711]'", "'pipe:[47x]'")),
        "manifest: lost_stdio[0].resource: 'pipe:[47x]' is not pipe:[N], socket:[N] or tty[X:Y]");
    EXPECT_EQ(errorOf(edited("'2147483648'", "2147483648")),
              "manifest: limits.memory.max: not a string");
    EXPECT_EQ(errorOf(edited("'python3'", "3")), "manifest: command[0]: not a string");
    EXPECT_EQ(errorOf(edited("criu_version = '3.17.1'", "criu_version = ''")),
              "manifest: criu_version: empty");
}

TEST(CheckpointManifest, OwnerGidsReadBackSortedOnce) {
    auto m = parseManifest(edited("owner_gids = [ 27, 1000 ]", "owner_gids = [ 1000, 27, 1000 ]"));
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->ownerGids, (std::vector<uint32_t>{27, 1000}));
}

TEST(CheckpointManifest, SyntaxErrorsNameTheLine) {
    std::string err = errorOf("format = 1\ncreated = \n");
    EXPECT_EQ(err.rfind("manifest: line 2: ", 0), 0u) << err;
}

TEST(CheckpointManifest, MemoryFitsOnlyWhenTheClassHoldsTheImage) {
    CheckpointManifest m = sample();
    EXPECT_TRUE(checkMemoryFits(m, "adhoc", std::nullopt).ok());
    EXPECT_TRUE(checkMemoryFits(m, "adhoc", m.memoryBytes).ok());
    auto refused = checkMemoryFits(m, "noncore", m.memoryBytes - 1);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message(),
              "class noncore: memory.max 1052671 is below the image's 1052672 bytes of memory");
    EXPECT_EQ(refused.error().code(), std::make_error_code(std::errc::not_enough_memory));
}

}  // namespace
}  // namespace gov::runtime
