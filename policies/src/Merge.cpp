// compile(): each file is parsed by toml++ (its exceptions are caught here, at the
// library's edge) and walked on its own (TableWalker), then the files are merged by
// the documented rule. Every diagnostic of every file is kept, so an operator fixes
// a policy in one round.
#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <utility>

#include "Diagnostics.hpp"
#include "TableWalker.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

using detail::Located;

std::string where(const SourceLocation& l) {
    return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.column);
}

void sortByPosition(std::vector<Diagnostic>& d) {
    std::stable_sort(d.begin(), d.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
}

}  // namespace

CompileResult compile(const std::vector<PolicySource>& sources) {
    CompileResult out;
    std::vector<std::vector<Diagnostic>> perFile(sources.size());
    std::vector<detail::FileResult> results(sources.size());
    for (size_t i = 0; i < sources.size(); ++i) {
        const PolicySource& src = sources[i];
        try {
            toml::table root = toml::parse(src.text, src.name);
            detail::DiagnosticSink sink(src.name, perFile[i]);
            results[i] = detail::walkFile(root, sink);
        } catch (const toml::parse_error& e) {
            // toml++ stops at the first syntax error of a file; the other files are
            // still compiled so that all their errors are reported too.
            perFile[i].push_back(
                Diagnostic{SourceLocation{src.name, e.source().begin.line, e.source().begin.column},
                           "", std::string(e.description()), ""});
        }
    }

    // Merge: a class in exactly one file; each [governor] key in one file only.
    Policy policy;
    std::map<std::string, SourceLocation> classWhere;
    std::optional<Located> adminUsers;
    std::optional<Located> adminGroups;
    size_t classTables = 0;
    auto mergeAdmins = [&](std::optional<Located>& into, const std::optional<Located>& from,
                           const char* key, std::vector<Diagnostic>& diags) {
        if (!from) {
            return;
        }
        if (into) {
            diags.push_back(Diagnostic{from->where, key,
                                       "already set at " + where(into->where) +
                                           " (each [governor] key may be set in one file only)",
                                       ""});
            return;
        }
        into = from;
    };
    for (size_t i = 0; i < sources.size(); ++i) {
        policy.sources.push_back(sources[i].name);
        classTables += results[i].classTablesSeen;
        for (auto& cls : results[i].classes) {
            auto [it, inserted] = classWhere.emplace(cls.name, cls.where);
            if (!inserted) {
                perFile[i].push_back(Diagnostic{cls.where, "classes." + cls.name,
                                                "class '" + cls.name + "' is already defined at " +
                                                    where(it->second) +
                                                    " (a class may be defined in one file only)",
                                                ""});
                continue;
            }
            policy.classes.push_back(std::move(cls));
        }
        mergeAdmins(adminUsers, results[i].adminUsers, "governor.admins.users", perFile[i]);
        mergeAdmins(adminGroups, results[i].adminGroups, "governor.admins.groups", perFile[i]);
    }
    for (auto& d : perFile) {
        sortByPosition(d);
        out.diagnostics.insert(out.diagnostics.end(), d.begin(), d.end());
    }
    // Only when nothing else is wrong: a file that failed to parse, or a
    // malformed [classes] table, already explains why no class was found.
    if (classTables == 0 && out.diagnostics.empty()) {
        out.diagnostics.push_back(Diagnostic{
            SourceLocation{sources.empty() ? std::string("<policy>") : sources.front().name, 0, 0},
            "", "no classes defined (a policy needs at least one [classes.NAME] table)", ""});
    }
    if (!out.diagnostics.empty()) {
        return out;
    }
    if (adminUsers) {
        policy.admins.users = adminUsers->names;
    }
    if (adminGroups) {
        policy.admins.groups = adminGroups->names;
    }
    std::sort(policy.classes.begin(), policy.classes.end(),
              [](const ClassPolicy& a, const ClassPolicy& b) { return a.name < b.name; });
    out.policy = std::move(policy);
    return out;
}

CompileResult compileText(std::string_view text, std::string name) {
    return compile({PolicySource{std::move(name), std::string(text)}});
}

}  // namespace gov::policies
