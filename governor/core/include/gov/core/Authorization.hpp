// Who may do what through the control API. Plain C++ (no sd-bus): the adaptor
// fills a Caller from the bus credentials of the message and asks here.
//
// Rules (DESIGN.md "Control API", docs/dbus.md):
// - root (uid 0) may do everything;
// - exec into a class: the class's exec allow-list (users by name, groups by name,
//   matched against the caller's gid and supplementary groups);
// - freeze/thaw/kill a class or one of its workload groups: the policy's admins
//   or the class's control allow-list;
// - reload: the policy's admins;
// - signal a workload started by exec: its owner (the uid that exec'd it).
// Every refusal is an Error with code ServiceErrc::Denied whose message names the
// caller, the action and the object: "uid 1000 (alice) may not freeze class core".
//
// Thread safety: free functions over their arguments; the name lookups use the
// reentrant getpwuid_r/getgrgid_r.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "gov/Result.hpp"
#include "gov/policies/Policy.hpp"

namespace gov::core {

// The identity of a bus caller, from the bus credentials of its message (never
// from method arguments).
struct Caller {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups
    pid_t pid = 0;              // informational (logs)
};

// Error codes of the control services, mapped to D-Bus error names by the adaptor
// and to exit codes by govctl.
enum class ServiceErrc {
    UnknownClass = 1,  // no such class in the policy in force
    NoSuchGroup,       // no such class or workload group
    Denied,            // the caller is not allowed
    CommandNotFound,   // exec: the command does not exist (ENOENT)
    CannotExecute,     // exec: it exists but cannot be executed (EACCES, ENOEXEC)
    InvalidArgument,   // malformed request
    Frozen,            // exec: the class is frozen
};
const std::error_category& serviceCategory();
std::error_code make_error_code(ServiceErrc e);

// An Error with a ServiceErrc code whose context is the whole sentence `text`.
Error serviceError(ServiceErrc code, std::string text);
// The ServiceErrc value of `error`, or 0 when it is not a service error.
int serviceCode(const Error& error);
// The one line to show a client: `text` for a service error, message() otherwise.
std::string serviceMessage(const Error& error);

// "uid 1000 (alice)" or "uid 1234" when the uid has no passwd entry.
std::string describeCaller(const Caller& caller);

// A process's real ids, from /proc/<pid>/status; nullopt when it is gone.
struct ProcIds {
    uid_t uid = 0;  // real
    gid_t gid = 0;  // real
    std::vector<gid_t> groups;
};
std::optional<ProcIds> readProcIds(pid_t pid);

// True when `who` names the caller: root always; a listed user name equal to the
// name of caller.uid; a listed group name equal to the name of caller.gid or of a
// supplementary group.
bool isAllowed(const policies::Principals& who, const Caller& caller);

// exec into `className` (which must exist in `policy`: UnknownClass otherwise).
Result<void> authorizeExec(const policies::Policy& policy, const std::string& className,
                           const Caller& caller);
// freeze/thaw/kill (`action`) on a group of `className`; `object` is how the target
// is named in the refusal ("class core", "group core.slice/x.scope").
Result<void> authorizeControl(const policies::Policy& policy, const std::string& className,
                              const std::string& action, const std::string& object,
                              const Caller& caller);
// Daemon-wide actions (reload): root and the policy's admins.
Result<void> authorizeAdmin(const policies::Policy& policy, const std::string& action,
                            const Caller& caller);

}  // namespace gov::core

namespace std {
template <>
struct is_error_code_enum<gov::core::ServiceErrc> : true_type {};
}  // namespace std
