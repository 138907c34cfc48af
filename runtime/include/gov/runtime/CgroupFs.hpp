// CgroupFs: access to one cgroup v2 subtree, opened once as a directory fd; every
// operation is openat()-relative to it with O_CLOEXEC, so the subtree can be a fake
// tree in a temp dir (unit tests) or the real one (the daemon's root).
//
// Group paths are relative to the root: "" is the root itself,
// "adhoc.slice/exec-1.scope" a descendant. A path that is absolute or has an empty,
// "." or ".." component is rejected (EINVAL): Governor never touches anything
// outside its root.
//
// Errors name the operation, the file and the group and carry the errno:
// "write memory.max in adhoc.slice/exec-42.scope: Device or resource busy"
// (the root group is shown as "<root>").
//
// Thread safety: const methods may be called concurrently (they only use the
// immutable root fd); the object itself is move-only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/Fd.hpp"

namespace gov::runtime {

class CgroupFs {
  public:
    // Opens `rootPath` (O_DIRECTORY). Fails when it does not exist or is not a
    // directory. It is not checked to be a cgroup2 filesystem (fake trees are
    // plain directories); discovery does that.
    static Result<CgroupFs> open(const std::string& rootPath);

    const std::string& rootPath() const { return rootPath_; }
    // The root's directory fd (owned by this object; valid for its lifetime).
    int rootFd() const { return root_.get(); }
    // rootPath joined with `group` ("" -> rootPath itself).
    std::string absolute(const std::string& group) const;

    // mkdir; an existing group is success. Parents must exist.
    Result<void> makeGroup(const std::string& group) const;
    // rmdir; a missing group is success; a populated group or one with children is
    // an error (EBUSY / ENOTEMPTY) naming it.
    Result<void> removeGroup(const std::string& group) const;
    bool exists(const std::string& group) const;
    // Names of the direct subdirectories (child groups), sorted.
    Result<std::vector<std::string>> children(const std::string& group) const;

    // The whole content of `file` in `group` (one open, reads until EOF, close).
    Result<std::string> read(const std::string& group, const std::string& file) const;
    // Like read(), but a file that does not exist (ENOENT), or that the kernel
    // refuses to read because the feature is off (EOPNOTSUPP, e.g. PSI disabled),
    // is nullopt instead of an error.
    Result<std::optional<std::string>> readIfExists(const std::string& group,
                                                    const std::string& file) const;
    // Exactly ONE write() of `value` (no newline is added; O_WRONLY, no O_CREAT,
    // no O_TRUNC: control files are written in place). A short write is an error.
    Result<void> write(const std::string& group, const std::string& file,
                       const std::string& value) const;

    // An O_RDONLY|O_DIRECTORY|O_CLOEXEC fd on the group, usable as
    // clone_args.cgroup for clone3(CLONE_INTO_CGROUP) (O_PATH is not accepted there).
    Result<Fd> openGroup(const std::string& group) const;

    // cgroup.controllers: the controllers available to `group`.
    Result<std::set<std::string>> controllers(const std::string& group) const;
    // cgroup.subtree_control: the controllers enabled for `group`'s children.
    Result<std::set<std::string>> subtreeControl(const std::string& group) const;
    // Enables each of `names` in `group`'s cgroup.subtree_control with one write
    // per controller ("+memory"), so one refused controller does not block the
    // others. Controllers already enabled are not written again. Every controller
    // is attempted; if any failed, the error lists each failed one with its reason
    // ("enable controllers in <root>: memory: No such file or directory; io: ...")
    // and the others are left enabled. Use subtreeControl() to see the outcome.
    Result<void> enableControllers(const std::string& group,
                                   const std::set<std::string>& names) const;

    // Writes `pid` to cgroup.procs of `group`. For the daemon moving itself only:
    // workloads are spawned into their group with clone3 (a migration costs an RCU
    // grace period, 8-15 ms).
    Result<void> moveProcess(const std::string& group, pid_t pid) const;
    // The pids in cgroup.procs of `group` (just this group, not descendants).
    Result<std::vector<pid_t>> processes(const std::string& group) const;

  private:
    CgroupFs(Fd root, std::string rootPath)
        : root_(std::move(root)), rootPath_(std::move(rootPath)) {}

    Fd root_;
    std::string rootPath_;
};

// "<root>" for "", else the group itself: how groups are named in messages.
std::string groupDisplayName(const std::string& group);

// Whether `group` is an acceptable relative group path (see CgroupFs).
bool isValidGroupPath(const std::string& group);

}  // namespace gov::runtime
