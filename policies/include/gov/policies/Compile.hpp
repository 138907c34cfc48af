// The policy compiler: TOML text -> Policy, with every diagnostic of every file.
// Pure: no kernel access, no logging; loadPolicyFiles() reads the named files and
// nothing else.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gov/policies/Policy.hpp"

namespace gov::policies {

struct Diagnostic {
    SourceLocation where;    // file, line, column (line/column 0 when not known)
    std::string keyPath;     // "classes.adhoc.memory.mx"; empty for file-level errors
    std::string message;     // "unknown key 'mx'"
    std::string suggestion;  // "memory.max" (a did-you-mean), or empty

    // "policy.toml:4:1: error: classes.adhoc.memory.mx: unknown key 'mx' (did you
    // mean 'memory.max'?)"
    std::string format() const;
    bool operator==(const Diagnostic&) const = default;
};

// One policy file's text, named for diagnostics.
struct PolicySource {
    std::string name;
    std::string text;
    bool operator==(const PolicySource&) const = default;
};

struct CompileResult {
    std::optional<Policy> policy;         // set only when there are no diagnostics
    std::vector<Diagnostic> diagnostics;  // all of them, in file then line order
    // loadPolicyFiles(): the texts it read and compiled, in merge order (empty for
    // the built-in default), so that a caller can keep exactly what it applied.
    std::vector<PolicySource> sources;
    bool ok() const { return policy.has_value() && diagnostics.empty(); }
};

// Compile one or more files; they merge by the documented rule (docs/policy.md):
// classes are the unit of merging, each class may be defined in exactly one file,
// the [governor] table's keys may each be set in one file only.
CompileResult compile(const std::vector<PolicySource>& sources);
CompileResult compileText(std::string_view text, std::string name = "<policy>");

// Read `files` in order, then every *.toml in `dir` (if not empty) in name order,
// and compile them. A missing or unreadable file is a diagnostic. With no files at
// all (none given and the directory missing or empty) the result is the built-in
// default policy.
CompileResult loadPolicyFiles(const std::vector<std::string>& files, const std::string& dir);

// The built-in default policy: core unlimited; noncore memory.max 1 GiB and io
// write 1 MB/s on all block devices; adhoc memory.max 2 GiB and pids.max 1000.
std::string_view defaultPolicyText();
const Policy& defaultPolicy();

}  // namespace gov::policies
