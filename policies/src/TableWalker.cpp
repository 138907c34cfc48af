#include "TableWalker.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "ValueParsers.hpp"
#include "gov/policies/Knobs.hpp"
#include "gov/policies/Units.hpp"

namespace gov::policies::detail {
namespace {

constexpr size_t kMaxClassNameLength = 64;
constexpr size_t kMaxDescriptionLength = 1024;
constexpr std::string_view kIoDevice = "io.device";

const std::vector<std::string>& classKeys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k = resourceKeys();
        for (const char* extra : {"description", "namespaces", "exec.users", "exec.groups",
                                  "control.users", "control.groups"}) {
            k.emplace_back(extra);
        }
        for (const auto& r : resourceKeys()) {
            k.push_back("workload." + r);
        }
        return k;
    }();
    return keys;
}

const std::vector<std::string> kGovernorKeys = {"admins.users", "admins.groups"};
const std::vector<std::string> kTopKeys = {"governor", "classes"};

// True when some resource key lies under `prefix` ("memory", "memory.swap").
bool hasKeysUnder(std::string_view prefix) {
    return std::any_of(resourceKeys().begin(), resourceKeys().end(), [&](const std::string& k) {
        return k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0 &&
               k[prefix.size()] == '.';
    });
}

// "memory.max, .high, .low, .min, ...": the keys under `prefix`, the first written in
// full (as `rel`, the table's path within the class), the others by their suffix.
std::string keysHint(const std::string& rel, std::string_view prefix) {
    std::string out;
    for (const auto& k : resourceKeys()) {
        if (k.size() <= prefix.size() || k.compare(0, prefix.size(), prefix) != 0 ||
            k[prefix.size()] != '.') {
            continue;
        }
        std::string suffix = k.substr(prefix.size());
        out += out.empty() ? rel + suffix : ", " + suffix;
    }
    return out;
}

// The io.max rows' keys as written under a device ("read_bps", ...).
std::vector<std::string> deviceKeys() {
    std::vector<std::string> out;
    for (const auto& k : knobs()) {
        if (isIoMaxKey(k)) {
            out.emplace_back(k.key.substr(k.key.find('.') + 1));
        }
    }
    return out;
}

// Where each knob of one Resources was set, for the checks between knobs.
struct KnobSource {
    toml::source_region region;
    std::string path;
};
using KnobSources = std::map<std::string_view, KnobSource>;

class FileWalker {
  public:
    explicit FileWalker(DiagnosticSink& sink) : sink_(sink), values_(sink) {}

    FileResult run(const toml::table& root) {
        FileResult result;
        for (auto&& [key, value] : root) {
            if (key.str() == "governor") {
                governor(value, result);
            } else if (key.str() == "classes") {
                classes(value, result);
            } else {
                sink_.unknownKey(key, value, "", "", kTopKeys);
            }
        }
        return result;
    }

  private:
    void principals(const toml::node& v, const std::string& path, const std::string& relPrefix,
                    Principals& out) {
        const auto* t = sink_.expectTable(v, path, relPrefix + ".users, " + relPrefix + ".groups");
        if (t == nullptr) {
            return;
        }
        for (auto&& [k, sub] : *t) {
            if (k.str() == "users") {
                out.users = values_.names(sub, join(path, k.str()), "user names");
            } else if (k.str() == "groups") {
                out.groups = values_.names(sub, join(path, k.str()), "group names");
            } else {
                sink_.unknownKey(k, sub, path, relPrefix, classKeys());
            }
        }
    }

    void governor(const toml::node& v, FileResult& result) {
        const auto* t = sink_.expectTable(v, "governor", "[governor]");
        if (t == nullptr) {
            return;
        }
        for (auto&& [k, sub] : *t) {
            if (k.str() != "admins") {
                sink_.unknownKey(k, sub, "governor", "", kGovernorKeys);
                continue;
            }
            const auto* admins =
                sink_.expectTable(sub, "governor.admins", "admins.users, admins.groups");
            if (admins == nullptr) {
                continue;
            }
            for (auto&& [ak, av] : *admins) {
                std::string path = join("governor.admins", ak.str());
                if (ak.str() == "users") {
                    result.adminUsers =
                        Located{values_.names(av, path, "user names"), sink_.at(ak.source())};
                } else if (ak.str() == "groups") {
                    result.adminGroups =
                        Located{values_.names(av, path, "group names"), sink_.at(ak.source())};
                } else {
                    sink_.unknownKey(ak, av, "governor.admins", "admins", kGovernorKeys);
                }
            }
        }
    }

    void classes(const toml::node& v, FileResult& result) {
        const auto* t = sink_.expectTable(v, "classes", "[classes.NAME]");
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
                sink_.error(nameKey.source(), path,
                            "invalid class name " + quoteValue(name) +
                                ": use lowercase letters, digits, '_' and '-', starting with a "
                                "letter or digit, at most 64 characters");
            }
            const auto* ct = classNode.as_table();
            if (ct == nullptr) {
                sink_.error(classNode.source(), path,
                            "a class is a table ([classes." + quoteKey(name) + "]), got " +
                                typeName(classNode));
                continue;
            }
            ClassPolicy cls;
            cls.name = name;
            cls.where = sink_.at(ct->source());
            size_t before = sink_.count();
            oneClass(*ct, path, cls);
            if (nameOk && sink_.count() == before) {
                result.classes.push_back(std::move(cls));
            }
        }
    }

    void oneClass(const toml::table& t, const std::string& path, ClassPolicy& cls) {
        KnobSources classSources;
        KnobSources workloadSources;
        for (auto&& [k, v] : t) {
            std::string_view key = k.str();
            std::string keyPath = join(path, key);
            if (key == "description") {
                const auto* s = v.as_string();
                if (s == nullptr) {
                    sink_.error(v.source(), keyPath, "expected a string, got " + typeName(v));
                } else if (s->get().size() > kMaxDescriptionLength || hasControlChars(s->get())) {
                    sink_.error(v.source(), keyPath,
                                "a description is one line of at most 1024 bytes without control "
                                "characters");
                } else {
                    cls.description = s->get();
                }
            } else if (key == "namespaces") {
                cls.namespaces = values_.namespaces(v, keyPath);
            } else if (key == "exec") {
                principals(v, keyPath, "exec", cls.execAllowed);
            } else if (key == "control") {
                principals(v, keyPath, "control", cls.controlAllowed);
            } else if (key == "workload") {
                const auto* wt =
                    sink_.expectTable(v, keyPath, "workload.memory.max, workload.pids.max, ...");
                if (wt == nullptr) {
                    continue;
                }
                for (auto&& [wk, wv] : *wt) {
                    if (!resourceGroup(wk, wv, keyPath, "workload", cls.workloadLimits,
                                       workloadSources)) {
                        sink_.unknownKey(wk, wv, keyPath, "workload", classKeys());
                    }
                }
            } else if (!resourceGroup(k, v, path, "", cls.limits, classSources)) {
                sink_.unknownKey(k, v, path, "", classKeys());
            }
        }
        finishIo(cls.limits);
        finishIo(cls.workloadLimits);
        checkBetweenKnobs(cls.limits, classSources);
        checkBetweenKnobs(cls.workloadLimits, workloadSources);
    }

    // A resource group of a class or of its workload table ("memory", "io", ...);
    // false when `k` names none.
    bool resourceGroup(const toml::key& k, const toml::node& v, const std::string& absPrefix,
                       const std::string& relPrefix, Resources& r, KnobSources& sources) {
        std::string_view group = k.str();
        if (!hasKeysUnder(group)) {
            return false;
        }
        std::string rel =
            relPrefix.empty() ? std::string(group) : relPrefix + "." + std::string(group);
        IoLimit all;
        all.where = sink_.at(v.source());
        keysUnder(v, join(absPrefix, group), rel, std::string(group), r, all, sources);
        if (!all.empty()) {
            r.io.insert(r.io.begin(), std::move(all));
        }
        return true;
    }

    // The keys of the table `v` at `path` (`rel` within the class), whose policy keys
    // start with `prefix` ("memory", then "memory.swap" for memory.swap.max).
    void keysUnder(const toml::node& v, const std::string& path, const std::string& rel,
                   const std::string& prefix, Resources& r, IoLimit& all, KnobSources& sources) {
        const auto* t = sink_.expectTable(v, path, keysHint(rel, prefix));
        if (t == nullptr) {
            return;
        }
        for (auto&& [sk, sv] : *t) {
            const std::string key = prefix + "." + std::string(sk.str());
            const std::string keyPath = join(path, sk.str());
            const std::string keyRel = rel + "." + std::string(sk.str());
            if (key == kIoDevice) {
                devices(sv, keyPath, keyRel, r);
            } else if (const Knob* knob = findKnob(key)) {
                auto value = values_.knob(*knob, sv, keyPath);
                if (!value) {
                    continue;
                }
                if (isIoMaxKey(*knob)) {
                    setKnobValue(*knob, all, *value);
                } else {
                    setKnobValue(*knob, r, *value);
                    sources[knob->key] = KnobSource{sv.source(), keyPath};
                }
            } else if (hasKeysUnder(key)) {
                keysUnder(sv, keyPath, keyRel, key, r, all, sources);
            } else {
                sink_.unknownKey(sk, sv, path, rel, classKeys());
            }
        }
    }

    void devices(const toml::node& v, const std::string& path, const std::string& rel,
                 Resources& r) {
        const auto* t = sink_.expectTable(v, path, rel + ".\"/dev/NAME\".write_bps, ...");
        if (t == nullptr) {
            return;
        }
        const std::vector<std::string> keys = deviceKeys();
        std::string keysText;
        for (const auto& k : keys) {
            keysText += (keysText.empty() ? "" : ", ") + k;
        }
        std::map<std::string, std::string> seen;  // normalized -> as written
        for (auto&& [dk, dv] : *t) {
            std::string devPath = join(path, dk.str());
            auto device = deviceName(dk.str());
            if (!device) {
                sink_.error(dk.source(), devPath,
                            "invalid device " + quoteValue(dk.str()) +
                                ": use a /dev path (\"/dev/nvme0n1\") or \"MAJ:MIN\" (\"259:0\")");
                continue;
            }
            if (auto [it, inserted] = seen.emplace(*device, std::string(dk.str())); !inserted) {
                sink_.error(dk.source(), devPath,
                            "device " + quoteValue(*device) + " is also given as " +
                                quoteValue(it->second));
                continue;
            }
            const auto* dt = sink_.expectTable(dv, devPath, keysText);
            if (dt == nullptr) {
                continue;
            }
            IoLimit io;
            io.device = *device;
            io.where = sink_.at(dk.source());
            std::string devRel = rel + "." + quoteKey(dk.str());
            std::vector<std::string> candidates;
            for (const auto& k : keys) {
                candidates.push_back(devRel + "." + k);
            }
            for (auto&& [ik, iv] : *dt) {
                const Knob* knob = findKnob("io." + std::string(ik.str()));
                if (knob == nullptr || !isIoMaxKey(*knob)) {
                    sink_.unknownKey(ik, iv, devPath, devRel, candidates);
                    continue;
                }
                if (auto value = values_.knob(*knob, iv, join(devPath, ik.str()))) {
                    setKnobValue(*knob, io, *value);
                }
            }
            if (io.empty() && dt->empty()) {
                sink_.error(dk.source(), devPath, "no limits for this device");
                continue;
            }
            if (!io.empty()) {
                r.io.push_back(std::move(io));
            }
        }
    }

    // What the kernel refuses however each knob is written alone.
    void checkBetweenKnobs(const Resources& r, const KnobSources& sources) {
        for (const auto& knob : knobs()) {
            if (knob.notWhenSet.empty() || !knobValue(knob, r)) {
                continue;
            }
            const Knob* flag = findKnob(knob.notWhenSet);
            if (flag != nullptr && flagSet(*flag, r)) {
                const KnobSource& at = sources.at(knob.key);
                sink_.error(at.region, at.path,
                            "cannot be set together with " + std::string(flag->key) +
                                " = true (the kernel refuses it)");
            }
        }
        // cpu.max.burst is quota saved up: the kernel wants a quota at least as large,
        // and refuses a quota plus burst above its largest quota.
        if (r.cpuBurstUsec && *r.cpuBurstUsec > 0) {
            const KnobSource& at = sources.at("cpu.burst");
            if (!r.cpuMax || !r.cpuMax->quotaUsec) {
                sink_.error(at.region, at.path,
                            "needs a cpu.max quota in the same group (a burst spends quota saved "
                            "up in earlier periods)");
            } else if (*r.cpuBurstUsec > *r.cpuMax->quotaUsec) {
                sink_.error(at.region, at.path,
                            "must be at most the cpu.max quota (" +
                                formatDurationUsec(*r.cpuMax->quotaUsec) + ")");
            } else if (*r.cpuBurstUsec + *r.cpuMax->quotaUsec > kMaxQuotaUsec) {
                sink_.error(at.region, at.path,
                            "with the cpu.max quota must be at most " +
                                std::to_string(kMaxQuotaUsec) + "us");
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

    DiagnosticSink& sink_;
    ValueParser values_;
};

}  // namespace

FileResult walkFile(const toml::table& root, DiagnosticSink& sink) {
    return FileWalker(sink).run(root);
}

}  // namespace gov::policies::detail
