#include "gov/policies/Units.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>
#include <utility>
#include <vector>

namespace gov::policies {
namespace {

struct Unit {
    std::string_view name;
    uint64_t factor;
};

constexpr uint64_t kKi = 1024ULL;
constexpr std::array<Unit, 9> kSizeUnits{{
    {"B", 1},
    {"KB", 1000ULL},
    {"MB", 1000ULL * 1000},
    {"GB", 1000ULL * 1000 * 1000},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
    {"KiB", kKi},
    {"MiB", kKi* kKi},
    {"GiB", kKi* kKi* kKi},
    {"TiB", kKi* kKi* kKi* kKi},
}};

constexpr std::array<Unit, 3> kDurationUnits{{{"us", 1}, {"ms", 1000}, {"s", 1000000}}};

Error fail(std::string reason) {
    return Error::withReason("", std::move(reason));
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// Splits "1.5 GiB" into number "1.5" and unit "GiB". At most one space between
// them; the number is digits with an optional fraction of digits.
struct Split {
    std::string_view number;
    std::string_view unit;
};

Result<Split> splitNumber(std::string_view text, std::string_view what) {
    if (text.empty()) {
        return fail("empty " + std::string(what));
    }
    if (text.front() == '-') {
        return fail(std::string(what) + " cannot be negative");
    }
    size_t i = 0;
    while (i < text.size() && isDigit(text[i])) {
        ++i;
    }
    if (i == 0) {
        return fail("a " + std::string(what) + " starts with a decimal number");
    }
    if (i < text.size() && text[i] == '.') {
        size_t fracStart = ++i;
        while (i < text.size() && isDigit(text[i])) {
            ++i;
        }
        if (i == fracStart) {
            return fail("a decimal point must be followed by digits");
        }
    }
    Split s{text.substr(0, i), text.substr(i)};
    if (!s.unit.empty() && s.unit.front() == ' ') {
        s.unit.remove_prefix(1);
        if (s.unit.empty() || s.unit.front() == ' ') {
            return fail("at most one space between the number and the unit");
        }
    }
    return s;
}

// Exactly `number` (digits[.digits]) times `factor`, or an error when the result
// is not a whole number or exceeds kMaxValue.
Result<uint64_t> scale(std::string_view number, uint64_t factor, std::string_view wholeWhat) {
    auto dot = number.find('.');
    std::string_view intPart = number.substr(0, dot);
    std::string_view fracPart =
        dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
    const std::string tooLarge = "value is too large (at most " + std::to_string(kMaxValue) + ")";

    uint64_t whole = 0;
    auto [p, ec] = std::from_chars(intPart.data(), intPart.data() + intPart.size(), whole);
    if (ec == std::errc::result_out_of_range) {
        return fail(tooLarge);
    }
    if (ec != std::errc() || p != intPart.data() + intPart.size()) {
        return fail("not a number");
    }
    uint64_t result = 0;
    if (__builtin_mul_overflow(whole, factor, &result)) {
        return fail(tooLarge);
    }
    // Trailing zeros of the fraction change nothing; drop them so "1.50" == "1.5".
    while (!fracPart.empty() && fracPart.back() == '0') {
        fracPart.remove_suffix(1);
    }
    if (!fracPart.empty()) {
        // frac / 10^k of `factor`. With k > 19 no factor here (at most 10^12) can
        // make that whole, so refuse before 10^k overflows.
        if (fracPart.size() > 19) {
            return fail("the fraction does not give a whole number of " + std::string(wholeWhat));
        }
        uint64_t frac = 0;
        std::from_chars(fracPart.data(), fracPart.data() + fracPart.size(), frac);
        uint64_t den = 1;
        for (size_t i = 0; i < fracPart.size(); ++i) {
            den *= 10;
        }
        uint64_t g = std::gcd(frac, den);
        frac /= g;
        den /= g;
        if (factor % den != 0) {
            return fail("the fraction does not give a whole number of " + std::string(wholeWhat));
        }
        // frac/den < 1, so frac * (factor/den) < factor: no overflow.
        uint64_t part = frac * (factor / den);
        if (__builtin_add_overflow(result, part, &result)) {
            return fail(tooLarge);
        }
    }
    if (result > kMaxValue) {
        return fail(tooLarge);
    }
    return result;
}

std::string sizeUnitList() {
    return "B, KB, MB, GB, TB (1000-based) or KiB, MiB, GiB, TiB (1024-based); units are "
           "case-sensitive";
}

Result<uint64_t> parseSizeWithin(std::string_view text, std::string_view what) {
    auto split = splitNumber(text, what);
    if (!split) {
        return std::move(split).error();
    }
    if (split->unit.empty()) {
        return fail("missing unit in \"" + std::string(text) + "\" (use " + sizeUnitList() +
                    "; a plain TOML integer is a number of bytes)");
    }
    for (const auto& u : kSizeUnits) {
        if (u.name == split->unit) {
            return scale(split->number, u.factor, "bytes");
        }
    }
    return fail("unknown unit '" + std::string(split->unit) + "' (use " + sizeUnitList() + ")");
}

}  // namespace

Result<uint64_t> parseSize(std::string_view text) {
    if (text.size() >= 2 && text.substr(text.size() - 2) == "/s") {
        return fail("a size takes no \"/s\" (that is a rate)");
    }
    return parseSizeWithin(text, "size");
}

Result<uint64_t> parseRate(std::string_view text) {
    if (text.size() < 2 || text.substr(text.size() - 2) != "/s") {
        return fail("a rate is a size per second, e.g. \"10MB/s\"");
    }
    return parseSizeWithin(text.substr(0, text.size() - 2), "rate");
}

Result<uint64_t> parseDurationUsec(std::string_view text) {
    auto split = splitNumber(text, "duration");
    if (!split) {
        return std::move(split).error();
    }
    for (const auto& u : kDurationUnits) {
        if (u.name == split->unit) {
            return scale(split->number, u.factor, "microseconds");
        }
    }
    if (split->unit.empty()) {
        return fail("missing unit in \"" + std::string(text) + "\" (use us, ms or s)");
    }
    return fail("unknown unit '" + std::string(split->unit) + "' (use us, ms or s)");
}

Result<uint64_t> parseCpuPercentQuotaUsec(std::string_view text) {
    if (text.empty() || text.back() != '%') {
        return fail("a CPU share is a percentage of one CPU, e.g. \"50%\" or \"250%\"");
    }
    auto split = splitNumber(text.substr(0, text.size() - 1), "percentage");
    if (!split) {
        return std::move(split).error();
    }
    if (!split->unit.empty()) {
        return fail("a CPU share is a percentage of one CPU, e.g. \"50%\" or \"250%\"");
    }
    // 1% of one CPU is 1000us of every 100000us period.
    return scale(split->number, 1000, "microseconds per 100ms period");
}

Result<std::string> normalizeIdList(std::string_view text, uint32_t limit) {
    if (text.empty()) {
        return fail("empty list (omit the key to inherit the parent's)");
    }
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        std::string_view item = text.substr(
            pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        if (item.empty()) {
            return fail("empty entry in the list \"" + std::string(text) + "\"");
        }
        auto parseId = [&](std::string_view s) -> Result<uint32_t> {
            uint32_t v = 0;
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (s.empty() || ec == std::errc::invalid_argument || p != s.data() + s.size()) {
                // Built piecewise: GCC 12 -O2 warns falsely (-Wrestrict) on "'" + string.
                std::string what(1, '\'');
                what.append(s);
                what += "' is not a number (lists look like \"0-3,8\")";
                return fail(what);
            }
            if (ec == std::errc::result_out_of_range || v >= limit) {
                return fail("id " + std::string(s) + " is out of range (at most " +
                            std::to_string(limit - 1) + ")");
            }
            return v;
        };
        size_t dash = item.find('-');
        auto lo = parseId(item.substr(0, dash));
        if (!lo) {
            return std::move(lo).error();
        }
        uint32_t hi = *lo;
        if (dash != std::string_view::npos) {
            auto h = parseId(item.substr(dash + 1));
            if (!h) {
                return std::move(h).error();
            }
            if (*h < *lo) {
                return fail("range '" + std::string(item) + "' ends before it starts");
            }
            hi = *h;
        }
        ranges.emplace_back(*lo, hi);
        if (comma == std::string_view::npos) {
            break;
        }
        pos = comma + 1;
    }
    std::sort(ranges.begin(), ranges.end());
    std::string out;
    std::pair<uint32_t, uint32_t> cur = ranges.front();
    auto emit = [&](std::pair<uint32_t, uint32_t> r) {
        if (!out.empty()) {
            out += ',';
        }
        out += std::to_string(r.first);
        if (r.second != r.first) {
            out += '-' + std::to_string(r.second);
        }
    };
    for (size_t i = 1; i < ranges.size(); ++i) {
        // Merge overlapping and adjacent ranges: "0-3,4" is "0-4".
        if (ranges[i].first <= cur.second + 1ULL) {
            cur.second = std::max(cur.second, ranges[i].second);
        } else {
            emit(cur);
            cur = ranges[i];
        }
    }
    emit(cur);
    return out;
}

std::string formatBytes(uint64_t bytes) {
    if (bytes == 0) {
        return "0 B";
    }
    uint64_t bestValue = bytes;
    std::string_view bestUnit = "B";
    // Binary units first so that they win ties.
    for (auto it = kSizeUnits.rbegin(); it != kSizeUnits.rend(); ++it) {
        if (it->factor > 1 && bytes % it->factor == 0 && bytes / it->factor < bestValue) {
            bestValue = bytes / it->factor;
            bestUnit = it->name;
        }
    }
    return std::to_string(bestValue) + " " + std::string(bestUnit);
}

std::string formatRate(uint64_t bytesPerSecond) {
    return formatBytes(bytesPerSecond) + "/s";
}

std::string formatDurationUsec(uint64_t usec) {
    if (usec != 0 && usec % 1000000 == 0) {
        return std::to_string(usec / 1000000) + "s";
    }
    if (usec != 0 && usec % 1000 == 0) {
        return std::to_string(usec / 1000) + "ms";
    }
    return std::to_string(usec) + "us";
}

}  // namespace gov::policies
