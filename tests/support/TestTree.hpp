// Shared by the live tests: the record and the teardown of a test's own cgroup
// subtree (and temp folders).
//
// A live test that is killed (ctest's TIMEOUT, a crash) never reaches its teardown.
// So a test records what it creates before creating it (recordTestTree: one file in
// GOV_LIVE_TREES_DIR of the build tree, naming the creating pid, the subtree and the
// folders) and forgets it after removing it (removeTestTree). The fixture-cleanup
// test live.leftovers (tests/live/remove-leftovers.sh) runs after every live test
// and removes what is still recorded by a process that no longer exists.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace gov::testsupport {

// The record of `root` (its base name) in GOV_LIVE_TREES_DIR; empty when the binary
// was built without one.
inline std::filesystem::path testTreeRecord(const std::filesystem::path& root) {
#ifdef GOV_LIVE_TREES_DIR
    return std::filesystem::path(GOV_LIVE_TREES_DIR) / root.filename();
#else
    (void)root;
    return {};
#endif
}

// Records that this process is about to create the cgroup subtree `root` and the
// folders `dirs` (removed with everything in them if the process dies first).
inline void recordTestTree(const std::filesystem::path& root,
                           const std::vector<std::filesystem::path>& dirs = {}) {
    const auto record = testTreeRecord(root);
    if (record.empty())
        return;
    std::error_code ec;
    std::filesystem::create_directories(record.parent_path(), ec);
    std::ofstream out(record, std::ios::trunc);
    out << "pid " << ::getpid() << "\ncgroup " << root.string() << "\n";
    for (const auto& d : dirs)
        out << "dir " << d.string() << "\n";
}

// Forgets the record of `root` (after its removal).
inline void forgetTestTree(const std::filesystem::path& root) {
    const auto record = testTreeRecord(root);
    std::error_code ec;
    if (!record.empty())
        std::filesystem::remove(record, ec);
}

// Ends every process in the cgroup subtree `root` (all of them were started by
// the test: thawed, then cgroup.kill, until `populated 0`, at most 2 s) and removes
// its groups bottom-up, `root` last, then forgets its record. Nothing else may live
// there.
inline void removeTestTree(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    if (root.empty())
        return;
    if (!fs::exists(root)) {
        forgetTestTree(root);
        return;
    }
    auto populated = [&] {
        std::ifstream in(root / "cgroup.events");
        std::string events((std::istreambuf_iterator<char>(in)), {});
        return events.find("populated 1") != std::string::npos;
    };
    for (int i = 0; i < 100 && populated(); ++i) {
        std::ofstream(root / "cgroup.freeze") << "0";
        std::ofstream(root / "cgroup.kill") << "1";
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::vector<fs::path> dirs;
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(root, ec)) {
        if (e.is_directory())
            dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
        return a.string().size() > b.string().size();
    });
    for (const auto& d : dirs)
        ::rmdir(d.c_str());
    if (::rmdir(root.c_str()) == 0)
        forgetTestTree(root);
}

}  // namespace gov::testsupport
