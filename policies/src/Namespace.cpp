#include <array>
#include <utility>

#include "gov/policies/Policy.hpp"

namespace gov::policies {
namespace {

// The one name <-> namespace table; the runtime maps Namespace to CLONE_NEW*.
constexpr std::array<std::pair<Namespace, const char*>, 7> kNamespaces{{
    {Namespace::Pid, "pid"},
    {Namespace::Mount, "mount"},
    {Namespace::Uts, "uts"},
    {Namespace::Ipc, "ipc"},
    {Namespace::Net, "net"},
    {Namespace::Cgroup, "cgroup"},
    {Namespace::User, "user"},
}};

}  // namespace

const char* namespaceName(Namespace ns) {
    for (const auto& [value, name] : kNamespaces) {
        if (value == ns) {
            return name;
        }
    }
    return "unknown";
}

std::optional<Namespace> namespaceFromName(const std::string& name) {
    for (const auto& [value, n] : kNamespaces) {
        if (name == n) {
            return value;
        }
    }
    return std::nullopt;
}

const std::vector<Namespace>& allNamespaces() {
    static const std::vector<Namespace> all = [] {
        std::vector<Namespace> v;
        for (const auto& entry : kNamespaces) {
            v.push_back(entry.first);
        }
        return v;
    }();
    return all;
}

}  // namespace gov::policies
