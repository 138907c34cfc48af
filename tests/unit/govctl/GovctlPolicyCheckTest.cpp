// Runs the built govctl binary on fixture policies: exit codes, diagnostics on
// stderr, the table and the JSON on stdout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

namespace fs = std::filesystem;

const std::string kFixtures = std::string(GOV_SOURCE_DIR) + "/tests/fixtures/policies";

struct GovctlRun {
    int exitCode = -1;
    std::string out;
    std::string err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// govctl ARGS..., stdout and stderr captured in files (no pipe deadlocks).
GovctlRun govctl(std::vector<std::string> args) {
    fs::path dir = fs::temp_directory_path() / ("govctl-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path outPath = dir / "out";
    fs::path errPath = dir / "err";
    args.insert(args.begin(), GOVCTL_PATH);
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        int out = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
            ::_exit(127);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    GovctlRun r;
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) {
        ADD_FAILURE() << "cannot run " << GOVCTL_PATH;
        return r;
    }
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(outPath);
    r.err = slurp(errPath);
    fs::remove_all(dir);
    return r;
}

TEST(GovctlPolicyCheck, ValidFileExitsZeroAndPrintsItsClasses) {
    GovctlRun r = govctl({"policy", "check", kFixtures + "/valid/every-key.toml"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("batch-jobs_2 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("8 GiB"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/dev/nvme0n1: wbps 20 MiB/s"), std::string::npos) << r.out;
}

TEST(GovctlPolicyCheck, TypoExitsOneAndNamesFileLineColumnAndSuggestion) {
    fs::path dir = fs::temp_directory_path() / ("govctl-typo-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path file = dir / "policy.toml";
    std::ofstream(file) << "[classes.adhoc]\ndescription = \"debugging\"\nmemory.mx = \"1GiB\"\n";
    GovctlRun r = govctl({"policy", "check", file.string()});
    fs::remove_all(dir);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, file.string() +
                         ":3:8: error: classes.adhoc.memory.mx: unknown key 'mx' (did you mean "
                         "'memory.max'?)\n1 error\n");
}

TEST(GovctlPolicyCheck, EveryErrorOfEveryFileIsPrinted) {
    GovctlRun r = govctl({"policy", "check", kFixtures + "/invalid/bad-units.toml",
                          kFixtures + "/invalid/cpuset.toml"});
    EXPECT_EQ(r.exitCode, 1);
    std::string expected = slurp(kFixtures + "/invalid/bad-units.expected") +
                           slurp(kFixtures + "/invalid/cpuset.expected");
    // The fixtures name files by their base name; govctl by the path it was given.
    std::string got = r.err;
    for (const char* name : {"bad-units.toml", "cpuset.toml"}) {
        std::string full = kFixtures + "/invalid/" + name;
        for (size_t pos = got.find(full); pos != std::string::npos; pos = got.find(full, pos)) {
            got.replace(pos, full.size(), name);
        }
    }
    EXPECT_EQ(got, expected + "15 errors\n");
}

TEST(GovctlPolicyCheck, SameClassInTwoFilesIsAnError) {
    GovctlRun r = govctl(
        {"policy", "check", kFixtures + "/valid/minimal.toml", kFixtures + "/valid/minimal.toml"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(
        r.err.find("class 'only' is already defined at " + kFixtures + "/valid/minimal.toml:1:1"),
        std::string::npos)
        << r.err;
}

TEST(GovctlPolicyCheck, UsageErrorsExitTwo) {
    EXPECT_EQ(govctl({"policy", "check"}).exitCode, 2);
    EXPECT_EQ(govctl({"policy", "check", "--no-such-option", "x.toml"}).exitCode, 2);
    EXPECT_EQ(govctl({"policy"}).exitCode, 2);
    EXPECT_EQ(govctl({}).exitCode, 2);
    EXPECT_EQ(govctl({"no-such-command"}).exitCode, 2);
    EXPECT_EQ(govctl({"policy", "check", "--default", "x.toml"}).exitCode, 2);
    GovctlRun help = govctl({"policy", "check", "--help"});
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.out.find("--json"), std::string::npos);
}

TEST(GovctlPolicyCheck, MissingFileExitsOne) {
    GovctlRun r = govctl({"policy", "check", "/nonexistent/policy.toml"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("/nonexistent/policy.toml: error: cannot read the file"),
              std::string::npos)
        << r.err;
}

TEST(GovctlPolicyCheck, DefaultPolicyPrintsTheThreeClassesWithTheirLimits) {
    GovctlRun r = govctl({"policy", "check", "--default"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::istringstream lines(r.out);
    std::string header, adhoc, core, noncore;
    std::getline(lines, header);
    std::getline(lines, adhoc);
    std::getline(lines, core);
    std::getline(lines, noncore);
    auto cells = [](const std::string& line) {
        // Cells are separated by two or more spaces.
        std::vector<std::string> out;
        size_t i = 0;
        while (i < line.size()) {
            size_t end = line.find("  ", i);
            out.push_back(line.substr(i, end == std::string::npos ? std::string::npos : end - i));
            if (end == std::string::npos) {
                break;
            }
            i = line.find_first_not_of(' ', end);
        }
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(cells(header),
              (V{"CLASS", "MEMORY.MAX", "MEMORY.HIGH", "MEMORY.LOW", "MEMORY.MIN", "PIDS.MAX",
                 "CPU.WEIGHT", "CPU.MAX", "CPUSET", "IO", "NAMESPACES", "EXEC", "DESCRIPTION"}));
    EXPECT_EQ(cells(adhoc), (V{"adhoc", "2 GiB", "-", "-", "-", "1000", "-", "-", "-", "-", "-",
                               "root only", "ad-hoc querying and debugging (tcpdump, atop)"}));
    EXPECT_EQ(cells(core), (V{"core", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "root only",
                              "the core workload (web requests)"}));
    EXPECT_EQ(cells(noncore),
              (V{"noncore", "1 GiB", "-", "-", "-", "-", "-", "-", "-", "wbps 1 MB/s", "-",
                 "root only", "metric collection, cron jobs, Chef, atop logging"}));
}

TEST(GovctlPolicyCheck, JsonParsesAndHoldsExactNumbers) {
    GovctlRun r = govctl({"policy", "check", "--json", "--default"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["valid"], true);
    ASSERT_EQ(j["classes"].size(), 3u);
    EXPECT_EQ(j["classes"][0]["name"], "adhoc");
    EXPECT_EQ(j["classes"][0]["limits"]["memory.max"], 2147483648ULL);
    EXPECT_EQ(j["classes"][0]["limits"]["pids.max"], 1000);
    EXPECT_EQ(j["classes"][1]["name"], "core");
    EXPECT_EQ(j["classes"][1]["limits"], nlohmann::json::object());
    EXPECT_EQ(j["classes"][2]["limits"]["memory.max"], 1073741824ULL);
    EXPECT_EQ(j["classes"][2]["limits"]["io"][0]["write_bps"], 1000000);
    EXPECT_TRUE(j["classes"][2]["limits"]["io"][0]["device"].is_null());
}

TEST(GovctlPolicyCheck, JsonOfAnInvalidPolicyListsTheDiagnostics) {
    GovctlRun r =
        govctl({"policy", "check", "--json", kFixtures + "/invalid/unknown-key-typo.toml"});
    EXPECT_EQ(r.exitCode, 1);
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["valid"], false);
    ASSERT_EQ(j["diagnostics"].size(), 5u);
    EXPECT_EQ(j["diagnostics"][0]["line"], 3);
    EXPECT_EQ(j["diagnostics"][0]["column"], 8);
    EXPECT_EQ(j["diagnostics"][0]["key"], "classes.adhoc.memory.mx");
    EXPECT_EQ(j["diagnostics"][0]["suggestion"], "memory.max");
}

TEST(GovctlPolicyShowDefault, PrintsTheBuiltInPolicyWhichChecksClean) {
    GovctlRun shown = govctl({"policy", "show-default"});
    ASSERT_EQ(shown.exitCode, 0);
    fs::path file = fs::temp_directory_path() / ("govctl-default-" + std::to_string(::getpid()));
    std::ofstream(file) << shown.out;
    GovctlRun checked = govctl({"policy", "check", "--json", file.string()});
    fs::remove(file);
    ASSERT_EQ(checked.exitCode, 0) << checked.err;
    auto j = nlohmann::json::parse(checked.out);
    EXPECT_EQ(j["classes"].size(), 3u);
}

}  // namespace
