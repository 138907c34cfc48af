#include "gov/runtime/Namespaces.hpp"

#include <sched.h>

namespace gov::runtime {

const std::vector<NamespaceFlag>& namespaceFlags() {
    static const std::vector<NamespaceFlag> kTable = {
        {Namespace::Pid, "pid", CLONE_NEWPID},    {Namespace::Mount, "mnt", CLONE_NEWNS},
        {Namespace::Uts, "uts", CLONE_NEWUTS},    {Namespace::Ipc, "ipc", CLONE_NEWIPC},
        {Namespace::Net, "net", CLONE_NEWNET},    {Namespace::Cgroup, "cgroup", CLONE_NEWCGROUP},
        {Namespace::User, "user", CLONE_NEWUSER},
    };
    return kTable;
}

uint64_t cloneFlagOf(Namespace ns) {
    for (const auto& entry : namespaceFlags()) {
        if (entry.ns == ns) {
            return entry.cloneFlag;
        }
    }
    return 0;
}

uint64_t cloneFlagsOf(const std::vector<Namespace>& namespaces) {
    uint64_t flags = 0;
    for (auto ns : namespaces) {
        flags |= cloneFlagOf(ns);
    }
    return flags;
}

}  // namespace gov::runtime
