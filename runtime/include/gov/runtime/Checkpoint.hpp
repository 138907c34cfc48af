// Checkpointing a workload group into a folder and restoring it into a fresh group,
// with CRIU, so that nothing is half-done:
//
// checkpointGroup: freeze (cgroup.freeze, wait for "frozen 1") -> read the frozen
// processes (one tree? stdio that cannot come back?) -> CRIU dump with the tasks left
// alive and the frozen group named to CRIU -> fsync the images -> write the
// manifest last (atomically) -> kill the group (cgroup.kill) or thaw it. Until the
// manifest is durable the workload is never killed: any failure thaws the group
// (unless it was frozen before) and turns the folder into an incomplete one (images
// removed, CRIU's log kept, INCOMPLETE holding the reason).
//
// restoreIntoGroup: read and validate the manifest -> the class's memory.max must
// hold the image -> CRIU restore with criu swrk born in the (empty) target group.
//
// Who may do this, which class and group, and the class limits are the caller's
// (the daemon's) business. Thread safety: free functions; one call at a time per
// group.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "gov/Result.hpp"
#include "gov/runtime/CgroupFs.hpp"
#include "gov/runtime/CheckpointManifest.hpp"
#include "gov/runtime/Criu.hpp"

namespace gov::runtime {

struct CheckpointRequest {
    // The workload group, relative to the CgroupFs root.
    std::string group;
    // The folder: created (0700) when missing; an existing one must be empty.
    std::string dir;
    // Thaw the group after the dump instead of killing it.
    bool leaveRunning = false;
    // Checkpoint even when stdio cannot be re-attached (recorded in the manifest;
    // the restored processes get /dev/null there).
    bool detachStdio = false;
    // The caller's part of the manifest: class, owner, limits, governor version.
    // The rest (group, command, processes, sizes, CRIU's version, lost stdio,
    // created) is filled in here.
    CheckpointManifest manifest;
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

Result<CheckpointOutcome> checkpointGroup(const CgroupFs& fs, const Criu& criu,
                                          const CheckpointRequest& request);

// Reads and validates DIR/manifest.toml; a folder with INCOMPLETE (a failed
// checkpoint) or without a manifest is refused with the reason.
Result<CheckpointManifest> readCheckpoint(const std::string& dir);

struct RestoreRequest {
    std::string dir;
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

Result<RestoreOutcome> restoreIntoGroup(const CgroupFs& fs, const Criu& criu,
                                        const RestoreRequest& request);

// Total size of the regular files in `dir` and of those named pages-*.img (CRIU's
// memory pages), in bytes.
struct ImageSizes {
    uint64_t total = 0;
    uint64_t pages = 0;
};
Result<ImageSizes> measureImages(int dirFd);

}  // namespace gov::runtime
