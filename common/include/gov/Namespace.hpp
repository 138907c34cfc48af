// The kernel namespaces an exec'd workload can get, and their policy names: one
// table shared by the policy compiler (names) and the runtime (which maps each to
// its CLONE_NEW* flag in gov/runtime/Namespaces.hpp).
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace gov {

enum class Namespace { Pid, Mount, Uts, Ipc, Net, Cgroup, User };

namespace detail {
// The one name <-> namespace table, in the order policies list them.
inline constexpr std::array<std::pair<Namespace, const char*>, 7> kNamespaceNames{{
    {Namespace::Pid, "pid"},
    {Namespace::Mount, "mount"},
    {Namespace::Uts, "uts"},
    {Namespace::Ipc, "ipc"},
    {Namespace::Net, "net"},
    {Namespace::Cgroup, "cgroup"},
    {Namespace::User, "user"},
}};
}  // namespace detail

// "pid", "mount", "uts", "ipc", "net", "cgroup", "user"; "unknown" for a value
// outside the enum.
inline const char* namespaceName(Namespace ns) {
    for (const auto& [value, name] : detail::kNamespaceNames) {
        if (value == ns) {
            return name;
        }
    }
    return "unknown";
}

inline std::optional<Namespace> namespaceFromName(std::string_view name) {
    for (const auto& [value, n] : detail::kNamespaceNames) {
        if (name == n) {
            return value;
        }
    }
    return std::nullopt;
}

// Every namespace, in table order.
inline const std::vector<Namespace>& allNamespaces() {
    static const std::vector<Namespace> all = [] {
        std::vector<Namespace> v;
        for (const auto& entry : detail::kNamespaceNames) {
            v.push_back(entry.first);
        }
        return v;
    }();
    return all;
}

}  // namespace gov
