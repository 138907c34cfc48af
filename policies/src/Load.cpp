#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gov/policies/Compile.hpp"

namespace gov::policies {
namespace {

namespace fs = std::filesystem;

// Reads a whole file; on failure returns the reason (errno text).
std::optional<std::string> readFile(const std::string& path, std::string& reason) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        reason = "is a directory";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        reason = std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        reason = "read error";
        return std::nullopt;
    }
    return text.str();
}

}  // namespace

CompileResult loadPolicyFiles(const std::vector<std::string>& files, const std::string& dir) {
    std::vector<std::string> paths = files;
    std::vector<Diagnostic> ioErrors;
    if (!dir.empty()) {
        std::error_code ec;
        std::vector<std::string> fragments;
        fs::directory_iterator it(dir, ec);
        if (ec && ec != std::errc::no_such_file_or_directory) {
            ioErrors.push_back(Diagnostic{SourceLocation{dir, 0, 0}, "",
                                          "cannot list the directory: " + ec.message(), ""});
        }
        for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
            const fs::path& p = it->path();
            if (p.extension() == ".toml" && !it->is_directory(ec)) {
                fragments.push_back(p.string());
            }
        }
        std::sort(fragments.begin(), fragments.end());
        paths.insert(paths.end(), fragments.begin(), fragments.end());
    }
    if (paths.empty() && ioErrors.empty()) {
        CompileResult r;
        r.policy = defaultPolicy();
        return r;
    }
    std::vector<PolicySource> sources;
    for (const auto& path : paths) {
        std::string reason;
        auto text = readFile(path, reason);
        if (!text) {
            ioErrors.push_back(
                Diagnostic{SourceLocation{path, 0, 0}, "", "cannot read the file: " + reason, ""});
            continue;
        }
        sources.push_back(PolicySource{path, std::move(*text)});
    }
    CompileResult r = compile(sources);
    r.sources = std::move(sources);
    if (!ioErrors.empty()) {
        // An unreadable file may hold the classes; "no classes defined" would then
        // be noise.
        r.policy.reset();
        std::erase_if(r.diagnostics, [](const Diagnostic& d) {
            return d.where.line == 0 && d.message.rfind("no classes defined", 0) == 0;
        });
        r.diagnostics.insert(r.diagnostics.begin(), ioErrors.begin(), ioErrors.end());
    }
    return r;
}

}  // namespace gov::policies
