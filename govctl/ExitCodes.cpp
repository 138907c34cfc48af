#include "ExitCodes.hpp"

#include <cstdlib>

namespace gov::govctl {

bool isUnreachableError(std::string_view n) {
    return n.rfind("org.sdbuscpp.Error", 0) == 0 ||
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

int exitCodeForError(std::string_view n) {
    if (n == dbus::kErrorUnknownClass || n == dbus::kErrorNoSuchGroup)
        return kExitUnknownTarget;
    if (n == dbus::kErrorPermissionDenied || n == "org.freedesktop.DBus.Error.AccessDenied")
        return kExitDenied;
    if (n == dbus::kErrorCommandNotFound)
        return kExitNotFound;
    if (n == dbus::kErrorCannotExecute)
        return kExitCannotExecute;
    if (isUnreachableError(n))
        return kExitUnreachable;
    return kExitFailed;
}

std::string describeError(const std::string& name, const std::string& message,
                          const std::string& where) {
    if (isUnreachableError(name))
        return "governord is not reachable on " + where + ": " + message;
    if (name.rfind(dbus::kErrorPrefix, 0) == 0)
        return message;
    return name + ": " + message;
}

std::string busDescription() {
    const char* address = std::getenv(kBusAddressEnv);
    return address && *address ? std::string(address) : std::string("the system bus");
}

}  // namespace gov::govctl
