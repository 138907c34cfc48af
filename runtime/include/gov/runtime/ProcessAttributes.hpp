// What a process passes on to the programs it starts, read for another process as
// the kernel reports it: the workload of `govctl exec` gets these from its
// caller's process (never from arguments the client could forge), so that it never
// has more than the caller. Clone3Spawner applies them in the child before exec
// (SpawnRequest::attributes).
//
// Read from /proc/<pid> through a directory fd (pinned: it keeps naming the same
// process; status, stat, limits, oom_score_adj, loginuid, sessionid) and with
// ioprio_get by pid, all after a pidfd has pinned the process: once everything is
// read, the pidfd must still name a process that has not been reaped (so the pid
// was not reused meanwhile) whose real uid is the expected one, else the read is an
// error. The rlimits come from /proc/<pid>/limits rather than prlimit(2): prlimit
// on another uid's process needs CAP_SYS_RESOURCE, which the root of a container
// may not have, and the file is read through the pinned directory.
//
// Thread safety: free functions over their arguments.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gov/Result.hpp"

namespace gov::runtime {

// RLIMIT_CPU .. RLIMIT_RTTIME.
inline constexpr int kResourceLimits = RLIMIT_NLIMITS;

struct ProcessAttributes {
    uid_t uid = 0;  // real uid (checked, not applied: the spawn request's uid is)
    bool noNewPrivs = false;
    // Capability sets; bit N is capability N.
    uint64_t capBounding = ~uint64_t{0};
    uint64_t capEffective = 0;
    uint64_t capPermitted = 0;
    uint64_t capInheritable = 0;
    uint64_t capAmbient = 0;
    int nice = 0;         // -20..19
    int oomScoreAdj = 0;  // -1000..1000
    mode_t umask = 022;
    // Audit: nullopt when unset (4294967295 in /proc). The session id is only
    // reported: no process can set it, the kernel allocates a new one whenever a
    // process's loginuid is written.
    std::optional<uint32_t> loginUid;
    std::optional<uint32_t> sessionId;
    int ioPriority = 0;   // as ioprio_get returns it: class << 13 | data; 0 is "none"
    int schedPolicy = 0;  // SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR
    std::array<struct rlimit, kResourceLimits> limits{};
};

// The fields of /proc/<pid>/status that ProcessAttributes takes. Pure; every one
// is required (Umask: kernels since 4.7).
struct StatusFields {
    uid_t uid = 0;
    bool noNewPrivs = false;
    uint64_t capInheritable = 0;
    uint64_t capPermitted = 0;
    uint64_t capEffective = 0;
    uint64_t capBounding = 0;
    uint64_t capAmbient = 0;
    mode_t umask = 0;
};
Result<StatusFields> parseProcStatus(std::string_view text);

// The nice value (field 19) and scheduling policy (field 41) of /proc/<pid>/stat.
// Pure.
struct StatFields {
    int nice = 0;
    int schedPolicy = 0;
};
Result<StatFields> parseProcStat(std::string_view text);

// Every row of /proc/<pid>/limits ("unlimited" is RLIM_INFINITY), indexed by
// RLIMIT_*; a row missing or malformed is an error. Pure.
Result<std::array<struct rlimit, kResourceLimits>> parseProcLimits(std::string_view text);

// An audit id file (loginuid, sessionid): nullopt for 4294967295 (unset).
Result<std::optional<uint32_t>> parseAuditId(std::string_view text);

// Reads the attributes of process `pid`. `pidfd` pins it when >= 0 (a pidfd the
// caller already holds, e.g. from the bus); otherwise one is opened here. Errors
// name the process and what could not be read; a process that exited meanwhile, or
// whose real uid is not `expectedUid`, is an error ("process 812 exited while its
// attributes were read").
Result<ProcessAttributes> readProcessAttributes(pid_t pid, uid_t expectedUid, int pidfd = -1,
                                                const std::string& procRoot = "/proc");

}  // namespace gov::runtime
