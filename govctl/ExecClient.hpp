// The client side of `govctl exec`, over the minimal D-Bus client in wire/ (no
// sdbus-c++, so that the lean `govctl` binary that runs it starts fast; see
// wire/DbusMessage.hpp and bench/exec).
//
// One Exec call: the daemon spawns the command in a fresh workload group of the
// class, with our uid/gid/groups and process attributes taken from the bus
// credentials (never from arguments), our stdin/stdout/stderr passed as UNIX fds,
// our environment and cwd. A daemon that is not on the bus (restarting: systemd
// starts it again within seconds) is waited for, kRestartWaitMs at most, saying so.
// Then we wait for the daemon's WorkloadExited signal, which the daemon sends to
// our connection only (and which is accepted only from the connection that
// answered Exec), forwarding SIGINT/SIGTERM/SIGHUP/SIGQUIT to the workload
// meanwhile.
//
// The daemon's identity is the unique bus name that answered Exec: whenever the
// bus has been quiet for kIdleCheckMs, we ask the bus who owns the daemon's
// well-known name. The same connection: no restart, we keep waiting for the exit
// report however long it takes (the group may be gone long before: the report
// follows the reply). Another connection, or none: governord restarted (we say
// so); the new daemon does not know the exit status, so once the group is gone
// (GetGroup: NoSuchGroup) we say the status is unknown and exit 1.
//
// With a pseudo-terminal (stdin is a terminal, or -t; never with -T), see
// Terminal.hpp and PtyRelay.hpp: govctl opens it (it is the caller's), passes its
// slave in place of its own terminals (all three stdio with -t), puts its terminal
// in raw mode and relays both ways; the daemon makes the slave the workload's
// controlling terminal. SIGWINCH copies the window size; SIGTSTP stops govctl with
// its terminal restored (raw again on SIGCONT). A signal that would end govctl
// (SIGTERM, SIGHUP, SIGINT, SIGQUIT) is forwarded, and govctl leaves: it restores
// its terminal and closes the master, which hangs the pseudo-terminal up (SIGHUP
// to the workload's session, as when a terminal window closes), then waits
// kHangupWaitMs for the exit report. After the report, what the master still has
// is copied out (until nobody holds the slave, or it is quiet for 100 ms, or 1 s
// has passed). The terminal's modes are restored on every way out.
#pragma once

#include <cstdio>

#include "ExecArgs.hpp"

namespace gov::govctl {

// How long `govctl exec` waits for a daemon that is not on the bus before the
// Exec call fails (documented in docs/govctl.md).
inline constexpr int kRestartWaitMs = 10000;
// How long the bus may be quiet before we check who owns the daemon's name.
inline constexpr int kIdleCheckMs = 2000;
// How long govctl waits for the exit report after hanging up a terminal session.
inline constexpr int kHangupWaitMs = 2000;

// Returns govctl's exit code: the workload's status (128+N when signal N ended
// it), or kExitUnknownTarget, kExitDenied, kExitUnreachable, kExitNotFound,
// kExitCannotExecute, kExitFailed with a one-line message on `err`.
int runExec(const ExecLine& line, std::FILE* err);

}  // namespace gov::govctl
