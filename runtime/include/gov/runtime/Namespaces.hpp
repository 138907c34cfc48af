// The one table mapping policy namespaces to CLONE_NEW* flags.
#pragma once

#include <cstdint>
#include <vector>

#include "gov/policies/Policy.hpp"

namespace gov::runtime {

struct NamespaceFlag {
    policies::Namespace ns;
    const char* name;    // as in /proc/<pid>/ns/<name>: "pid", "mnt", "uts", ...
    uint64_t cloneFlag;  // CLONE_NEWPID, ...
};

// Every namespace Governor knows, in the order they are listed in policies.
const std::vector<NamespaceFlag>& namespaceFlags();
// The CLONE_NEW* flag of `ns`.
uint64_t cloneFlagOf(policies::Namespace ns);
// OR of the flags of `namespaces`.
uint64_t cloneFlagsOf(const std::vector<policies::Namespace>& namespaces);

}  // namespace gov::runtime
