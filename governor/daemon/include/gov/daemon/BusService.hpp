// The D-Bus service of governord: the org.governor.Manager1 adaptor (generated
// from governor/dbus/org.governor.Manager1.xml by sdbus-c++-xml2cpp at build
// time) on /org/governor/Governor1, under the well-known name
// org.governor.Governor1 (the names: gov/dbus/BusNames.hpp), driven by a BusLoop
// on the daemon's io_context.
//
// The adaptor is thin: it unpacks a call, takes the caller's identity from the
// bus credentials of the message (uid, gid, supplementary groups, pid; never from
// arguments), calls ExecService and the core (Governor, Queries, Authorization),
// and maps a ServiceErrc to a D-Bus error name (org.governor.Error.PermissionDenied,
// ...). The API is documented in docs/dbus.md.
//
// Thread safety: none; the io_context's thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "gov/Result.hpp"
#include "gov/core/Governor.hpp"
#include "gov/daemon/ExecService.hpp"
#include "gov/dbus/BusNames.hpp"

namespace gov::daemon {

struct BusOptions {
    // "system" for the system bus, or a D-Bus address ("unix:path=/run/x/bus").
    std::string address = "system";
    std::string name = dbus::kBusName;
    std::string version;  // the Version property
    // How a Reload call reloads (the daemon's own path, so sd_notify and hooks
    // run as for SIGHUP); unset: Governor::reload().
    std::function<core::ReloadOutcome()> reload;
};

class BusService {
  public:
    // Connects, exports the object, requests the name (an error when it is owned
    // by someone else or the bus refuses it) and starts processing on `io`.
    // Workload exits reported by `exec` are emitted as WorkloadExited (this sets
    // exec.onExit). `governor` and `exec` must outlive the service.
    static Result<std::unique_ptr<BusService>> start(boost::asio::io_context& io,
                                                     core::Governor& governor, ExecService& exec,
                                                     BusOptions options);
    ~BusService();
    BusService(const BusService&) = delete;
    BusService& operator=(const BusService&) = delete;

    // Stops processing bus messages (the name is released when destroyed).
    void stop();

    struct Impl;

  private:
    explicit BusService(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace gov::daemon
