// The names of Governor's D-Bus API, declared once for both ends: the daemon's
// service (governor/daemon/src/BusService.cpp) and both govctl clients (the lean
// exec client, govctl/ExecClient.cpp, and govctl-full's sdbus-c++ proxies). The
// methods and signals are governor/dbus/org.governor.Manager1.xml; docs/dbus.md
// documents the names and what each error means.
//
// Header-only constants, no library: the lean govctl links nothing but libc and a
// static libstdc++.
#pragma once

namespace gov::dbus {

inline constexpr const char* kBusName = "org.governor.Governor1";  // the well-known name
inline constexpr const char* kBusObjectPath = "/org/governor/Governor1";
inline constexpr const char* kBusInterface = "org.governor.Manager1";

// The errors governord replies with. Every one starts with kErrorPrefix, and its
// message is a whole sentence meant for the user.
inline constexpr const char* kErrorPrefix = "org.governor.Error.";
inline constexpr const char* kErrorUnknownClass = "org.governor.Error.UnknownClass";
inline constexpr const char* kErrorNoSuchGroup = "org.governor.Error.NoSuchGroup";
inline constexpr const char* kErrorPermissionDenied = "org.governor.Error.PermissionDenied";
inline constexpr const char* kErrorCommandNotFound = "org.governor.Error.CommandNotFound";
inline constexpr const char* kErrorCannotExecute = "org.governor.Error.CannotExecute";
inline constexpr const char* kErrorInvalidArgument = "org.governor.Error.InvalidArgument";
inline constexpr const char* kErrorFrozen = "org.governor.Error.Frozen";
inline constexpr const char* kErrorFailed = "org.governor.Error.Failed";  // anything else

}  // namespace gov::dbus
