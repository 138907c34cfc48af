// Walking the tables of one policy file: [governor], [classes.NAME], the resource
// keys of a class and of its workload table (dispatched through the knob table),
// io.device, exec, control, namespaces. Values are parsed by ValueParser; every
// problem is reported to the file's DiagnosticSink and the walk goes on, so one run
// reports every error. Internal to gov_policies.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <vector>

#include "Diagnostics.hpp"
#include "gov/policies/Policy.hpp"

namespace gov::policies::detail {

// A [governor] name list and where it was set (merging names both places).
struct Located {
    std::vector<std::string> names;
    SourceLocation where;
};

// What one file contributes before merging.
struct FileResult {
    std::vector<ClassPolicy> classes;  // only the classes without any diagnostic
    size_t classTablesSeen = 0;        // valid or not: "no classes defined" counts these
    std::optional<Located> adminUsers;
    std::optional<Located> adminGroups;
};

FileResult walkFile(const toml::table& root, DiagnosticSink& sink);

}  // namespace gov::policies::detail
