#include "gov/core/Ancestors.hpp"

#include "gov/runtime/CgroupFs.hpp"

namespace gov::core {

std::vector<std::string> enableAncestorControllers(const std::string& mount,
                                                   const std::string& root,
                                                   const std::set<std::string>& wanted) {
    std::vector<std::string> problems;
    if (mount.empty() || root.size() <= mount.size() || root.compare(0, mount.size(), mount) != 0 ||
        root[mount.size()] != '/') {
        return problems;  // not below the mount: nothing of ours to enable
    }
    // The ancestors, top-down: the mount itself, then each component but the last.
    std::vector<std::string> ancestors = {mount};
    for (size_t pos = mount.size() + 1; (pos = root.find('/', pos)) != std::string::npos; ++pos) {
        ancestors.push_back(root.substr(0, pos));
    }
    for (const auto& path : ancestors) {
        auto fs = runtime::CgroupFs::open(path);
        if (!fs) {
            problems.push_back(fs.error().message());
            break;  // a missing ancestor: the root cannot exist either
        }
        auto offered = fs->controllers("");
        auto enabled = fs->subtreeControl("");
        if (!offered || !enabled) {
            problems.push_back((offered ? enabled.error() : offered.error()).message());
            continue;
        }
        std::set<std::string> missing;
        for (const auto& c : wanted) {
            if (offered->count(c) && !enabled->count(c))
                missing.insert(c);
        }
        if (missing.empty())
            continue;
        auto done = fs->enableControllers("", missing);
        if (!done)
            problems.push_back(done.error().message().insert(0, path + ": "));
    }
    return problems;
}

}  // namespace gov::core
