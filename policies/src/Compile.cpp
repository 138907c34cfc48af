// The policy compiler. toml++ parses each file (its exceptions are caught here, at
// the library's edge); a walk over the TOML tree then builds the Policy and
// records a Diagnostic for every problem instead of stopping at the first one, so
// an operator fixes a policy in one round.
#include "gov/policies/Compile.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <utility>

#include "Suggest.hpp"
#include "gov/policies/Units.hpp"

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

namespace {

// pids.max above PID_MAX_LIMIT (4194304) is refused by the kernel.
constexpr int64_t kMaxPids = 4194304;
// cpu.max: the kernel refuses quotas below 1ms or above 2^44-1 us, periods
// outside 1ms..1s.
constexpr uint64_t kMinQuotaUsec = 1000;
constexpr uint64_t kMaxQuotaUsec = (1ULL << 44) - 1;
constexpr uint64_t kMinPeriodUsec = 1000;
constexpr uint64_t kMaxPeriodUsec = 1000000;
constexpr uint64_t kDefaultPeriodUsec = 100000;
// NR_CPUS and MAX_NUMNODES at their largest kernel configuration.
constexpr uint32_t kCpuIdLimit = 8192;
constexpr uint32_t kMemNodeLimit = 1024;
constexpr size_t kMaxClassNameLength = 64;
constexpr size_t kMaxPrincipalLength = 256;
constexpr size_t kMaxDescriptionLength = 1024;

const std::vector<std::string> kResourceKeys = {
    "memory.max",   "memory.high",  "memory.low",    "memory.min",  "pids.max",
    "cpu.weight",   "cpu.max",      "cpuset.cpus",   "cpuset.mems", "io.read_bps",
    "io.write_bps", "io.read_iops", "io.write_iops", "io.device",
};

const std::vector<std::string>& classKeys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k = kResourceKeys;
        for (const char* extra : {"description", "namespaces", "exec.users", "exec.groups",
                                  "control.users", "control.groups"}) {
            k.emplace_back(extra);
        }
        for (const auto& r : kResourceKeys) {
            k.push_back("workload." + r);
        }
        return k;
    }();
    return keys;
}

const std::vector<std::string> kGovernorKeys = {"admins.users", "admins.groups"};
const std::vector<std::string> kTopKeys = {"governor", "classes"};

bool isBareKeyChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

// A key as TOML would write it: bare when it can be, else quoted with escapes,
// so a key path in a message is unambiguous and never carries raw control bytes.
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

// A value quoted for a message: at most 64 bytes, control bytes escaped.
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

struct Located {
    std::vector<std::string> names;
    SourceLocation where;
};

// What one file contributes before merging.
struct FileResult {
    std::vector<ClassPolicy> classes;
    size_t classTablesSeen = 0;  // valid or not: "no classes defined" counts these
    std::optional<Located> adminUsers;
    std::optional<Located> adminGroups;
};

class FileCompiler {
  public:
    FileCompiler(std::string file, std::vector<Diagnostic>& diagnostics)
        : file_(std::move(file)), diagnostics_(diagnostics) {}

    FileResult run(const toml::table& root) {
        FileResult result;
        for (auto&& [key, value] : root) {
            if (key.str() == "governor") {
                compileGovernor(value, result);
            } else if (key.str() == "classes") {
                compileClasses(value, result);
            } else {
                unknownKey(key, value, "", "", kTopKeys);
            }
        }
        return result;
    }

  private:
    SourceLocation at(const toml::source_region& r) const {
        return SourceLocation{file_, r.begin.line, r.begin.column};
    }

    void error(const toml::source_region& r, std::string keyPath, std::string message,
               std::string suggestion = {}) {
        diagnostics_.push_back(
            Diagnostic{at(r), std::move(keyPath), std::move(message), std::move(suggestion)});
    }

    // Dotted leaf paths under `n` (bounded), so that `memroy = { max = 1 }` can be
    // matched against "memory.max".
    static void leaves(const toml::node& n, const std::string& path, int depth,
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

    // `relPath` is the key's path relative to the suggestion scope (the class, or
    // [governor]); suggestions are full keys in that scope.
    void unknownKey(const toml::key& key, const toml::node& value, const std::string& absPrefix,
                    const std::string& relPrefix, const std::vector<std::string>& candidates) {
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
              detail::closest(queries, candidates));
    }

    const toml::table* expectTable(const toml::node& v, const std::string& path,
                                   const std::string& what) {
        const auto* t = v.as_table();
        if (t == nullptr) {
            error(v.source(), path, "expected a table (" + what + "), got " + typeName(v));
        }
        return t;
    }

    // ---- values -------------------------------------------------------------

    std::optional<MaxOr> sizeValue(const toml::node& v, const std::string& path, bool zeroAllowed) {
        if (const auto* s = v.as_string()) {
            const std::string& text = s->get();
            if (text == "max") {
                return MaxOr::max();
            }
            auto size = parseSize(text);
            if (!size) {
                error(v.source(), path,
                      "invalid size " + quoteValue(text) + ": " + size.error().reason());
                return std::nullopt;
            }
            if (*size == 0 && !zeroAllowed) {
                error(v.source(), path, "must be greater than 0 (use \"max\" for no limit)");
                return std::nullopt;
            }
            return MaxOr::of(*size);
        }
        if (const auto* i = v.as_integer()) {
            int64_t n = i->get();
            if (n < 0) {
                error(v.source(), path, "cannot be negative");
                return std::nullopt;
            }
            if (n == 0 && !zeroAllowed) {
                error(v.source(), path, "must be greater than 0 (use \"max\" for no limit)");
                return std::nullopt;
            }
            return MaxOr::of(static_cast<uint64_t>(n));
        }
        error(v.source(), path,
              "expected a size (a string like \"1GiB\", an integer number of bytes, or "
              "\"max\"), got " +
                  typeName(v));
        return std::nullopt;
    }

    std::optional<MaxOr> rateValue(const toml::node& v, const std::string& path) {
        if (const auto* s = v.as_string()) {
            const std::string& text = s->get();
            if (text == "max") {
                return MaxOr::max();
            }
            auto rate = parseRate(text);
            if (!rate) {
                error(v.source(), path,
                      "invalid rate " + quoteValue(text) + ": " + rate.error().reason());
                return std::nullopt;
            }
            if (*rate == 0) {
                error(v.source(), path, "must be greater than 0 (use \"max\" for no limit)");
                return std::nullopt;
            }
            return MaxOr::of(*rate);
        }
        if (const auto* i = v.as_integer()) {
            if (i->get() <= 0) {
                error(v.source(), path,
                      "must be greater than 0 bytes per second (use \"max\" for no limit)");
                return std::nullopt;
            }
            return MaxOr::of(static_cast<uint64_t>(i->get()));
        }
        error(v.source(), path,
              "expected a rate (a string like \"10MB/s\", an integer number of bytes per "
              "second, or \"max\"), got " +
                  typeName(v));
        return std::nullopt;
    }

    // A positive integer up to `limit`, or "max". `what` names the unit.
    std::optional<MaxOr> countValue(const toml::node& v, const std::string& path, int64_t limit,
                                    const std::string& what) {
        if (const auto* s = v.as_string()) {
            if (s->get() == "max") {
                return MaxOr::max();
            }
            error(v.source(), path,
                  "expected a positive integer or \"max\", got the string " + quoteValue(s->get()));
            return std::nullopt;
        }
        if (const auto* i = v.as_integer()) {
            int64_t n = i->get();
            if (n <= 0) {
                error(v.source(), path,
                      "must be a positive number of " + what + " (use \"max\" for no limit)");
                return std::nullopt;
            }
            if (n > limit) {
                error(v.source(), path,
                      "must be at most " + std::to_string(limit) + " (use \"max\" for no limit)");
                return std::nullopt;
            }
            return MaxOr::of(static_cast<uint64_t>(n));
        }
        if (v.is_floating_point()) {
            error(v.source(), path,
                  "expected a positive integer or \"max\", got a floating-point number (" + what +
                      " cannot be fractional)");
            return std::nullopt;
        }
        error(v.source(), path, "expected a positive integer or \"max\", got " + typeName(v));
        return std::nullopt;
    }

    std::optional<uint32_t> weightValue(const toml::node& v, const std::string& path) {
        const auto* i = v.as_integer();
        if (i == nullptr) {
            error(v.source(), path, "expected an integer from 1 to 10000, got " + typeName(v));
            return std::nullopt;
        }
        if (i->get() < 1 || i->get() > 10000) {
            error(v.source(), path,
                  "must be from 1 to 10000, got " + std::to_string(i->get()) + " (default 100)");
            return std::nullopt;
        }
        return static_cast<uint32_t>(i->get());
    }

    std::optional<uint64_t> durationValue(const toml::node& v, const std::string& path) {
        const auto* s = v.as_string();
        if (s == nullptr) {
            error(v.source(), path,
                  "expected a duration string like \"100ms\", got " + typeName(v));
            return std::nullopt;
        }
        auto d = parseDurationUsec(s->get());
        if (!d) {
            error(v.source(), path,
                  "invalid duration " + quoteValue(s->get()) + ": " + d.error().reason());
            return std::nullopt;
        }
        return *d;
    }

    bool checkQuota(const toml::node& v, const std::string& path, uint64_t quota) {
        if (quota < kMinQuotaUsec || quota > kMaxQuotaUsec) {
            error(v.source(), path,
                  "quota " + formatDurationUsec(quota) + " is out of range (1ms to " +
                      std::to_string(kMaxQuotaUsec) + "us; per 100ms period that is at least 1%)");
            return false;
        }
        return true;
    }

    std::optional<CpuMax> cpuMaxValue(const toml::node& v, const std::string& path) {
        if (const auto* s = v.as_string()) {
            if (s->get() == "max") {
                return CpuMax{};
            }
            auto quota = parseCpuPercentQuotaUsec(s->get());
            if (!quota) {
                error(v.source(), path,
                      "invalid CPU share " + quoteValue(s->get()) + ": " + quota.error().reason());
                return std::nullopt;
            }
            if (!checkQuota(v, path, *quota)) {
                return std::nullopt;
            }
            return CpuMax{*quota, kDefaultPeriodUsec};
        }
        const auto* t = v.as_table();
        if (t == nullptr) {
            error(v.source(), path,
                  "expected \"max\", a percentage of one CPU like \"50%\", or a table "
                  "{ quota = \"20ms\", period = \"100ms\" }, got " +
                      typeName(v));
            return std::nullopt;
        }
        CpuMax result;
        bool ok = true;
        bool haveQuota = false;
        for (auto&& [k, sub] : *t) {
            std::string subPath = join(path, k.str());
            if (k.str() == "quota") {
                haveQuota = true;
                if (const auto* qs = sub.as_string(); qs != nullptr && qs->get() == "max") {
                    result.quotaUsec.reset();
                } else if (auto q = durationValue(sub, subPath)) {
                    ok = checkQuota(sub, subPath, *q) && ok;
                    result.quotaUsec = *q;
                } else {
                    ok = false;
                }
            } else if (k.str() == "period") {
                if (auto p = durationValue(sub, subPath)) {
                    if (*p < kMinPeriodUsec || *p > kMaxPeriodUsec) {
                        error(sub.source(), subPath,
                              "period " + formatDurationUsec(*p) + " is out of range (1ms to 1s)");
                        ok = false;
                    }
                    result.periodUsec = *p;
                } else {
                    ok = false;
                }
            } else {
                unknownKey(k, sub, path, "cpu.max", {"cpu.max.quota", "cpu.max.period"});
                ok = false;
            }
        }
        if (!haveQuota) {
            error(v.source(), path, "a { quota, period } table needs a quota");
            ok = false;
        }
        return ok ? std::optional<CpuMax>(result) : std::nullopt;
    }

    std::optional<std::string> idListValue(const toml::node& v, const std::string& path,
                                           uint32_t limit, const std::string& what) {
        const auto* s = v.as_string();
        if (s == nullptr) {
            error(v.source(), path,
                  "expected a " + what + " list as a string like \"0-3,8\", got " + typeName(v));
            return std::nullopt;
        }
        auto list = normalizeIdList(s->get(), limit);
        if (!list) {
            error(
                v.source(), path,
                "invalid " + what + " list " + quoteValue(s->get()) + ": " + list.error().reason());
            return std::nullopt;
        }
        return *list;
    }

    std::vector<std::string> stringArray(const toml::node& v, const std::string& path,
                                         const std::string& what) {
        std::vector<std::string> out;
        const auto* a = v.as_array();
        if (a == nullptr) {
            error(v.source(), path, "expected an array of " + what + ", got " + typeName(v));
            return out;
        }
        for (size_t i = 0; i < a->size(); ++i) {
            const toml::node& item = *a->get(i);
            std::string itemPath = path + "[" + std::to_string(i) + "]";
            const auto* s = item.as_string();
            if (s == nullptr) {
                error(item.source(), itemPath,
                      "expected " + what + " as strings, got " + typeName(item));
                continue;
            }
            const std::string& name = s->get();
            if (name.empty() || name.size() > kMaxPrincipalLength || hasControlChars(name) ||
                name.find_first_of(" \t:,/") != std::string::npos) {
                error(item.source(), itemPath,
                      "invalid name " + quoteValue(name) +
                          " (not empty, no spaces, ':', ',' or '/')");
                continue;
            }
            if (std::find(out.begin(), out.end(), name) != out.end()) {
                error(item.source(), itemPath, quoteValue(name) + " is listed twice");
                continue;
            }
            out.push_back(name);
        }
        return out;
    }

    // ---- tables -------------------------------------------------------------

    void compilePrincipals(const toml::node& v, const std::string& path,
                           const std::string& relPrefix, Principals& out,
                           const std::vector<std::string>& candidates) {
        const auto* t = expectTable(v, path, relPrefix + ".users, " + relPrefix + ".groups");
        if (t == nullptr) {
            return;
        }
        for (auto&& [k, sub] : *t) {
            if (k.str() == "users") {
                out.users = stringArray(sub, join(path, k.str()), "user names");
            } else if (k.str() == "groups") {
                out.groups = stringArray(sub, join(path, k.str()), "group names");
            } else {
                unknownKey(k, sub, path, relPrefix, candidates);
            }
        }
    }

    void compileGovernor(const toml::node& v, FileResult& result) {
        const auto* t = expectTable(v, "governor", "[governor]");
        if (t == nullptr) {
            return;
        }
        for (auto&& [k, sub] : *t) {
            if (k.str() != "admins") {
                unknownKey(k, sub, "governor", "", kGovernorKeys);
                continue;
            }
            const auto* admins = expectTable(sub, "governor.admins", "admins.users, admins.groups");
            if (admins == nullptr) {
                continue;
            }
            for (auto&& [ak, av] : *admins) {
                std::string path = join("governor.admins", ak.str());
                if (ak.str() == "users") {
                    result.adminUsers =
                        Located{stringArray(av, path, "user names"), at(ak.source())};
                } else if (ak.str() == "groups") {
                    result.adminGroups =
                        Located{stringArray(av, path, "group names"), at(ak.source())};
                } else {
                    unknownKey(ak, av, "governor.admins", "admins", kGovernorKeys);
                }
            }
        }
    }

    void compileClasses(const toml::node& v, FileResult& result) {
        const auto* t = expectTable(v, "classes", "[classes.NAME]");
        if (t == nullptr) {
            return;
        }
        for (auto&& [nameKey, classNode] : *t) {
            ++result.classTablesSeen;
            std::string name(nameKey.str());
            std::string path = join("classes", name);
            bool nameOk =
                !name.empty() && name.size() <= kMaxClassNameLength &&
                ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')) &&
                std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                });
            if (!nameOk) {
                error(nameKey.source(), path,
                      "invalid class name " + quoteValue(name) +
                          ": use lowercase letters, digits, '_' and '-', starting with a letter or "
                          "digit, at most 64 characters");
            }
            const auto* ct = classNode.as_table();
            if (ct == nullptr) {
                error(classNode.source(), path,
                      "a class is a table ([classes." + quoteKey(name) + "]), got " +
                          typeName(classNode));
                continue;
            }
            ClassPolicy cls;
            cls.name = name;
            cls.where = at(ct->source());
            size_t before = diagnostics_.size();
            compileClass(*ct, path, cls);
            if (nameOk && diagnostics_.size() == before) {
                result.classes.push_back(std::move(cls));
            }
        }
    }

    void compileClass(const toml::table& t, const std::string& path, ClassPolicy& cls) {
        for (auto&& [k, v] : t) {
            std::string_view key = k.str();
            std::string keyPath = join(path, key);
            if (key == "description") {
                const auto* s = v.as_string();
                if (s == nullptr) {
                    error(v.source(), keyPath, "expected a string, got " + typeName(v));
                } else if (s->get().size() > kMaxDescriptionLength || hasControlChars(s->get())) {
                    error(v.source(), keyPath,
                          "a description is one line of at most 1024 bytes without control "
                          "characters");
                } else {
                    cls.description = s->get();
                }
            } else if (key == "namespaces") {
                compileNamespaces(v, keyPath, cls.namespaces);
            } else if (key == "exec") {
                compilePrincipals(v, keyPath, "exec", cls.execAllowed, classKeys());
            } else if (key == "control") {
                compilePrincipals(v, keyPath, "control", cls.controlAllowed, classKeys());
            } else if (key == "workload") {
                const auto* wt =
                    expectTable(v, keyPath, "workload.memory.max, workload.pids.max, ...");
                if (wt == nullptr) {
                    continue;
                }
                for (auto&& [wk, wv] : *wt) {
                    if (!resourceKey(wk, wv, keyPath, "workload", cls.workloadLimits)) {
                        unknownKey(wk, wv, keyPath, "workload", classKeys());
                    }
                }
            } else if (!resourceKey(k, v, path, "", cls.limits)) {
                unknownKey(k, v, path, "", classKeys());
            }
        }
        finishIo(cls.limits);
        finishIo(cls.workloadLimits);
    }

    void compileNamespaces(const toml::node& v, const std::string& path,
                           std::vector<Namespace>& out) {
        const auto* a = v.as_array();
        if (a == nullptr) {
            error(v.source(), path, "expected an array of namespace names, got " + typeName(v));
            return;
        }
        std::vector<std::string> names;
        for (Namespace ns : allNamespaces()) {
            names.emplace_back(namespaceName(ns));
        }
        for (size_t i = 0; i < a->size(); ++i) {
            const toml::node& item = *a->get(i);
            std::string itemPath = path + "[" + std::to_string(i) + "]";
            const auto* s = item.as_string();
            if (s == nullptr) {
                error(item.source(), itemPath, "expected a namespace name, got " + typeName(item));
                continue;
            }
            auto ns = namespaceFromName(s->get());
            if (!ns) {
                error(item.source(), itemPath,
                      "unknown namespace " + quoteValue(s->get()) +
                          " (pid, mount, uts, ipc, net, cgroup, user)",
                      detail::closest({s->get()}, names));
                continue;
            }
            if (std::find(out.begin(), out.end(), *ns) != out.end()) {
                error(item.source(), itemPath, quoteValue(s->get()) + " is listed twice");
                continue;
            }
            out.push_back(*ns);
        }
        std::sort(out.begin(), out.end());
    }

    // Handles the resource groups (memory, pids, cpu, cpuset, io) of a class or of
    // its workload table; false when `k` is none of them.
    bool resourceKey(const toml::key& k, const toml::node& v, const std::string& absPrefix,
                     const std::string& relPrefix, Resources& r) {
        std::string_view group = k.str();
        std::string path = join(absPrefix, group);
        std::string rel =
            relPrefix.empty() ? std::string(group) : relPrefix + "." + std::string(group);
        auto each = [&](const std::string& keysHint, auto&& handle) {
            const auto* t = expectTable(v, path, keysHint);
            if (t == nullptr) {
                return;
            }
            for (auto&& [sk, sv] : *t) {
                if (!handle(sk.str(), sv, join(path, sk.str()))) {
                    unknownKey(sk, sv, path, rel, classKeys());
                }
            }
        };
        if (group == "memory") {
            each(rel + ".max, .high, .low, .min",
                 [&](std::string_view key, const toml::node& sv, const std::string& p) {
                     if (key == "max") {
                         r.memoryMax = sizeValue(sv, p, false);
                     } else if (key == "high") {
                         r.memoryHigh = sizeValue(sv, p, false);
                     } else if (key == "low") {
                         r.memoryLow = sizeValue(sv, p, true);
                     } else if (key == "min") {
                         r.memoryMin = sizeValue(sv, p, true);
                     } else {
                         return false;
                     }
                     return true;
                 });
        } else if (group == "pids") {
            each(rel + ".max",
                 [&](std::string_view key, const toml::node& sv, const std::string& p) {
                     if (key != "max") {
                         return false;
                     }
                     r.pidsMax = countValue(sv, p, kMaxPids, "tasks");
                     return true;
                 });
        } else if (group == "cpu") {
            each(rel + ".weight, .max",
                 [&](std::string_view key, const toml::node& sv, const std::string& p) {
                     if (key == "weight") {
                         r.cpuWeight = weightValue(sv, p);
                     } else if (key == "max") {
                         r.cpuMax = cpuMaxValue(sv, p);
                     } else {
                         return false;
                     }
                     return true;
                 });
        } else if (group == "cpuset") {
            each(rel + ".cpus, .mems",
                 [&](std::string_view key, const toml::node& sv, const std::string& p) {
                     if (key == "cpus") {
                         r.cpusetCpus = idListValue(sv, p, kCpuIdLimit, "CPU");
                     } else if (key == "mems") {
                         r.cpusetMems = idListValue(sv, p, kMemNodeLimit, "memory node");
                     } else {
                         return false;
                     }
                     return true;
                 });
        } else if (group == "io") {
            IoLimit all;
            all.where = at(v.source());
            each(rel + ".read_bps, .write_bps, .read_iops, .write_iops, .device",
                 [&](std::string_view key, const toml::node& sv, const std::string& p) {
                     if (key == "device") {
                         compileDevices(sv, p, rel + ".device", r);
                         return true;
                     }
                     return ioKey(key, sv, p, all);
                 });
            if (!all.empty()) {
                r.io.insert(r.io.begin(), std::move(all));
            }
        } else {
            return false;
        }
        return true;
    }

    bool ioKey(std::string_view key, const toml::node& v, const std::string& path, IoLimit& io) {
        if (key == "read_bps") {
            io.readBps = rateValue(v, path);
        } else if (key == "write_bps") {
            io.writeBps = rateValue(v, path);
        } else if (key == "read_iops") {
            io.readIops = countValue(v, path, static_cast<int64_t>(kMaxValue), "operations");
        } else if (key == "write_iops") {
            io.writeIops = countValue(v, path, static_cast<int64_t>(kMaxValue), "operations");
        } else {
            return false;
        }
        return true;
    }

    // "/dev/..." or "MAJ:MIN" (normalized to decimal without leading zeros).
    std::optional<std::string> deviceName(std::string_view name) {
        constexpr std::string_view kDev = "/dev/";
        if (name.substr(0, kDev.size()) == kDev) {
            bool ok = name.size() > kDev.size() && name.size() <= 4096 && !hasControlChars(name) &&
                      name.find(' ') == std::string_view::npos &&
                      name.find("/../") == std::string_view::npos && name.back() != '/' &&
                      !(name.size() >= 3 && name.substr(name.size() - 3) == "/..");
            return ok ? std::optional<std::string>(name) : std::nullopt;
        }
        auto colon = name.find(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        auto num = [](std::string_view s) -> std::optional<uint32_t> {
            uint32_t v = 0;
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
                return std::nullopt;
            }
            return v;
        };
        auto maj = num(name.substr(0, colon));
        auto min = num(name.substr(colon + 1));
        if (!maj || !min) {
            return std::nullopt;
        }
        return std::to_string(*maj) + ":" + std::to_string(*min);
    }

    void compileDevices(const toml::node& v, const std::string& path, const std::string& rel,
                        Resources& r) {
        const auto* t = expectTable(v, path, rel + ".\"/dev/NAME\".write_bps, ...");
        if (t == nullptr) {
            return;
        }
        std::map<std::string, std::string> seen;  // normalized -> as written
        for (auto&& [dk, dv] : *t) {
            std::string devPath = join(path, dk.str());
            auto device = deviceName(dk.str());
            if (!device) {
                error(dk.source(), devPath,
                      "invalid device " + quoteValue(dk.str()) +
                          ": use a /dev path (\"/dev/nvme0n1\") or \"MAJ:MIN\" (\"259:0\")");
                continue;
            }
            if (auto [it, inserted] = seen.emplace(*device, std::string(dk.str())); !inserted) {
                error(dk.source(), devPath,
                      "device " + quoteValue(*device) + " is also given as " +
                          quoteValue(it->second));
                continue;
            }
            const auto* dt = expectTable(dv, devPath, "read_bps, write_bps, read_iops, write_iops");
            if (dt == nullptr) {
                continue;
            }
            IoLimit io;
            io.device = *device;
            io.where = at(dk.source());
            std::string devRel = rel + "." + quoteKey(dk.str());
            std::vector<std::string> candidates;
            for (const char* key : {"read_bps", "write_bps", "read_iops", "write_iops"}) {
                candidates.push_back(devRel + "." + key);
            }
            for (auto&& [ik, iv] : *dt) {
                if (!ioKey(ik.str(), iv, join(devPath, ik.str()), io)) {
                    unknownKey(ik, iv, devPath, devRel, candidates);
                }
            }
            if (io.empty() && dt->empty()) {
                error(dk.source(), devPath, "no limits for this device");
                continue;
            }
            if (!io.empty()) {
                r.io.push_back(std::move(io));
            }
        }
    }

    // All-devices entry first, then devices in name order (the documented order).
    static void finishIo(Resources& r) {
        std::stable_sort(r.io.begin(), r.io.end(), [](const IoLimit& a, const IoLimit& b) {
            if (a.allDevices() != b.allDevices()) {
                return a.allDevices();
            }
            return a.device < b.device;
        });
    }

    std::string file_;
    std::vector<Diagnostic>& diagnostics_;
};

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
    std::vector<FileResult> results(sources.size());
    for (size_t i = 0; i < sources.size(); ++i) {
        const PolicySource& src = sources[i];
        try {
            toml::table root = toml::parse(src.text, src.name);
            results[i] = FileCompiler(src.name, perFile[i]).run(root);
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
