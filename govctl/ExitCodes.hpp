// govctl's process exit codes, and the mapping of the daemon's D-Bus error names
// to them. Shared by the lean exec path (no sdbus-c++) and the other commands.
#pragma once

#include <string>
#include <string_view>

#include "gov/dbus/BusNames.hpp"

namespace gov::govctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and its answer is "no"
                                       // (invalid policy, ...)
inline constexpr int kExitUsage = 2;   // bad command line
// Errors of the daemon commands (before a workload runs, for exec). Documented in
// `govctl --help` and docs/govctl.md.
inline constexpr int kExitUnknownTarget = 3;    // unknown class or group
inline constexpr int kExitDenied = 4;           // the daemon refused the caller
inline constexpr int kExitUnreachable = 5;      // governord is not reachable on the bus
inline constexpr int kExitCannotExecute = 126;  // exec: the command cannot be executed
inline constexpr int kExitNotFound = 127;       // exec: command not found (as the shell)

// The daemon's names, declared once for both ends (gov/dbus/BusNames.hpp).
using dbus::kBusInterface;
using dbus::kBusName;
using dbus::kBusObjectPath;
inline constexpr const char* kBusAddressEnv = "GOVERNOR_BUS_ADDRESS";

// True for the errors that mean "governord is not there": no connection at all
// (sdbus-c++'s own errors), nobody owns the name, the daemon died or hung mid-call.
bool isUnreachableError(std::string_view name);
// The exit code for a D-Bus error name: kExitUnknownTarget, kExitDenied,
// kExitUnreachable, kExitNotFound, kExitCannotExecute or kExitFailed.
int exitCodeForError(std::string_view name);
// The one-line message for a D-Bus error `name` with `message` from the daemon or
// the bus: "governord is not reachable on <where>: ..." when it is unreachable,
// the daemon's own message for its org.governor.Error.* errors, else
// "<name>: <message>".
std::string describeError(const std::string& name, const std::string& message,
                          const std::string& where);
// "the system bus", or the address in GOVERNOR_BUS_ADDRESS.
std::string busDescription();

}  // namespace gov::govctl
