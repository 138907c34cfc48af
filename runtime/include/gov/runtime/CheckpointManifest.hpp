// The manifest of a checkpoint folder: what was checkpointed, under which policy,
// by whom, with which programs, and what a restore will not get back. Written as
// `manifest.toml` in the folder, LAST (atomically), so a folder with a valid
// manifest holds a complete dump; a failed checkpoint leaves `INCOMPLETE` instead.
//
// Format (TOML, `format = 1`; every key below is required unless marked optional,
// unknown keys are refused so that a newer format is never half-understood):
//
//   format = 1
//   created = "2026-11-29T03:12:44Z"        # UTC, when the dump completed
//   governor_version = "0.1.0"
//   criu_version = "3.17.1"
//   class = "adhoc"
//   group = "adhoc.slice/exec-812-3.scope"  # relative to Governor's cgroup root
//   owner_uid = 1000                        # who may restore it besides root (0:
//                                           # root only); see plainOwner()
//   owner_gids = [27, 1000]                 # every gid the processes held: a user
//                                           # restores only with all of them
//   command = ["python3", "count.py"]       # the root process's command line
//   root_pid = 812
//   processes = 3
//   memory_bytes = 1052672                  # memory pages in the image: what the
//                                           # restored tree holds resident at once
//   image_bytes = 1392640                   # every file CRIU wrote
//   [limits]                                # the policy limits in force, as written
//   "memory.max" = "67108864"               # to the cgroup files (optional table)
//   [[lost_stdio]]                          # optional: descriptors a restore gives
//   pid = 812                               # /dev/null instead (the other end was
//   fd = 1                                  # outside the group)
//   resource = "pipe:[4711]"
//
// Pure: no I/O. Thread safety: free functions, no shared state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/ProcessTree.hpp"

namespace gov::runtime {

inline constexpr const char* kManifestFile = "manifest.toml";
inline constexpr const char* kIncompleteFile = "INCOMPLETE";

struct CheckpointManifest {
    static constexpr int kFormat = 1;
    std::string created;
    std::string governorVersion;
    std::string criuVersion;
    std::string className;
    std::string group;
    uint32_t ownerUid = 0;
    std::vector<uint32_t> ownerGids;  // sorted, once each
    std::vector<std::string> command;
    pid_t rootPid = -1;
    uint32_t processes = 0;
    uint64_t memoryBytes = 0;
    uint64_t imageBytes = 0;
    std::map<std::string, std::string> limits;
    std::vector<LostStdio> lostStdio;

    bool operator==(const CheckpointManifest&) const = default;
};

// The TOML text of `m` (parseManifest(formatManifest(m)) == m for a valid m).
std::string formatManifest(const CheckpointManifest& m);

// Parses and validates. Errors name the key: "manifest: owner_uid: missing",
// "manifest: owner_gids[1]: not an integer",
// "manifest: lost_stdio[0].fd: 7 is not 0, 1 or 2", "manifest: line 3: ...".
Result<CheckpointManifest> parseManifest(std::string_view text);

// Whether a class whose memory.max is `memoryMax` (nullopt: unlimited) can hold the
// restored image; the refusal says both sizes:
// "class noncore: memory.max 67108864 is below the image's 268435456 bytes of memory".
Result<void> checkMemoryFits(const CheckpointManifest& m, const std::string& className,
                             std::optional<uint64_t> memoryMax);

}  // namespace gov::runtime
