#include "gov/runtime/CheckpointManifest.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "gov/runtime/CgroupFs.hpp"

namespace gov::runtime {
namespace {

Error bad(const std::string& key, const std::string& why) {
    return Error::withReason("manifest: " + key, why);
}

// Every key of the top level and of a lost_stdio entry, in the order they are
// written; anything else is refused.
const std::vector<std::string> kTopKeys = {
    "format",    "created",      "governor_version", "criu_version", "class",
    "group",     "owner_uid",    "owner_gids",       "command",      "root_pid",
    "processes", "memory_bytes", "image_bytes",      "limits",       "lost_stdio"};
const std::vector<std::string> kLostKeys = {"pid", "fd", "resource"};

Result<void> onlyKnownKeys(const toml::table& t, const std::vector<std::string>& known,
                           const std::string& where) {
    for (auto&& [k, v] : t) {
        (void)v;
        std::string key(k.str());
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            return bad(where + key, "unknown key");
        }
    }
    return success();
}

Result<std::string> needString(const toml::table& t, const std::string& key,
                               const std::string& where = "") {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return bad(where + key, "missing");
    }
    auto s = n->value<std::string>();
    if (!n->is_string() || !s) {
        return bad(where + key, "not a string");
    }
    if (s->empty()) {
        return bad(where + key, "empty");
    }
    return *s;
}

// An integer in [lo, hi].
Result<int64_t> needInt(const toml::table& t, const std::string& key, int64_t lo, int64_t hi,
                        const std::string& where = "") {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return bad(where + key, "missing");
    }
    if (!n->is_integer()) {
        return bad(where + key, "not an integer");
    }
    int64_t v = *n->value<int64_t>();
    if (v < lo || v > hi) {
        return bad(where + key, std::to_string(v) + " is out of range [" + std::to_string(lo) +
                                    ", " + std::to_string(hi) + "]");
    }
    return v;
}

bool validClassName(const std::string& s) {
    if (s.empty() || s[0] == '.') {
        return false;
    }
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// CRIU's resource names this manifest can hold: "pipe:[N]", "socket:[N]",
// "tty[HEX:HEX]".
bool validResource(const std::string& r) {
    auto digitsBetween = [&](size_t from, size_t to, bool hexDigits) {
        if (to <= from) {
            return false;
        }
        for (size_t i = from; i < to; ++i) {
            char c = r[i];
            bool ok = (c >= '0' && c <= '9') || (hexDigits && c >= 'a' && c <= 'f');
            if (!ok) {
                return false;
            }
        }
        return true;
    };
    for (const char* prefix : {"pipe:[", "socket:["}) {
        std::string p(prefix);
        if (r.rfind(p, 0) == 0) {
            return r.back() == ']' && digitsBetween(p.size(), r.size() - 1, false);
        }
    }
    if (r.rfind("tty[", 0) == 0 && r.back() == ']') {
        size_t colon = r.find(':');
        return colon != std::string::npos && digitsBetween(4, colon, true) &&
               digitsBetween(colon + 1, r.size() - 1, true);
    }
    return false;
}

// Control-file names as the policy writes them: "memory.max", "io.max".
bool validLimitFile(const std::string& s) {
    size_t dot = s.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == s.size()) {
        return false;
    }
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

Result<CheckpointManifest> fromTable(const toml::table& t) {
    GOV_TRY(onlyKnownKeys(t, kTopKeys, ""));
    CheckpointManifest m;
    auto format = needInt(t, "format", 1, std::numeric_limits<int32_t>::max());
    if (!format) {
        return std::move(format).error();
    }
    if (*format != CheckpointManifest::kFormat) {
        return bad("format", std::to_string(*format) + " is not a format this Governor reads (" +
                                 std::to_string(CheckpointManifest::kFormat) + ")");
    }
    struct StringKey {
        const char* key;
        std::string* out;
    };
    for (auto [key, out] :
         {StringKey{"created", &m.created}, StringKey{"governor_version", &m.governorVersion},
          StringKey{"criu_version", &m.criuVersion}, StringKey{"class", &m.className},
          StringKey{"group", &m.group}}) {
        auto s = needString(t, key);
        if (!s) {
            return std::move(s).error();
        }
        *out = std::move(*s);
    }
    if (!validClassName(m.className)) {
        return bad("class", "'" + m.className + "' is not a class name");
    }
    if (m.group.empty() || !isValidGroupPath(m.group)) {
        return bad("group", "'" + m.group + "' is not a group path below Governor's root");
    }
    auto owner = needInt(t, "owner_uid", 0, std::numeric_limits<uint32_t>::max() - 1);
    if (!owner) {
        return std::move(owner).error();
    }
    m.ownerUid = static_cast<uint32_t>(*owner);
    const toml::node* gids = t.get("owner_gids");
    if (gids == nullptr) {
        return bad("owner_gids", "missing");
    }
    const toml::array* gidArray = gids->as_array();
    if (gidArray == nullptr) {
        return bad("owner_gids", "not an array of gids");
    }
    for (size_t i = 0; i < gidArray->size(); ++i) {
        const std::string key = "owner_gids[" + std::to_string(i) + "]";
        const toml::node& n = (*gidArray)[i];
        if (!n.is_integer()) {
            return bad(key, "not an integer");
        }
        int64_t v = *n.value<int64_t>();
        if (v < 0 || v > int64_t{std::numeric_limits<uint32_t>::max()} - 1) {
            return bad(key, std::to_string(v) + " is not a gid");
        }
        m.ownerGids.push_back(static_cast<uint32_t>(v));
    }
    // One order, so that a manifest reads back equal to what was written.
    std::sort(m.ownerGids.begin(), m.ownerGids.end());
    m.ownerGids.erase(std::unique(m.ownerGids.begin(), m.ownerGids.end()), m.ownerGids.end());
    auto rootPid = needInt(t, "root_pid", 1, std::numeric_limits<pid_t>::max());
    if (!rootPid) {
        return std::move(rootPid).error();
    }
    m.rootPid = static_cast<pid_t>(*rootPid);
    auto processes = needInt(t, "processes", 1, std::numeric_limits<int32_t>::max());
    if (!processes) {
        return std::move(processes).error();
    }
    m.processes = static_cast<uint32_t>(*processes);
    auto mem = needInt(t, "memory_bytes", 0, std::numeric_limits<int64_t>::max());
    if (!mem) {
        return std::move(mem).error();
    }
    m.memoryBytes = static_cast<uint64_t>(*mem);
    auto image = needInt(t, "image_bytes", 0, std::numeric_limits<int64_t>::max());
    if (!image) {
        return std::move(image).error();
    }
    m.imageBytes = static_cast<uint64_t>(*image);

    const toml::node* cmd = t.get("command");
    if (cmd == nullptr) {
        return bad("command", "missing");
    }
    const toml::array* argv = cmd->as_array();
    if (argv == nullptr) {
        return bad("command", "not an array of strings");
    }
    for (size_t i = 0; i < argv->size(); ++i) {
        auto s = (*argv)[i].value<std::string>();
        if (!(*argv)[i].is_string() || !s) {
            return bad("command[" + std::to_string(i) + "]", "not a string");
        }
        m.command.push_back(*s);
    }
    if (m.command.empty()) {
        return bad("command", "empty");
    }

    if (const toml::node* lim = t.get("limits")) {
        const toml::table* lt = lim->as_table();
        if (lt == nullptr) {
            return bad("limits", "not a table");
        }
        for (auto&& [k, v] : *lt) {
            std::string key(k.str());
            if (!validLimitFile(key)) {
                return bad("limits." + key, "not a cgroup control file name");
            }
            auto s = v.value<std::string>();
            if (!v.is_string() || !s) {
                return bad("limits." + key, "not a string");
            }
            m.limits[key] = *s;
        }
    }

    if (const toml::node* ls = t.get("lost_stdio")) {
        const toml::array* arr = ls->as_array();
        if (arr == nullptr) {
            return bad("lost_stdio", "not an array of tables");
        }
        for (size_t i = 0; i < arr->size(); ++i) {
            const std::string where = "lost_stdio[" + std::to_string(i) + "].";
            const toml::table* e = (*arr)[i].as_table();
            if (e == nullptr) {
                return bad(where.substr(0, where.size() - 1), "not a table");
            }
            GOV_TRY(onlyKnownKeys(*e, kLostKeys, where));
            LostStdio l;
            auto pid = needInt(*e, "pid", 1, std::numeric_limits<pid_t>::max(), where);
            if (!pid) {
                return std::move(pid).error();
            }
            l.pid = static_cast<pid_t>(*pid);
            auto fd = needInt(*e, "fd", 0, 2, where);
            if (!fd) {
                return std::move(fd).error();
            }
            l.fd = static_cast<int>(*fd);
            auto res = needString(*e, "resource", where);
            if (!res) {
                return std::move(res).error();
            }
            if (!validResource(*res)) {
                return bad(where + "resource",
                           "'" + *res + "' is not pipe:[N], socket:[N] or tty[X:Y]");
            }
            l.resource = *res;
            m.lostStdio.push_back(std::move(l));
        }
    }
    return m;
}

}  // namespace

std::string formatManifest(const CheckpointManifest& m) {
    toml::table t;
    t.insert("format", CheckpointManifest::kFormat);
    t.insert("created", m.created);
    t.insert("governor_version", m.governorVersion);
    t.insert("criu_version", m.criuVersion);
    t.insert("class", m.className);
    t.insert("group", m.group);
    t.insert("owner_uid", static_cast<int64_t>(m.ownerUid));
    toml::array gids;
    for (uint32_t g : m.ownerGids) {
        gids.push_back(static_cast<int64_t>(g));
    }
    t.insert("owner_gids", std::move(gids));
    toml::array argv;
    for (const auto& a : m.command) {
        argv.push_back(a);
    }
    t.insert("command", std::move(argv));
    t.insert("root_pid", static_cast<int64_t>(m.rootPid));
    t.insert("processes", static_cast<int64_t>(m.processes));
    t.insert("memory_bytes", static_cast<int64_t>(m.memoryBytes));
    t.insert("image_bytes", static_cast<int64_t>(m.imageBytes));
    if (!m.limits.empty()) {
        toml::table lim;
        for (const auto& [k, v] : m.limits) {
            lim.insert(k, v);
        }
        t.insert("limits", std::move(lim));
    }
    if (!m.lostStdio.empty()) {
        toml::array arr;
        for (const auto& l : m.lostStdio) {
            toml::table e;
            e.insert("pid", static_cast<int64_t>(l.pid));
            e.insert("fd", static_cast<int64_t>(l.fd));
            e.insert("resource", l.resource);
            arr.push_back(std::move(e));
        }
        t.insert("lost_stdio", std::move(arr));
    }
    std::ostringstream out;
    out << "# Governor checkpoint manifest (format: gov/runtime/CheckpointManifest.hpp)\n"
        << t << "\n";
    return out.str();
}

Result<CheckpointManifest> parseManifest(std::string_view text) {
    try {
        toml::table t = toml::parse(text, std::string_view("manifest.toml"));
        return fromTable(t);
    } catch (const toml::parse_error& e) {
        return Error::withReason("manifest: line " + std::to_string(e.source().begin.line),
                                 std::string(e.description()));
    }
}

Result<void> checkMemoryFits(const CheckpointManifest& m, const std::string& className,
                             std::optional<uint64_t> memoryMax) {
    if (memoryMax && *memoryMax < m.memoryBytes) {
        return Error::withReason("class " + className,
                                 "memory.max " + std::to_string(*memoryMax) +
                                     " is below the image's " + std::to_string(m.memoryBytes) +
                                     " bytes of memory",
                                 std::errc::not_enough_memory);
    }
    return success();
}

}  // namespace gov::runtime
