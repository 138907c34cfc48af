// govctl's side of the D-Bus API (docs/dbus.md): the connection, a proxy over the
// glue generated from governor/dbus/org.governor.Manager1.xml, and the mapping of
// D-Bus errors to one-line messages and exit codes.
//
// The bus is the system bus, unless GOVERNOR_BUS_ADDRESS is set to a D-Bus address
// (e.g. unix:path=/tmp/x/bus; used by the tests). No event-loop thread is started:
// calls are synchronous and signals are dispatched by the caller's own poll loop
// (see Exec.cpp).
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ExitCodes.hpp"
#include "StatusFormat.hpp"
#include "gov/dbus/Manager1Proxy.h"

namespace gov::govctl {

class GovernorProxy final : public sdbus::ProxyInterfaces<org::governor::Manager1_proxy> {
  public:
    // Method calls only: no match is installed on the bus (WorkloadExited is sent
    // to the client that ran Exec, which `govctl exec` reads itself, ExecClient.hpp).
    explicit GovernorProxy(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, kBusName, kBusObjectPath) {}
    ~GovernorProxy() = default;

  private:
    void onWorkloadExited(const std::string&, const uint32_t&, const int32_t&,
                          const int32_t&) override {}
};

using GroupStruct = sdbus::Struct<std::string, std::string, bool, bool, uint64_t, uint64_t,
                                  uint64_t, uint64_t, uint32_t>;
GroupRow toGroupRow(const GroupStruct& s);

// Opens the bus (throws sdbus::Error when it cannot).
std::unique_ptr<sdbus::IConnection> connectBus();

// The exit code for a D-Bus error: kExitUnknownTarget, kExitDenied,
// kExitUnreachable, kExitNotFound, kExitCannotExecute or kExitFailed.
int exitCodeFor(const sdbus::Error& error);
// One line: "governord is not reachable on the system bus: ..." or the daemon's
// own message.
std::string messageFor(const sdbus::Error& error);

// Runs `body` with a proxy; a D-Bus error is printed as "govctl <command>: <message>"
// and turned into its exit code. Returns the exit code (body's on success).
struct CommandContext;
int withDaemon(CommandContext& ctx, const std::string& command,
               const std::function<int(GovernorProxy&)>& body);

// freeze/thaw/kill: calls `method` ("Freeze", ...) for each target in order,
// printing "froze adhoc" lines; stops at the first error (its exit code).
int runControl(CommandContext& ctx, const std::string& command, const std::string& pastTense,
               const std::vector<std::string>& targets,
               void (GovernorProxy::*method)(const std::string&));

}  // namespace gov::govctl
