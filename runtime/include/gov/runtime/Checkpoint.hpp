// Checkpointing a workload group into a folder and restoring it into a fresh group,
// with CRIU, so that nothing is half-done:
//
// openCheckpointFolder: the folder is resolved ONCE, by path, and everything after
// works on its open descriptor (the dump, the manifest, a failure's cleanup), so a
// rename or a symlink swap of the path cannot redirect any of it.
// checkpointGroup: freeze (cgroup.freeze, wait for "frozen 1") -> read the frozen
// processes (one tree? stdio that cannot come back? whose credentials?) -> CRIU dump
// with the tasks left alive and the frozen group named to CRIU -> fsync the images
// -> write the manifest last (atomically) -> kill the group (cgroup.kill) or thaw
// it. Until the manifest is durable the workload is never killed: any failure thaws
// the group (unless it was frozen before) and turns the folder into an incomplete
// one (images removed, CRIU's log kept, INCOMPLETE holding the reason); a failure
// before the freeze removes a folder it created (still empty).
//
// openCheckpoint: the folder and its manifest are opened once, checked, read and
// validated; restoreIntoGroup gives CRIU that same open folder, so the images
// restored are the ones whose manifest was read and authorized.
// restoreIntoGroup: the class's memory.max must hold the image -> CRIU restore with
// criu swrk born in the (empty) target group.
//
// Who may do this, which folders a caller may use (the `vet` callbacks), which class
// and group, and the class limits are the caller's (the daemon's) business.
// Thread safety: free functions; one call at a time per group and per folder.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "gov/Result.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/CheckpointManifest.hpp"
#include "gov/runtime/Criu.hpp"
#include "gov/runtime/Fd.hpp"

namespace gov::runtime {

// The owner and mode of a file (fstat), for the folder rules of the caller.
struct FileFacts {
    uid_t uid = 0;
    mode_t mode = 0;  // st_mode
};

// A checkpoint folder opened for a dump.
struct CheckpointFolder {
    std::string path;  // as given, for messages
    Fd parent;         // the folder it is in
    std::string name;  // its name in `parent`
    Fd dir;
    bool created = false;  // made by openCheckpointFolder
};

// Decides whether a caller may dump into `dir` (nullopt: it does not exist yet) in
// `parent`; both from fstat of descriptors, `dir` not following a symlink.
using CheckpointFolderVet = std::function<Result<void>(
    const std::optional<FileFacts>& dir, const FileFacts& parent, const std::string& path)>;

// Opens the folder `path` (absolute) for a dump: its parent is opened first and,
// with the facts of `path` inside it, handed to `vet` (none: any folder); a missing
// folder is then created (mkdirat, 0700) and opened without following a symlink,
// and must still be the one just made (owned by this process's euid); an existing
// one (only when `vet` allowed it) must be an empty folder. Errors: the vet's; "not
// empty" (file_exists); the folder appeared or changed meanwhile (file_exists).
Result<CheckpointFolder> openCheckpointFolder(const std::string& path,
                                              const CheckpointFolderVet& vet = {});

struct CheckpointRequest {
    // The workload group, relative to the CgroupFs root.
    std::string group;
    // Thaw the group after the dump instead of killing it.
    bool leaveRunning = false;
    // Checkpoint even when stdio cannot be re-attached (recorded in the manifest;
    // the restored processes get /dev/null there).
    bool detachStdio = false;
    // The caller's part of the manifest: class, limits, governor version. The rest
    // (group, owner and gids, command, processes, sizes, CRIU's version, lost stdio,
    // created) is filled in here, from the frozen processes.
    CheckpointManifest manifest;
    // Set when the caller may checkpoint the group only as its owner: the frozen
    // processes must still all be plain processes of this uid (plainOwner), or the
    // checkpoint is refused (permission_denied) before anything is dumped.
    std::optional<uid_t> requireOwner;
    std::chrono::milliseconds freezeTimeout{std::chrono::seconds(5)};
    std::string procRoot = "/proc";
};

struct CheckpointOutcome {
    CheckpointManifest manifest;
    // From the write of cgroup.freeze=1 to the kill or the thaw.
    std::chrono::milliseconds frozenFor{0};
    // The whole call.
    std::chrono::milliseconds took{0};
};

// Dumps into `folder` (openCheckpointFolder), see the file comment. The manifest's
// owner_uid is plainOwner() of the frozen processes (0 when there is none: only
// root may restore it) and owner_gids every gid they hold.
Result<CheckpointOutcome> checkpointGroup(const CgroupFs& fs, const Criu& criu,
                                          const CheckpointRequest& request,
                                          CheckpointFolder& folder);

// A checkpoint folder opened for a restore, with its validated manifest.
struct OpenedCheckpoint {
    std::string path;  // as given, for messages
    Fd dir;
    CheckpointManifest manifest;
};

// Decides whether a caller may restore from a folder with these facts (the folder
// and its manifest, from fstat of the descriptors that are then used).
using CheckpointVet = std::function<Result<void>(const FileFacts& dir, const FileFacts& manifest,
                                                 const std::string& path)>;

// Opens `path` (a symlink to a folder is followed), then its manifest.toml (not
// followed), hands both facts to `vet` (none: any), and reads and validates the
// manifest from that descriptor. A folder with INCOMPLETE (a failed checkpoint) or
// without a manifest is refused with the reason (invalid_argument).
Result<OpenedCheckpoint> openCheckpoint(const std::string& path, const CheckpointVet& vet = {});
// openCheckpoint(dir)'s manifest.
Result<CheckpointManifest> readCheckpoint(const std::string& dir);

struct RestoreRequest {
    // The target group, relative to the CgroupFs root: it must exist and be empty.
    std::string group;
    // The class the group is in and its memory.max (nullopt: unlimited), for the
    // refusal when the image cannot fit.
    std::string className;
    std::optional<uint64_t> classMemoryMax;
};

struct RestoreOutcome {
    CheckpointManifest manifest;
    pid_t pid = -1;  // the restored root, in the caller's pid namespace
    std::chrono::milliseconds took{0};
};

// Restores `checkpoint` (its open folder, its manifest) into the request's group.
Result<RestoreOutcome> restoreIntoGroup(const CgroupFs& fs, const Criu& criu,
                                        const RestoreRequest& request,
                                        const OpenedCheckpoint& checkpoint);

// Total size of the regular files in `dir` and of those named pages-*.img (CRIU's
// memory pages), in bytes.
struct ImageSizes {
    uint64_t total = 0;
    uint64_t pages = 0;
};
Result<ImageSizes> measureImages(int dirFd);

}  // namespace gov::runtime
