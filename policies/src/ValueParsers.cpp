#include "ValueParsers.hpp"

#include <algorithm>
#include <charconv>

#include "Suggest.hpp"
#include "gov/policies/Units.hpp"

namespace gov::policies::detail {
namespace {

constexpr size_t kMaxPrincipalLength = 256;

}  // namespace

std::optional<KnobValue> ValueParser::knob(const Knob& k, const toml::node& v,
                                           const std::string& path) {
    auto wrap = [](auto parsed) -> std::optional<KnobValue> {
        return parsed ? std::optional<KnobValue>(*parsed) : std::nullopt;
    };
    switch (k.kind) {
        case ValueKind::Size:
            return wrap(size(v, path, k.zeroAllowed));
        case ValueKind::Rate:
            return wrap(rate(v, path));
        case ValueKind::Count:
            return wrap(count(v, path, k.limit, k.unit));
        case ValueKind::Weight:
            return wrap(weight(v, path));
        case ValueKind::Flag:
            return wrap(flag(v, path));
        case ValueKind::Duration:
            return wrap(duration(v, path));
        case ValueKind::CpuBandwidth:
            return wrap(cpuMax(v, path));
        case ValueKind::IdList:
            return wrap(idList(v, path, k.limit, k.unit));
    }
    return std::nullopt;
}

std::optional<MaxOr> ValueParser::size(const toml::node& v, const std::string& path,
                                       bool zeroAllowed) {
    if (const auto* s = v.as_string()) {
        const std::string& text = s->get();
        if (text == "max") {
            return MaxOr::max();
        }
        auto parsed = parseSize(text);
        if (!parsed) {
            sink_.error(v.source(), path,
                        "invalid size " + quoteValue(text) + ": " + parsed.error().reason());
            return std::nullopt;
        }
        if (*parsed == 0 && !zeroAllowed) {
            sink_.error(v.source(), path, "must be greater than 0 (use \"max\" for no limit)");
            return std::nullopt;
        }
        return MaxOr::of(*parsed);
    }
    if (const auto* i = v.as_integer()) {
        int64_t n = i->get();
        if (n < 0) {
            sink_.error(v.source(), path, "cannot be negative");
            return std::nullopt;
        }
        if (n == 0 && !zeroAllowed) {
            sink_.error(v.source(), path, "must be greater than 0 (use \"max\" for no limit)");
            return std::nullopt;
        }
        return MaxOr::of(static_cast<uint64_t>(n));
    }
    sink_.error(v.source(), path,
                "expected a size (a string like \"1GiB\", an integer number of bytes, or "
                "\"max\"), got " +
                    typeName(v));
    return std::nullopt;
}

std::optional<MaxOr> ValueParser::rate(const toml::node& v, const std::string& path) {
    if (const auto* s = v.as_string()) {
        const std::string& text = s->get();
        if (text == "max") {
            return MaxOr::max();
        }
        auto parsed = parseRate(text);
        if (!parsed) {
            sink_.error(v.source(), path,
                        "invalid rate " + quoteValue(text) + ": " + parsed.error().reason());
            return std::nullopt;
        }
        if (*parsed == 0) {
            sink_.error(v.source(), path, "must be greater than 0 (use \"max\" for no limit)");
            return std::nullopt;
        }
        return MaxOr::of(*parsed);
    }
    if (const auto* i = v.as_integer()) {
        if (i->get() <= 0) {
            sink_.error(v.source(), path,
                        "must be greater than 0 bytes per second (use \"max\" for no limit)");
            return std::nullopt;
        }
        return MaxOr::of(static_cast<uint64_t>(i->get()));
    }
    sink_.error(v.source(), path,
                "expected a rate (a string like \"10MB/s\", an integer number of bytes per "
                "second, or \"max\"), got " +
                    typeName(v));
    return std::nullopt;
}

std::optional<MaxOr> ValueParser::count(const toml::node& v, const std::string& path,
                                        uint64_t limit, std::string_view what) {
    if (const auto* s = v.as_string()) {
        if (s->get() == "max") {
            return MaxOr::max();
        }
        sink_.error(
            v.source(), path,
            "expected a positive integer or \"max\", got the string " + quoteValue(s->get()));
        return std::nullopt;
    }
    if (const auto* i = v.as_integer()) {
        int64_t n = i->get();
        if (n <= 0) {
            sink_.error(v.source(), path,
                        "must be a positive number of " + std::string(what) +
                            " (use \"max\" for no limit)");
            return std::nullopt;
        }
        if (static_cast<uint64_t>(n) > limit) {
            sink_.error(v.source(), path,
                        "must be at most " + std::to_string(limit) + " (use \"max\" for no limit)");
            return std::nullopt;
        }
        return MaxOr::of(static_cast<uint64_t>(n));
    }
    if (v.is_floating_point()) {
        sink_.error(v.source(), path,
                    "expected a positive integer or \"max\", got a floating-point number (" +
                        std::string(what) + " cannot be fractional)");
        return std::nullopt;
    }
    sink_.error(v.source(), path, "expected a positive integer or \"max\", got " + typeName(v));
    return std::nullopt;
}

std::optional<uint32_t> ValueParser::weight(const toml::node& v, const std::string& path) {
    const auto* i = v.as_integer();
    if (i == nullptr) {
        sink_.error(v.source(), path, "expected an integer from 1 to 10000, got " + typeName(v));
        return std::nullopt;
    }
    if (i->get() < 1 || i->get() > 10000) {
        sink_.error(v.source(), path,
                    "must be from 1 to 10000, got " + std::to_string(i->get()) + " (default 100)");
        return std::nullopt;
    }
    return static_cast<uint32_t>(i->get());
}

std::optional<bool> ValueParser::flag(const toml::node& v, const std::string& path) {
    const auto* b = v.as_boolean();
    if (b == nullptr) {
        sink_.error(v.source(), path, "expected true or false, got " + typeName(v));
        return std::nullopt;
    }
    return b->get();
}

std::optional<uint64_t> ValueParser::duration(const toml::node& v, const std::string& path) {
    const auto* s = v.as_string();
    if (s == nullptr) {
        sink_.error(v.source(), path,
                    "expected a duration string like \"100ms\", got " + typeName(v));
        return std::nullopt;
    }
    auto d = parseDurationUsec(s->get());
    if (!d) {
        sink_.error(v.source(), path,
                    "invalid duration " + quoteValue(s->get()) + ": " + d.error().reason());
        return std::nullopt;
    }
    return *d;
}

bool ValueParser::checkQuota(const toml::node& v, const std::string& path, uint64_t quota) {
    if (quota < kMinQuotaUsec || quota > kMaxQuotaUsec) {
        sink_.error(v.source(), path,
                    "quota " + formatDurationUsec(quota) + " is out of range (1ms to " +
                        std::to_string(kMaxQuotaUsec) +
                        "us; per 100ms period that is at least 1%)");
        return false;
    }
    return true;
}

std::optional<CpuMax> ValueParser::cpuMax(const toml::node& v, const std::string& path) {
    if (const auto* s = v.as_string()) {
        if (s->get() == "max") {
            return CpuMax{};
        }
        auto quota = parseCpuPercentQuotaUsec(s->get());
        if (!quota) {
            sink_.error(
                v.source(), path,
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
        sink_.error(v.source(), path,
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
            } else if (auto q = duration(sub, subPath)) {
                ok = checkQuota(sub, subPath, *q) && ok;
                result.quotaUsec = *q;
            } else {
                ok = false;
            }
        } else if (k.str() == "period") {
            if (auto p = duration(sub, subPath)) {
                if (*p < kMinPeriodUsec || *p > kMaxPeriodUsec) {
                    sink_.error(
                        sub.source(), subPath,
                        "period " + formatDurationUsec(*p) + " is out of range (1ms to 1s)");
                    ok = false;
                }
                result.periodUsec = *p;
            } else {
                ok = false;
            }
        } else if (k.str() == "burst") {
            // The kernel's file is cpu.max.burst, but TOML cannot make cpu.max both
            // a value and a table, so the policy key is cpu.burst.
            sink_.error(k.source(), subPath, "unknown key 'burst'", "cpu.burst");
            ok = false;
        } else {
            sink_.unknownKey(k, sub, path, "cpu.max", {"cpu.max.quota", "cpu.max.period"});
            ok = false;
        }
    }
    if (!haveQuota) {
        sink_.error(v.source(), path, "a { quota, period } table needs a quota");
        ok = false;
    }
    return ok ? std::optional<CpuMax>(result) : std::nullopt;
}

std::optional<std::string> ValueParser::idList(const toml::node& v, const std::string& path,
                                               uint64_t limit, std::string_view what) {
    const auto* s = v.as_string();
    if (s == nullptr) {
        sink_.error(v.source(), path,
                    "expected a " + std::string(what) + " list as a string like \"0-3,8\", got " +
                        typeName(v));
        return std::nullopt;
    }
    auto list = normalizeIdList(s->get(), static_cast<uint32_t>(limit));
    if (!list) {
        sink_.error(v.source(), path,
                    "invalid " + std::string(what) + " list " + quoteValue(s->get()) + ": " +
                        list.error().reason());
        return std::nullopt;
    }
    return *list;
}

std::vector<std::string> ValueParser::names(const toml::node& v, const std::string& path,
                                            const std::string& what) {
    std::vector<std::string> out;
    const auto* a = v.as_array();
    if (a == nullptr) {
        sink_.error(v.source(), path, "expected an array of " + what + ", got " + typeName(v));
        return out;
    }
    for (size_t i = 0; i < a->size(); ++i) {
        const toml::node& item = *a->get(i);
        std::string itemPath = path + "[" + std::to_string(i) + "]";
        const auto* s = item.as_string();
        if (s == nullptr) {
            sink_.error(item.source(), itemPath,
                        "expected " + what + " as strings, got " + typeName(item));
            continue;
        }
        const std::string& name = s->get();
        if (name.empty() || name.size() > kMaxPrincipalLength || hasControlChars(name) ||
            name.find_first_of(" \t:,/") != std::string::npos) {
            sink_.error(
                item.source(), itemPath,
                "invalid name " + quoteValue(name) + " (not empty, no spaces, ':', ',' or '/')");
            continue;
        }
        if (std::find(out.begin(), out.end(), name) != out.end()) {
            sink_.error(item.source(), itemPath, quoteValue(name) + " is listed twice");
            continue;
        }
        out.push_back(name);
    }
    return out;
}

std::vector<Namespace> ValueParser::namespaces(const toml::node& v, const std::string& path) {
    std::vector<Namespace> out;
    const auto* a = v.as_array();
    if (a == nullptr) {
        sink_.error(v.source(), path, "expected an array of namespace names, got " + typeName(v));
        return out;
    }
    std::vector<std::string> known;
    for (Namespace ns : allNamespaces()) {
        known.emplace_back(namespaceName(ns));
    }
    for (size_t i = 0; i < a->size(); ++i) {
        const toml::node& item = *a->get(i);
        std::string itemPath = path + "[" + std::to_string(i) + "]";
        const auto* s = item.as_string();
        if (s == nullptr) {
            sink_.error(item.source(), itemPath,
                        "expected a namespace name, got " + typeName(item));
            continue;
        }
        auto ns = namespaceFromName(s->get());
        if (!ns) {
            sink_.error(item.source(), itemPath,
                        "unknown namespace " + quoteValue(s->get()) +
                            " (pid, mount, uts, ipc, net, cgroup, user)",
                        closest({s->get()}, known));
            continue;
        }
        if (std::find(out.begin(), out.end(), *ns) != out.end()) {
            sink_.error(item.source(), itemPath, quoteValue(s->get()) + " is listed twice");
            continue;
        }
        out.push_back(*ns);
    }
    std::sort(out.begin(), out.end());
    return out;
}

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

}  // namespace gov::policies::detail
