#include "Diagnostics.hpp"

#include <algorithm>

#include "Suggest.hpp"

namespace gov::policies {

std::string Diagnostic::format() const {
    std::string out = where.file.empty() ? std::string("<policy>") : where.file;
    if (where.line != 0) {
        out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
    }
    out += ": error: ";
    if (!keyPath.empty()) {
        out += keyPath + ": ";
    }
    out += message;
    if (!suggestion.empty()) {
        out += " (did you mean '" + suggestion + "'?)";
    }
    return out;
}

namespace detail {
namespace {

bool isBareKeyChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

// Dotted leaf paths under `n` (bounded).
void leaves(const toml::node& n, const std::string& path, int depth,
            std::vector<std::string>& out) {
    const auto* t = n.as_table();
    if (t == nullptr || depth > 4) {
        out.push_back(path);
        return;
    }
    for (auto&& [k, v] : *t) {
        if (out.size() >= 32) {
            return;
        }
        leaves(v, path + "." + std::string(k.str()), depth + 1, out);
    }
}

}  // namespace

std::string quoteKey(std::string_view key) {
    bool bare = !key.empty() && std::all_of(key.begin(), key.end(), isBareKeyChar);
    if (bare) {
        return std::string(key);
    }
    std::string out = "\"";
    for (char c : key) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            static const char* kHex = "0123456789ABCDEF";
            out += "\\u00";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? quoteKey(key) : path + "." + quoteKey(key);
}

std::string quoteValue(std::string_view v) {
    constexpr size_t kMax = 64;
    std::string q = quoteKey(v.substr(0, kMax));
    if (q.front() != '"') {
        q = "\"" + q + "\"";
    }
    if (v.size() > kMax) {
        q.insert(q.size() - 1, "...");
    }
    return q;
}

std::string typeName(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::table:
            return "a table";
        default:
            return "a date/time";
    }
}

bool hasControlChars(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

void DiagnosticSink::error(const toml::source_region& r, std::string keyPath, std::string message,
                           std::string suggestion) {
    out_.push_back(
        Diagnostic{at(r), std::move(keyPath), std::move(message), std::move(suggestion)});
}

void DiagnosticSink::unknownKey(const toml::key& key, const toml::node& value,
                                const std::string& absPrefix, const std::string& relPrefix,
                                const std::vector<std::string>& candidates) {
    std::string rel =
        relPrefix.empty() ? std::string(key.str()) : relPrefix + "." + std::string(key.str());
    std::vector<std::string> queries{rel};
    if (value.is_table()) {
        leaves(value, rel, 0, queries);
    }
    std::string shown = quoteKey(key.str());
    if (shown.front() != '"') {
        shown = "'" + shown + "'";
    }
    error(key.source(), join(absPrefix, key.str()), "unknown key " + shown,
          closest(queries, candidates));
}

const toml::table* DiagnosticSink::expectTable(const toml::node& v, const std::string& path,
                                               const std::string& what) {
    const auto* t = v.as_table();
    if (t == nullptr) {
        error(v.source(), path, "expected a table (" + what + "), got " + typeName(v));
    }
    return t;
}

}  // namespace detail
}  // namespace gov::policies
