#include "BusClient.hpp"

#include <cstdlib>
#include <exception>

#include "Command.hpp"

namespace gov::govctl {

namespace {

bool startsWith(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

bool isUnreachable(const sdbus::Error& e) {
    const std::string& n = e.getName();
    // No connection at all (sdbus-c++'s own errors), nobody owns the name, the
    // daemon died or hung mid-call.
    return startsWith(n, "org.sdbuscpp.Error") ||
           n == "org.freedesktop.DBus.Error.ServiceUnknown" ||
           n == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
           n == "org.freedesktop.DBus.Error.NoServer" ||
           n == "org.freedesktop.DBus.Error.Disconnected" ||
           n == "org.freedesktop.DBus.Error.NoReply" ||
           n == "org.freedesktop.DBus.Error.TimedOut" ||
           n == "org.freedesktop.DBus.Error.FileNotFound" ||
           n == "org.freedesktop.DBus.Error.UnknownObject" ||
           n == "org.freedesktop.DBus.Error.UnknownInterface";
}

}  // namespace

GroupRow toGroupRow(const GroupStruct& s) {
    GroupRow r;
    r.group = s.get<0>();
    r.className = s.get<1>();
    r.frozen = s.get<2>();
    r.killed = s.get<3>();
    r.cpuUsageUsec = s.get<4>();
    r.memoryBytes = s.get<5>();
    r.ioReadBytes = s.get<6>();
    r.ioWriteBytes = s.get<7>();
    r.tasks = s.get<8>();
    return r;
}

std::string busDescription() {
    const char* address = std::getenv(kBusAddressEnv);
    return address && *address ? std::string(address) : std::string("the system bus");
}

std::unique_ptr<sdbus::IConnection> connectBus() {
    const char* address = std::getenv(kBusAddressEnv);
    if (address && *address)
        return sdbus::createSessionBusConnectionWithAddress(address);
    return sdbus::createSystemBusConnection();
}

int exitCodeFor(const sdbus::Error& e) {
    const std::string& n = e.getName();
    if (n == "org.governor.Error.UnknownClass" || n == "org.governor.Error.NoSuchGroup")
        return kExitUnknownTarget;
    if (n == "org.governor.Error.PermissionDenied" ||
        n == "org.freedesktop.DBus.Error.AccessDenied")
        return kExitDenied;
    if (n == "org.governor.Error.CommandNotFound")
        return kExitNotFound;
    if (n == "org.governor.Error.CannotExecute")
        return kExitCannotExecute;
    if (isUnreachable(e))
        return kExitUnreachable;
    return kExitFailed;
}

std::string messageFor(const sdbus::Error& e) {
    if (isUnreachable(e)) {
        return "governord is not reachable on " + busDescription() + ": " + e.getMessage();
    }
    if (startsWith(e.getName(), "org.governor.Error."))
        return e.getMessage();
    return e.getName() + ": " + e.getMessage();
}

int withDaemon(CommandContext& ctx, const std::string& command,
               const std::function<int(GovernorProxy&)>& body) {
    try {
        auto connection = connectBus();
        GovernorProxy proxy(*connection, false);
        return body(proxy);
    } catch (const sdbus::Error& e) {
        ctx.err << "govctl " << command << ": " << messageFor(e) << "\n";
        return exitCodeFor(e);
    }
}

int runControl(CommandContext& ctx, const std::string& command, const std::string& pastTense,
               const std::vector<std::string>& targets,
               void (GovernorProxy::*method)(const std::string&)) {
    return withDaemon(ctx, command, [&](GovernorProxy& proxy) {
        for (const auto& target : targets) {
            (proxy.*method)(target);
            ctx.out << pastTense << " " << target << "\n";
        }
        return kExitOk;
    });
}

}  // namespace gov::govctl
