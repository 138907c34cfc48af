// Shared by the live tests: the teardown of a test's own cgroup subtree.
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

// Ends every process in the cgroup subtree `root` (all of them were started by
// the test: thawed, then cgroup.kill, until `populated 0`, at most 2 s) and removes
// its groups bottom-up, `root` last. Nothing else may live there.
inline void removeTestTree(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    if (root.empty() || !fs::exists(root))
        return;
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
    ::rmdir(root.c_str());
}

}  // namespace gov::testsupport
