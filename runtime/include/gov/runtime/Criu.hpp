// Criu: CRIU (checkpoint/restore in user space) driven through its RPC protocol.
//
// Each call starts one `criu swrk 0` process (through the ProcessSpawner) whose
// stdin is one end of a SOCK_SEQPACKET socketpair, sends one protobuf-c encoded
// criu_req (the messages of Debian's /usr/include/criu/rpc.proto, compiled at
// build time) and reads the criu_resp; criu then exits and is reaped.
//
// Why RPC and not the command line: the request is typed (no option spelling to
// keep in sync with a criu version), the answer is typed (success, CRIU's errno and
// its error message, the restored pid, the version) instead of console text to
// parse, and descriptors are passed by number (the images folder is opened once by
// us, so a rename or a symlink race cannot redirect it).
// Why `swrk` and not the service socket (`criu service`): swrk is a private child of
// the caller, so there is no long-running root daemon listening on a socket to
// secure, it runs with exactly the caller's privileges, it inherits what the caller
// chooses (the cgroup it is born in, for a restore), and it cannot be shared or
// raced by another client. CRIU identifies the caller by the socket's peer
// credentials, so descriptor numbers in a request (images_dir_fd) are the CALLER's
// and CRIU opens them through /proc/<caller>/fd/<n>.
//
// Thread safety: the const methods may be called from several threads at once (each
// call has its own criu process); the spawner must then be thread-safe too (the
// default Clone3Spawner of one call is private to it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "gov/Result.hpp"

namespace gov::runtime {

struct CriuVersion {
    int major = 0;
    int minor = 0;
    int sublevel = 0;
    // "3.17.1" (sublevel left out when CRIU does not report one).
    std::string text() const;
};

struct CriuDumpOptions {
    // The root of the process tree to dump (CRIU dumps it and all its descendants).
    pid_t pid = -1;
    // The images folder, an O_DIRECTORY fd of the caller.
    int imagesDirFd = -1;
    // Absolute path of the cgroup the tree lives in, ALREADY FROZEN by the caller
    // (cgroup.freeze 1, "frozen 1"). CRIU then seizes every task listed there with
    // ptrace, thaws the group so the seized tasks enter their ptrace stop (a task
    // frozen by the v2 freezer cannot), dumps, and at the end writes the freezer back
    // to the state it found (frozen) before detaching. Without this option a frozen
    // tree could not be seized at all (checkpoint-restore/criu issue 1034).
    std::string freezeCgroup;
    // Leave the tasks alive after a successful dump (otherwise CRIU kills them).
    bool leaveRunning = true;
    // Dump unix sockets whose peer is outside the tree (the restored end is then
    // given by an inherited descriptor, see CriuRestoreOptions::inheritNull).
    bool externalUnixSockets = false;
    // CRIU `external` resources, e.g. "tty[8800:1a]" for a terminal outside the tree.
    std::vector<std::string> external;
    // CRIU's log, created in the images folder (no subfolders allowed).
    std::string logFile = "criu-dump.log";
    int logLevel = 4;
    // CRIU's own bound on seizing the tasks, in seconds (0: CRIU's default).
    unsigned timeoutSeconds = 10;
};

struct CriuRestoreOptions {
    int imagesDirFd = -1;
    // Resources of the image (CRIU's keys: "pipe:[123]", "socket:[45]",
    // "tty[8800:1a]") that the restored processes get /dev/null for instead.
    std::vector<std::string> inheritNull;
    std::string logFile = "criu-restore.log";
    int logLevel = 4;
};

class Criu {
  public:
    struct Options {
        // The criu program (PATH is searched when it has no '/').
        std::string program = "criu";
        // How long one request may take before criu is killed and the call fails.
        std::chrono::milliseconds requestTimeout{std::chrono::minutes(10)};
    };
    Criu() = default;
    explicit Criu(Options options) : options_(std::move(options)) {}

    // CRIU's version (VERSION request).
    Result<CriuVersion> version() const;

    // CHECK request: whether CRIU can work on this kernel at all. The error carries
    // CRIU's reason when it has one.
    Result<void> check() const;

    // Dumps the tree of `options.pid` into the images folder. Errors say what CRIU
    // said: "criu dump of pid 812: <CRIU's message> (log: criu-dump.log)", with the
    // last "Error (...)" line of CRIU's log when CRIU sent no message.
    Result<void> dump(const CriuDumpOptions& options) const;

    // Restores the images into the cgroup `cgroupFd` (an O_DIRECTORY fd of the group,
    // CgroupFs::openGroup): criu swrk itself is started there with
    // clone3(CLONE_INTO_CGROUP) and told to leave cgroups alone (manage_cgroups
    // "ignore"), so every restored task is born in that group, under its limits,
    // from the first page it maps. Returns the restored root's pid (in the caller's
    // pid namespace); the tree is detached from criu (reparented when criu exits).
    Result<pid_t> restore(const CriuRestoreOptions& options, int cgroupFd) const;

  private:
    Options options_;
};

// The last line of a CRIU log that holds "Error (", without its timestamp; "" when
// none (pure; for error messages).
std::string lastCriuError(const std::string& logText);

}  // namespace gov::runtime
