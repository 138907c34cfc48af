// Shared by the unit tests: temp dirs, whole-file helpers, and a fake cgroup v2 tree
// (plain directories and files in a temp dir standing in for cgroupfs, as oomd's
// tests do), so that code working on a root that is passed in (runtime::CgroupFs,
// Governor, the collector) runs without root and without a kernel.
//
// What the fake kernel does NOT do: create interface files on mkdir, enforce
// anything, update cgroup.events, or refuse writes. A test makes every group the
// code will use (makeGroup) and writes every file it will read (write); a write the
// kernel would refuse is simulated by a file that cannot be written (refuseWrites).
//
// Thread safety: none (test fixtures).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace gov::testsupport {

// The whole content of `path`; "" when it cannot be read.
inline std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Writes `text` as the whole content of `path`, creating its parent folders; a
// failure is a test failure naming the file.
inline void writeFile(const std::filesystem::path& path, std::string_view text) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out.good())
        ADD_FAILURE() << "cannot write " << path;
}

// A fresh folder under $TMPDIR (or /tmp), named <prefix>-XXXXXX, removed with
// everything in it when this object goes.
class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "gov-test") {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") + "/" +
                           std::string(prefix) + "-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr)
            ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  private:
    std::string path_;
};

// Every controller of a cgroup v2 kernel that Governor uses.
inline constexpr const char* kAllControllers = "cpuset cpu io memory pids";

// The limit files ("knobs") each controller adds to a non-root group, as on Linux
// 6.1. The fake tree creates them empty: the code under test writes them in place
// (one write, no O_TRUNC, as on cgroupfs) and reads back what it wrote.
inline const std::map<std::string, std::vector<std::string>>& controllerKnobFiles() {
    static const std::map<std::string, std::vector<std::string>> kFiles = {
        {"cpuset", {"cpuset.cpus", "cpuset.mems"}},
        {"cpu", {"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle"}},
        {"memory",
         {"memory.min", "memory.low", "memory.high", "memory.max", "memory.swap.max",
          "memory.zswap.max", "memory.oom.group"}},
        {"io", {"io.max", "io.weight"}},
        {"pids", {"pids.max"}},
    };
    return kFiles;
}

// A fake cgroup v2 hierarchy in a temp dir, with the folders the daemon reads
// beside it: base()/cgroup (the root), base()/sys (block devices), base()/dev.
class FakeCgroupTree {
  public:
    // `controllers`: what the root offers (its cgroup.controllers), space separated.
    explicit FakeCgroupTree(std::string controllers = kAllControllers)
        : dir_("gov-fake-tree"), controllers_(std::move(controllers)) {
        write("cgroup.controllers", controllers_ + "\n");
        write("cgroup.subtree_control", "");
        write("cgroup.events", "populated 1\nfrozen 0\n");
        std::filesystem::create_directories(sysRoot());
        std::filesystem::create_directories(devRoot());
    }

    // The temp dir holding everything (state dirs and policy files may go here).
    std::filesystem::path base() const { return dir_.path(); }
    // The hierarchy's root, as passed to CgroupFs::open / GovernorConfig::cgroupRoot.
    std::filesystem::path root() const { return base() / "cgroup"; }
    std::filesystem::path sysRoot() const { return base() / "sys"; }
    std::filesystem::path devRoot() const { return base() / "dev"; }

    // A group as the kernel makes it with every offered controller enabled above it:
    // cgroup.controllers, an empty cgroup.subtree_control, cgroup.events (populated
    // as asked, not frozen), and each offered controller's limit files, empty.
    // Parents are created as plain folders; make them with makeGroup first when the
    // code reads their files.
    void makeGroup(const std::string& group, bool populated = false) const {
        std::istringstream offered(controllers_);
        for (std::string c; offered >> c;) {
            auto it = controllerKnobFiles().find(c);
            if (it == controllerKnobFiles().end())
                continue;
            for (const auto& file : it->second)
                write(group + "/" + file, "");
        }
        write(group + "/cgroup.controllers", controllers_ + "\n");
        write(group + "/cgroup.subtree_control", "");
        setEvents(group, populated);
    }

    // cgroup.events of `group`.
    void setEvents(const std::string& group, bool populated, bool frozen = false) const {
        write(group + "/cgroup.events", std::string("populated ") + (populated ? "1" : "0") +
                                            "\nfrozen " + (frozen ? "1" : "0") + "\n");
    }

    // `file` of `group` ("" is the root) refuses writes, as the kernel does with
    // EINVAL: it becomes a symlink to a read-only file (writes fail, reads work).
    void refuseWrites(const std::string& group, const std::string& file) const {
        const auto path = root() / group / file;
        std::filesystem::remove(path);
        std::filesystem::create_symlink("/proc/version", path);
    }

    // A block device in the fake /sys: sys/block/NAME/{dev,size} and sys/dev/block/DEV.
    // `sectors` 0 is how an unattached loop device looks.
    void addDisk(const std::string& name, const std::string& majMin,
                 unsigned long long sectors) const {
        writeFile(sysRoot() / "block" / name / "dev", majMin + "\n");
        writeFile(sysRoot() / "block" / name / "size", std::to_string(sectors) + "\n");
        std::filesystem::create_directories(sysRoot() / "dev/block" / majMin);
    }

    // Files relative to the root ("adhoc.slice/memory.max", "cgroup.controllers").
    void write(const std::string& rel, std::string_view text) const {
        writeFile(root() / rel, text);
    }
    std::string read(const std::string& rel) const { return readFile(root() / rel); }
    bool exists(const std::string& rel) const { return std::filesystem::exists(root() / rel); }

  private:
    TempDir dir_;
    std::string controllers_;
};

}  // namespace gov::testsupport
