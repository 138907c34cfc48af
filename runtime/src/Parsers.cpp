#include "gov/runtime/Parsers.hpp"

#include <charconv>
#include <cmath>

namespace gov::runtime {
namespace {

bool isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isBlank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && isBlank(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Splits off the next whitespace-separated token of `s` (advancing it).
std::string_view nextToken(std::string_view& s) {
    while (!s.empty() && isBlank(s.front())) {
        s.remove_prefix(1);
    }
    size_t n = 0;
    while (n < s.size() && !isBlank(s[n])) {
        ++n;
    }
    std::string_view tok = s.substr(0, n);
    s.remove_prefix(n);
    return tok;
}

// Calls fn(lineNumber, line) for each non-blank line (trimmed). Stops at the first
// error fn returns.
template <typename Fn>
Result<void> forEachLine(std::string_view text, Fn&& fn) {
    size_t lineNo = 0;
    while (!text.empty()) {
        ++lineNo;
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        line = trim(line);
        if (line.empty()) {
            continue;
        }
        auto r = fn(lineNo, line);
        if (!r) {
            return r;
        }
    }
    return success();
}

bool toU64(std::string_view s, uint64_t& out) {
    if (s.empty()) {
        return false;
    }
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

// PSI averages are percentages printed as "12.34": from_chars would also take
// "nan", "inf" and "-1", none of which the kernel writes, so they are rejected.
bool toDouble(std::string_view s, double& out) {
    if (s.empty() || !(s.front() >= '0' && s.front() <= '9')) {
        return false;
    }
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

bool toMaxOr(std::string_view s, MaxOr& out) {
    if (s == "max") {
        out = MaxOr::max();
        return true;
    }
    uint64_t v = 0;
    if (!toU64(s, v)) {
        return false;
    }
    out = MaxOr::of(v);
    return true;
}

// Every reason starts with where it is, so the caller only prefixes file and group.
Error lineError(size_t lineNo, const std::string& what) {
    return Error::withReason("", "line " + std::to_string(lineNo) + ": " + what);
}

std::string quoted(std::string_view s) {
    constexpr size_t kMaxShown = 64;  // fuzzed input can be huge; keep messages short
    std::string out = "'";
    out.append(s.substr(0, kMaxShown));
    if (s.size() > kMaxShown) {
        out += "...";
    }
    out += "'";
    return out;
}

// "k=v" -> (k, v); no '=' -> false.
bool splitKeyValue(std::string_view tok, std::string_view& key, std::string_view& value) {
    size_t eq = tok.find('=');
    if (eq == std::string_view::npos) {
        return false;
    }
    key = tok.substr(0, eq);
    value = tok.substr(eq + 1);
    return true;
}

}  // namespace

Result<void> forEachFlatKeyed(std::string_view text,
                              const std::function<void(std::string_view, uint64_t)>& fn) {
    return forEachLine(text, [&](size_t lineNo, std::string_view line) -> Result<void> {
        std::string_view key = nextToken(line);
        std::string_view value = nextToken(line);
        if (value.empty()) {
            return lineError(lineNo, "no value for key " + quoted(key));
        }
        if (!trim(line).empty()) {
            return lineError(lineNo, "unexpected text after the value of key " + quoted(key));
        }
        uint64_t v = 0;
        if (!toU64(value, v)) {
            return lineError(lineNo, "bad number " + quoted(value) + " for key " + quoted(key));
        }
        fn(key, v);
        return success();
    });
}

Result<FlatKeyed> parseFlatKeyed(std::string_view text) {
    FlatKeyed out;
    auto r = forEachFlatKeyed(text, [&](std::string_view key, uint64_t value) {
        out.insert_or_assign(std::string(key), value);
    });
    if (!r) {
        return std::move(r).error();
    }
    return out;
}

Result<MaxOr> parseMax(std::string_view text) {
    std::string_view s = trim(text);
    MaxOr out;
    if (!toMaxOr(s, out)) {
        return Error::withReason("", "expected 'max' or a number, got " + quoted(s));
    }
    return out;
}

Result<uint64_t> parseU64(std::string_view text) {
    std::string_view s = trim(text);
    uint64_t v = 0;
    if (!toU64(s, v)) {
        return Error::withReason("", "expected a number, got " + quoted(s));
    }
    return v;
}

Result<Pressure> parsePressure(std::string_view text) {
    Pressure out;
    bool haveSome = false;
    auto r = forEachLine(text, [&](size_t lineNo, std::string_view line) -> Result<void> {
        std::string_view kind = nextToken(line);
        if (kind != "some" && kind != "full") {
            return success();  // a future line kind
        }
        PressureLine pl;
        unsigned seen = 0;
        for (std::string_view tok = nextToken(line); !tok.empty(); tok = nextToken(line)) {
            std::string_view key, value;
            if (!splitKeyValue(tok, key, value)) {
                return lineError(lineNo, "expected key=value, got " + quoted(tok));
            }
            bool ok = true;
            if (key == "avg10") {
                ok = toDouble(value, pl.avg10);
                seen |= 1;
            } else if (key == "avg60") {
                ok = toDouble(value, pl.avg60);
                seen |= 2;
            } else if (key == "avg300") {
                ok = toDouble(value, pl.avg300);
                seen |= 4;
            } else if (key == "total") {
                ok = toU64(value, pl.totalUsec);
                seen |= 8;
            }
            if (!ok) {
                return lineError(lineNo, "bad number " + quoted(value) + " for " + quoted(key));
            }
        }
        if (seen != 15) {
            return lineError(lineNo,
                             "'" + std::string(kind) + "' needs avg10, avg60, avg300 and total");
        }
        if (kind == "some") {
            out.some = pl;
            haveSome = true;
        } else {
            out.full = pl;
        }
        return success();
    });
    if (!r) {
        return std::move(r).error();
    }
    if (!haveSome) {
        return Error::withReason("", "no 'some' line");
    }
    return out;
}

namespace {

// The lines "MAJ:MIN key=value ..." of io.stat and io.max: `onLine(device, lineNo)`
// starts each line, `setField(key, value)` stores a key it knows and returns a
// non-empty reason for a bad value; unknown keys are left to it (both files grow keys
// over time).
template <typename OnLine, typename SetField>
Result<void> forEachDeviceLine(std::string_view text, OnLine&& onLine, SetField&& setField) {
    return forEachLine(text, [&](size_t lineNo, std::string_view line) -> Result<void> {
        std::string_view dev = nextToken(line);
        if (!isMajMin(dev)) {
            return lineError(lineNo, "expected MAJ:MIN, got " + quoted(dev));
        }
        onLine(dev);
        for (std::string_view tok = nextToken(line); !tok.empty(); tok = nextToken(line)) {
            std::string_view key, value;
            if (!splitKeyValue(tok, key, value)) {
                return lineError(lineNo, "expected key=value, got " + quoted(tok));
            }
            std::string bad = setField(key, value);
            if (!bad.empty()) {
                return lineError(lineNo, bad);
            }
        }
        return success();
    });
}

}  // namespace

Result<void> forEachDeviceField(std::string_view text,
                                const std::function<void(std::string_view)>& onLine,
                                const std::function<bool(std::string_view)>& wanted,
                                const std::function<void(std::string_view, uint64_t)>& onValue) {
    return forEachDeviceLine(text, onLine, [&](std::string_view key, std::string_view value) {
        // Unknown keys (iocost's "cost.vrate=1.00" ...) may not even be integers.
        if (!wanted(key)) {
            return std::string();
        }
        uint64_t v = 0;
        if (!toU64(value, v)) {
            return "bad number " + quoted(value) + " for " + quoted(key);
        }
        onValue(key, v);
        return std::string();
    });
}

Result<std::vector<IoMaxLine>> parseIoMax(std::string_view text) {
    std::vector<IoMaxLine> out;
    auto r = forEachDeviceLine(
        text,
        [&](std::string_view dev) {
            out.emplace_back();
            out.back().majMin = std::string(dev);
        },
        [&](std::string_view key, std::string_view value) {
            IoMaxLine& io = out.back();
            MaxOr* field = key == "rbps"    ? &io.rbps
                           : key == "wbps"  ? &io.wbps
                           : key == "riops" ? &io.riops
                           : key == "wiops" ? &io.wiops
                                            : nullptr;
            if (field != nullptr && !toMaxOr(value, *field)) {
                return "expected 'max' or a number for " + quoted(key) + ", got " + quoted(value);
            }
            return std::string();
        });
    if (!r) {
        return std::move(r).error();
    }
    return out;
}

Result<CpuMax> parseCpuMax(std::string_view text) {
    std::string_view s = trim(text);
    std::string_view quota = nextToken(s);
    std::string_view period = nextToken(s);
    if (quota.empty() || !trim(s).empty()) {
        return Error::withReason("", "expected '<quota|max> [period]', got " + quoted(trim(text)));
    }
    CpuMax out;
    if (quota != "max") {
        uint64_t q = 0;
        if (!toU64(quota, q)) {
            return Error::withReason("", "bad quota " + quoted(quota));
        }
        out.quotaUsec = q;
    }
    if (!period.empty()) {
        if (!toU64(period, out.periodUsec)) {
            return Error::withReason("", "bad period " + quoted(period));
        }
    }
    return out;
}

Result<std::vector<pid_t>> parsePidList(std::string_view text) {
    std::vector<pid_t> out;
    auto r = forEachLine(text, [&](size_t lineNo, std::string_view line) -> Result<void> {
        pid_t pid = 0;
        auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
        if (ec != std::errc() || ptr != line.data() + line.size() || pid <= 0) {
            return lineError(lineNo, "bad pid " + quoted(line));
        }
        out.push_back(pid);
        return success();
    });
    if (!r) {
        return std::move(r).error();
    }
    return out;
}

bool isMajMin(std::string_view text) {
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    uint64_t major = 0;
    uint64_t minor = 0;
    std::string_view a = text.substr(0, colon);
    std::string_view b = text.substr(colon + 1);
    // Device numbers are 12 bits major, 20 bits minor; digits only (from_chars
    // would also accept a leading '-' for signed types, not for uint64_t).
    return toU64(a, major) && toU64(b, minor) && major < (1u << 12) && minor < (1u << 20);
}

}  // namespace gov::runtime
