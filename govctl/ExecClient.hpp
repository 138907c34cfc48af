// The client side of `govctl exec`, over the minimal D-Bus client in wire/ (no
// sdbus-c++, so that the lean `govctl` binary that runs it starts fast; see
// wire/DbusMessage.hpp and bench/exec).
//
// One Exec call: the daemon spawns the command in a fresh workload group of the
// class, with our uid/gid/groups taken from the bus credentials (never from
// arguments), our stdin/stdout/stderr passed as UNIX fds, our environment and cwd.
// Then it waits for the daemon's WorkloadExited signal, which the daemon sends to
// our connection only (and which is accepted only from the daemon that answered
// Exec), forwarding SIGINT/SIGTERM/SIGHUP/SIGQUIT to the workload meanwhile.
//
// If governord goes away while the workload runs (a restart), we keep waiting and
// say so; when it is back and the group is gone without an exit report, the
// status is unknown and we exit 1 saying so.
#pragma once

#include <cstdio>

#include "ExecArgs.hpp"

namespace gov::govctl {

// Returns govctl's exit code: the workload's status (128+N when signal N ended
// it), or kExitUnknownTarget, kExitDenied, kExitUnreachable, kExitNotFound,
// kExitCannotExecute, kExitFailed with a one-line message on `err`.
int runExec(const ExecLine& line, std::FILE* err);

}  // namespace gov::govctl
