#include "gov/runtime/Discovery.hpp"

#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <string>

#include "gov/runtime/Fd.hpp"

namespace gov::runtime {
namespace {

// The one place the conventional mount points are spelled out.
constexpr std::string_view kPureV2Mount = "/sys/fs/cgroup";
constexpr std::string_view kHybridV2Mount = "/sys/fs/cgroup/unified";

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMountPath(std::string_view s) {
    auto isOct = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && s.size() - i >= 4 && isOct(s[i + 1]) && isOct(s[i + 2]) &&
            isOct(s[i + 3])) {
            int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
            if (v <= 0xff) {
                out.push_back(static_cast<char>(v));
                i += 3;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

// Blank-separated fields (space, tab, newline).
std::vector<std::string_view> splitFields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n')) {
            ++i;
        }
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\n') {
            ++i;
        }
        if (i > start) {
            out.push_back(line.substr(start, i - start));
        }
    }
    return out;
}

}  // namespace

std::vector<CgroupMountPoint> parseMountInfo(std::string_view text) {
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    // (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
    // Optional fields (7) are terminated by a lone "-".
    std::vector<CgroupMountPoint> out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        auto f = splitFields(line);
        if (f.size() < 7) {
            continue;
        }
        size_t dash = 6;
        while (dash < f.size() && f[dash] != "-") {
            ++dash;
        }
        if (dash + 1 >= f.size()) {
            continue;
        }
        std::string_view fsType = f[dash + 1];
        if (fsType != "cgroup" && fsType != "cgroup2") {
            continue;
        }
        CgroupMountPoint mp;
        mp.path = unescapeMountPath(f[4]);
        mp.root = unescapeMountPath(f[3]);
        mp.v2 = fsType == "cgroup2";
        if (dash + 3 < f.size()) {
            std::string_view options = f[dash + 3];
            while (!options.empty()) {
                size_t comma = options.find(',');
                if (options.substr(0, comma) == "memory_recursiveprot") {
                    mp.memoryRecursiveProt = true;
                }
                options.remove_prefix(comma == std::string_view::npos ? options.size() : comma + 1);
            }
        }
        out.push_back(std::move(mp));
    }
    return out;
}

Result<CgroupMount> chooseCgroup2(const std::vector<CgroupMountPoint>& mounts) {
    CgroupMount out;
    const CgroupMountPoint* chosen = nullptr;
    const CgroupMountPoint* pure = nullptr;
    const CgroupMountPoint* hybrid = nullptr;
    for (const auto& m : mounts) {
        if (!m.v2) {
            out.hybrid = true;
            continue;
        }
        // A later mount on the same path hides the earlier one; keep the last.
        if (m.path == kPureV2Mount) {
            pure = &m;
        } else if (m.path == kHybridV2Mount) {
            hybrid = &m;
        } else if (chosen == nullptr) {
            chosen = &m;
        }
    }
    if (pure != nullptr) {
        chosen = pure;
    } else if (hybrid != nullptr) {
        chosen = hybrid;
    }
    if (chosen == nullptr) {
        return Error::withReason("find cgroup2 mount", "no cgroup2 filesystem mounted",
                                 std::errc::no_such_file_or_directory);
    }
    out.path = chosen->path;
    out.memoryRecursiveProt = chosen->memoryRecursiveProt;
    return out;
}

Result<CgroupMount> discoverCgroup2(const std::string& procRoot, const std::string& fsPrefix) {
    auto text = readWholeFile(procRoot + "/self/mountinfo");
    if (!text) {
        return std::move(text).error().wrap("discover cgroup2");
    }
    auto mount = chooseCgroup2(parseMountInfo(*text));
    if (!mount) {
        return mount;
    }
    auto controllers = readWholeFile(fsPrefix + mount->path + "/cgroup.controllers");
    if (!controllers) {
        return std::move(controllers).error().wrap("discover cgroup2");
    }
    mount->controllers = parseControllerList(*controllers);
    return mount;
}

Result<void> requireCgroup2(const std::string& path) {
    constexpr unsigned long kCgroup2Magic = 0x63677270;  // CGROUP2_SUPER_MAGIC
    constexpr unsigned long kCgroup1Magic = 0x27e0eb;    // CGROUP_SUPER_MAGIC
    struct statfs sfs {};
    if (::statfs(path.c_str(), &sfs) != 0) {
        return Error::fromErrno("cgroup root " + path);
    }
    const auto magic = static_cast<unsigned long>(sfs.f_type);
    if (magic == kCgroup2Magic) {
        return success();
    }
    return Error::withReason("cgroup root " + path,
                             std::string("not on a cgroup2 filesystem (") +
                                 (magic == kCgroup1Magic ? "cgroup v1" : "another filesystem") +
                                 "), refusing to use it",
                             std::errc::wrong_protocol_type);
}

std::set<std::string> parseControllerList(std::string_view text) {
    std::set<std::string> out;
    for (const auto& name : splitFields(text)) {
        out.emplace(name);
    }
    return out;
}

Result<std::string> parseProcCgroup(std::string_view text) {
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.substr(0, 3) == "0::") {
            std::string_view path = line.substr(3);
            if (path.empty() || path.front() != '/') {
                return Error::withReason("parse /proc cgroup",
                                         "bad v2 path '" + std::string(path) + "'");
            }
            return std::string(path);
        }
    }
    return Error::withReason("parse /proc cgroup", "no cgroup v2 ('0::') line",
                             std::errc::no_such_file_or_directory);
}

Result<std::string> currentCgroup(const std::string& procRoot, int pid) {
    std::string path =
        procRoot + "/" + (pid > 0 ? std::to_string(pid) : std::string("self")) + "/cgroup";
    auto text = readWholeFile(path);
    if (!text) {
        return std::move(text).error();
    }
    auto cg = parseProcCgroup(*text);
    if (!cg) {
        return std::move(cg).error().wrap(path);
    }
    return cg;
}

}  // namespace gov::runtime
