// What a checkpoint must know about the processes of a group before CRIU sees
// them: whether they form ONE tree (CRIU dumps a tree from its root), the root, its
// command line, and which standard descriptors (0, 1, 2) point at something outside
// the group that a restore cannot re-attach (the other end of a pipe or socket held
// by a client, a terminal), and whose credentials the processes hold (CRIU restores
// them as dumped, so they decide who may restore the image).
//
// The parsers and decisions are pure (table-tested and fuzzed); the readers take
// the /proc root as a parameter. Thread safety: free functions, no shared state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gov/Result.hpp"
#include "gov/runtime/CgroupFs.hpp"

namespace gov::runtime {

// The ppid (4th field) of a /proc/<pid>/stat line. The command (2nd field) may hold
// spaces and ')' itself, so the fields are counted after its LAST ')'.
Result<pid_t> parseStatPpid(std::string_view statText);

// The one pid of `parents` (pid -> ppid) whose parent is not in the map: the root
// of the tree. Several such pids (e.g. a daemon that double-forked and was
// reparented, next to the original command) is an error that names them, since
// CRIU dumps exactly one tree. An empty map is an error too.
Result<pid_t> findTreeRoot(const std::map<pid_t, pid_t>& parents);

// The pids of `group` and of every group below it.
Result<std::vector<pid_t>> subtreeProcesses(const CgroupFs& fs, const std::string& group);

// /proc/<pid>/cmdline split at NULs.
Result<std::vector<std::string>> readCommandLine(const std::string& procRoot, pid_t pid);

// The parent of every pid (read from <procRoot>/<pid>/stat).
Result<std::map<pid_t, pid_t>> readParents(const std::string& procRoot,
                                           const std::vector<pid_t>& pids);

// One standard descriptor of one process, as /proc shows it.
struct StdioFd {
    pid_t pid = -1;
    int fd = -1;
    // readlink of /proc/<pid>/fd/<fd>: "/dev/null", "pipe:[4711]", "socket:[99]",
    // "/dev/pts/3", "/var/log/x.log", "anon_inode:[eventfd]".
    std::string target;
    // O_RDONLY, O_WRONLY or O_RDWR (from the "flags:" line of fdinfo).
    int accessMode = 0;
    // A character device that is a terminal (tty, pts, console).
    bool terminal = false;
    // For terminals: CRIU's key "tty[<rdev hex>:<dev hex>]".
    std::string ttyKey;
};

// A descriptor whose resource will not come back on restore.
struct LostStdio {
    pid_t pid = -1;
    int fd = -1;
    // CRIU's name of the resource: "pipe:[4711]", "socket:[99]", "tty[8800:1a]".
    std::string resource;
    bool operator==(const LostStdio&) const = default;
};

// Which of `fds` cannot be re-attached after a restore (pure):
// - a file by path (including /dev/null) is reopened by CRIU: kept;
// - a pipe is kept only when the tree itself holds both a read and a write end of
//   it (e.g. `a | b` inside the workload); otherwise its other end is outside;
// - a socket is lost (its peer is outside: CRIU would need it too);
// - a terminal is lost (it belongs to the client's session);
// - anything else (anon inodes) is left to CRIU, which says whether it can dump it.
std::vector<LostStdio> findLostStdio(const std::vector<StdioFd>& fds);

// fds 0..2 of each pid (a closed one is skipped).
Result<std::vector<StdioFd>> readStdio(const std::string& procRoot, const std::vector<pid_t>& pids);

// The credentials of one process, as /proc/<pid>/status shows them (in the reader's
// user namespace): real, effective, saved and filesystem ids, the supplementary
// groups and the capability sets that a restore would give back.
struct ProcCreds {
    pid_t pid = -1;
    uid_t uids[4] = {0, 0, 0, 0};  // real, effective, saved, fs
    gid_t gids[4] = {0, 0, 0, 0};
    std::vector<gid_t> groups;
    uint64_t capPermitted = 0;
    uint64_t capEffective = 0;
    uint64_t capAmbient = 0;
};

// The Uid/Gid/Groups/CapPrm/CapEff/CapAmb lines of a /proc/<pid>/status text
// (pure). Every one but Groups and CapAmb (kernels before 4.3) is required.
Result<ProcCreds> parseProcCreds(std::string_view statusText);

// parseProcCreds of <procRoot>/<pid>/status for each pid.
Result<std::vector<ProcCreds>> readCreds(const std::string& procRoot,
                                         const std::vector<pid_t>& pids);

// The one uid that may be given these processes back besides root (pure): X when
// every process is a plain process of X (its four uids X, its four gids equal, no
// permitted, effective or ambient capability: nothing a setuid or setgid program
// or file capabilities gave it); 0 when all four uids of every process are 0 (a
// root workload: only root). nullopt otherwise (mixed or raised credentials: only
// root may restore them), and for no process at all.
std::optional<uid_t> plainOwner(const std::vector<ProcCreds>& creds);

// Every gid the processes hold (real, effective, saved, fs, supplementary), sorted,
// once each (pure): what a restore gives back besides the uid.
std::vector<gid_t> heldGids(const std::vector<ProcCreds>& creds);

}  // namespace gov::runtime
