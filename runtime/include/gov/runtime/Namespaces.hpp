// The one table mapping policy namespaces to CLONE_NEW* flags.
#pragma once

#include <cstdint>
#include <vector>

#include "gov/Namespace.hpp"

namespace gov::runtime {

struct NamespaceFlag {
    Namespace ns;
    const char* name;    // as in /proc/<pid>/ns/<name>: "pid", "mnt", "uts", ...
    uint64_t cloneFlag;  // CLONE_NEWPID, ...
};

// Every namespace Governor knows, in the order they are listed in policies.
const std::vector<NamespaceFlag>& namespaceFlags();
// The CLONE_NEW* flag of `ns`.
uint64_t cloneFlagOf(Namespace ns);
// OR of the flags of `namespaces`.
uint64_t cloneFlagsOf(const std::vector<Namespace>& namespaces);

}  // namespace gov::runtime
