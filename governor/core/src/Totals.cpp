#include "gov/core/Totals.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "gov/core/StateFiles.hpp"

namespace gov::core {

namespace {

using nlohmann::json;

using runtime::CounterSource;
using runtime::Fold;
using runtime::kCounters;

// The rows of the counter table that are kept in totals.json: every folded one.
template <typename Fn>
void forEachPersisted(Fn&& fn) {
    for (const auto& row : kCounters) {
        if (row.fold != Fold::None)
            fn(row);
    }
}

// A row's JSON name: "field", or "object.field" for a field of a nested object.
struct JsonPath {
    std::string object;  // empty: a field of the class itself
    std::string field;
};
JsonPath jsonPath(const char* name) {
    std::string_view n(name);
    auto dot = n.find('.');
    if (dot == std::string_view::npos)
        return {"", std::string(n)};
    return {std::string(n.substr(0, dot)), std::string(n.substr(dot + 1))};
}

Result<uint64_t> getU64(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end())
        return uint64_t{0};  // fields added later default to 0
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
        return Error::withReason(where + "." + key, "not a non-negative integer");
    }
    return it->get<uint64_t>();
}

}  // namespace

std::string stateToJson(const State& state) {
    json classes = json::object();
    for (const auto& [name, t] : state.classes) {
        json c = json::object();
        c["workloads_ended"] = t.workloadsEnded;
        json io = json::object();
        forEachPersisted([&](const runtime::CounterSpec& row) {
            if (row.source == CounterSource::PerDevice) {
                for (const auto& [dev, d] : t.devices)
                    io[dev][row.json] = d[runtime::index(row.id)];
                return;
            }
            auto path = jsonPath(row.json);
            if (path.object.empty())
                c[path.field] = t[row.id];
            else
                c[path.object][path.field] = t[row.id];
        });
        c["io"] = io;
        classes[name] = c;
    }
    json pending = json::array();
    for (const auto& p : state.pendingRemoval) {
        pending.push_back({{"group", p.group}, {"cgroup_id", p.cgroupId}});
    }
    json doc = {{"version", 1}, {"classes", classes}, {"pending_removal", pending}};
    return doc.dump(2) + "\n";
}

Result<State> stateFromJson(const std::string& text) {
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        return Error::withReason("state", "not a JSON object (damaged or truncated)");
    }
    auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer() || version->get<int>() != 1) {
        return Error::withReason("state", "unknown or missing \"version\" (expected 1)");
    }
    State state;
    auto classes = doc.find("classes");
    if (classes == doc.end() || !classes->is_object()) {
        return Error::withReason("state", "missing \"classes\" object");
    }
    for (const auto& [name, c] : classes->items()) {
        std::string where = "state: classes." + name;
        if (!c.is_object())
            return Error::withReason(where, "not an object");
        ClassTotals t;
        auto ended = getU64(c, "workloads_ended", where);
        if (!ended)
            return ended.error();
        t.workloadsEnded = *ended;
        Result<void> fields = success();
        forEachPersisted([&](const runtime::CounterSpec& row) {
            if (!fields || row.source == CounterSource::PerDevice)
                return;
            auto path = jsonPath(row.json);
            const json* obj = &c;
            std::string w = where;
            if (!path.object.empty()) {
                auto it = c.find(path.object);
                if (it == c.end())
                    return;  // fields added later default to 0
                w += "." + path.object;
                if (!it->is_object()) {
                    fields = Error::withReason(w, "not an object");
                    return;
                }
                obj = &*it;
            }
            auto v = getU64(*obj, path.field.c_str(), w);
            if (!v) {
                fields = v.error();
                return;
            }
            t[row.id] = *v;
        });
        if (!fields)
            return std::move(fields).error();
        if (auto io = c.find("io"); io != c.end()) {
            if (!io->is_object())
                return Error::withReason(where + ".io", "not an object");
            for (const auto& [dev, d] : io->items()) {
                auto& values = t.devices[dev];
                forEachPersisted([&](const runtime::CounterSpec& row) {
                    if (!fields || row.source != CounterSource::PerDevice)
                        return;
                    auto v = getU64(d, row.json, where + ".io." + dev);
                    if (!v) {
                        fields = v.error();
                        return;
                    }
                    values[runtime::index(row.id)] = *v;
                });
                if (!fields)
                    return std::move(fields).error();
            }
        }
        state.classes[name] = std::move(t);
    }
    if (auto pending = doc.find("pending_removal"); pending != doc.end()) {
        if (!pending->is_array())
            return Error::withReason("state: pending_removal", "not an array");
        for (const auto& p : *pending) {
            auto g = p.find("group");
            if (!p.is_object() || g == p.end() || !g->is_string()) {
                return Error::withReason("state: pending_removal", "entry without \"group\"");
            }
            auto id = getU64(p, "cgroup_id", "state: pending_removal");
            if (!id)
                return id.error();
            state.pendingRemoval.push_back({g->get<std::string>(), *id});
        }
    }
    return state;
}

StateStore::Loaded StateStore::load(std::chrono::system_clock::time_point now) const {
    Loaded out;
    auto tryLoad = [](const std::string& path) -> Result<State> {
        auto text = readStateFile(path);
        if (!text)
            return std::move(text).error();
        auto state = stateFromJson(*text);
        if (!state)
            return std::move(state).error().wrap(path);
        return state;
    };
    auto missing = [](const Result<State>& r) {
        return !r && r.error().code() == std::errc::no_such_file_or_directory;
    };
    // Sets a damaged file aside and says so in `into`.
    auto putAside = [&](const std::string& path, std::string& into) {
        auto moved = setAside(path, now);
        if (moved) {
            out.setAside.push_back(*moved);
            into += "; set aside as " + *moved;
        } else {
            into += "; cannot set it aside (" + moved.error().message() + ")";
        }
    };
    auto current = tryLoad(path());
    if (current) {
        out.state = std::move(*current);
        return out;
    }
    auto previous = tryLoad(previousPath());
    if (missing(current) && missing(previous))
        return out;  // the first start
    std::string damage;
    if (!missing(current)) {
        damage = current.error().message();
        putAside(path(), damage);
    } else {
        damage = path() + " is missing";
    }
    if (previous) {
        out.state = std::move(*previous);
        out.warning = damage + "; using the previous generation";
        return out;
    }
    if (!missing(previous)) {
        damage += "; " + previous.error().message();
        putAside(previousPath(), damage);
    }
    out.reset = true;
    out.warning = damage + "; no usable generation: the totals of ended workloads start from zero";
    return out;
}

Result<void> StateStore::save(const State& state) const {
    // The current file becomes the previous generation only when it is one: a
    // file damaged since it was written (it no longer parses) is set aside, and a
    // missing one (set aside at load) leaves the previous generation in place.
    auto keepPrevious = [this]() -> Result<void> {
        auto text = readStateFile(path());
        if (!text) {
            if (text.error().code() == std::errc::no_such_file_or_directory)
                return success();
            return std::move(text).error().wrap("keep the previous generation");
        }
        if (!stateFromJson(*text)) {
            auto moved = setAside(path(), std::chrono::system_clock::now());
            if (!moved)
                return std::move(moved).error();
            return success();
        }
        // A hard link renamed into place: totals.json.prev is never missing for a
        // moment, and totals.json itself stays until the rename replaces it.
        const std::string tmp = previousPath() + ".tmp";
        ::unlink(tmp.c_str());
        if (::link(path().c_str(), tmp.c_str()) < 0)
            return Error::fromErrno("keep previous generation of " + path());
        if (::rename(tmp.c_str(), previousPath().c_str()) < 0)
            return Error::fromErrno("keep previous generation of " + path());
        return success();
    };
    return replaceFileAtomically(dir_, path(), stateToJson(state), keepPrevious);
}

}  // namespace gov::core
