// Reporting problems while compiling one policy file: how keys and values are
// quoted in messages, and the sink every walker and value parser reports to.
// Internal to gov_policies; toml++ types appear only in this folder.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "gov/policies/Compile.hpp"

namespace gov::policies::detail {

// A key as TOML would write it: bare when it can be, else quoted with escapes, so
// a key path in a message is unambiguous and never carries raw control bytes.
std::string quoteKey(std::string_view key);
// "path.key" with the key quoted as needed; just the key when `path` is empty.
std::string join(const std::string& path, std::string_view key);
// A value quoted for a message: at most 64 bytes, control bytes escaped.
std::string quoteValue(std::string_view v);
// "a string", "an integer", ... for "expected X, got Y" messages.
std::string typeName(const toml::node& n);
bool hasControlChars(std::string_view s);

// Collects the diagnostics of one file, in the order they are found (compile()
// sorts them by position).
class DiagnosticSink {
  public:
    DiagnosticSink(std::string file, std::vector<Diagnostic>& out)
        : file_(std::move(file)), out_(out) {}

    const std::string& file() const { return file_; }
    size_t count() const { return out_.size(); }
    SourceLocation at(const toml::source_region& r) const {
        return SourceLocation{file_, r.begin.line, r.begin.column};
    }

    void error(const toml::source_region& r, std::string keyPath, std::string message,
               std::string suggestion = {});

    // An unknown key, with a did-you-mean from `candidates` (full keys within the
    // suggestion scope: the class, or [governor]). `absPrefix` is the key path of
    // the table holding the key, `relPrefix` the same path within the scope; for a
    // table value, its leaves are tried too, so that `memroy = { max = 1 }` can be
    // matched against "memory.max".
    void unknownKey(const toml::key& key, const toml::node& value, const std::string& absPrefix,
                    const std::string& relPrefix, const std::vector<std::string>& candidates);

    // `v` as a table, or nullptr after an error "expected a table (`what`), got ...".
    const toml::table* expectTable(const toml::node& v, const std::string& path,
                                   const std::string& what);

  private:
    std::string file_;
    std::vector<Diagnostic>& out_;
};

}  // namespace gov::policies::detail
