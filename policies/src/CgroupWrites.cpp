#include "gov/policies/CgroupWrites.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "gov/policies/Knobs.hpp"

namespace gov::policies {
namespace {

// "8:16" -> (8, 16) for numeric ordering; unparsable sorts last, by text.
std::pair<uint64_t, uint64_t> majMinKey(const std::string& majMin) {
    auto colon = majMin.find(':');
    uint64_t maj = UINT64_MAX;
    uint64_t min = UINT64_MAX;
    if (colon != std::string::npos) {
        std::from_chars(majMin.data(), majMin.data() + colon, maj);
        std::from_chars(majMin.data() + colon + 1, majMin.data() + majMin.size(), min);
    }
    return {maj, min};
}

// The io.max rows, in table order: the keys of one line.
std::vector<const Knob*> ioMaxKnobs() {
    std::vector<const Knob*> out;
    for (const auto& k : knobs()) {
        if (isIoMaxKey(k)) {
            out.push_back(&k);
        }
    }
    return out;
}

// The other rows, in write order.
std::vector<const Knob*> fileKnobsInWriteOrder() {
    std::vector<const Knob*> out;
    for (const auto& k : knobs()) {
        if (!isIoMaxKey(k)) {
            out.push_back(&k);
        }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Knob* a, const Knob* b) { return a->writeOrder < b->writeOrder; });
    return out;
}

// The limits of one io.max line and the policy keys behind them.
struct IoLine {
    IoLimit limit;
    std::vector<std::string> keys;
};

// Takes every key `from` sets into `line`; `keyPrefix` + the key's name after "io."
// is the policy key named for it ("io.write_bps", "io.device."/dev/sda".write_bps").
void overlay(IoLine& line, const IoLimit& from, const std::string& keyPrefix) {
    for (const Knob* k : ioMaxKnobs()) {
        if (auto v = knobValue(*k, from)) {
            setKnobValue(*k, line.limit, *v);
            line.keys.push_back(keyPrefix + std::string(k->key.substr(k->key.find('.') + 1)));
        }
    }
}

std::string ioLineText(const std::string& majMin, const IoLimit& limit) {
    std::string out = majMin;
    for (const Knob* k : ioMaxKnobs()) {
        auto v = knobValue(*k, limit);
        out += " " + std::string(k->ioMaxKey) + "=" +
               (v ? cgroupText(*k, *v) : std::string(k->kernelDefault));
    }
    return out;
}

std::string joinKeys(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) {
        out += out.empty() ? k : "," + k;
    }
    return out;
}

}  // namespace

std::string ioResetLine(const std::string& majMin) {
    return ioLineText(majMin, IoLimit{});
}

Result<std::vector<KnobWrite>> desiredWrites(const Resources& r, const DeviceTable& devices,
                                             GroupLevel level) {
    std::vector<KnobWrite> w;
    for (const Knob* k : fileKnobsInWriteOrder()) {
        if (!k->notWhenSet.empty()) {
            const Knob* flag = findKnob(k->notWhenSet);
            if (flag != nullptr && flagSet(*flag, r)) {
                continue;
            }
        }
        std::string value;
        if (auto v = knobValue(*k, r)) {
            value = cgroupText(*k, *v);
        } else if (level == GroupLevel::Workload && !k->workloadDefault.empty()) {
            value = std::string(k->workloadDefault);
        } else {
            value = std::string(k->kernelDefault);
        }
        const bool isDefault = value == k->kernelDefault;
        w.push_back(KnobWrite{std::string(k->controller), std::string(k->file), std::move(value),
                              std::string(k->key), isDefault});
    }

    // io: the all-devices limits on every whole disk, then each named device with
    // its own keys overriding the all-devices ones key by key.
    std::map<std::string, IoLine> lines;  // MAJ:MIN -> line
    const IoLimit* all = nullptr;
    for (const auto& io : r.io) {
        if (io.allDevices()) {
            all = &io;
        }
    }
    if (all != nullptr && !all->empty()) {
        for (const auto& disk : devices.wholeDisks) {
            overlay(lines[disk], *all, "io.");
        }
    }
    std::map<std::string, std::string> namedBy;  // MAJ:MIN -> device as written
    for (const auto& io : r.io) {
        if (io.allDevices() || io.empty()) {
            continue;
        }
        auto found = devices.resolved.find(io.device);
        if (found == devices.resolved.end()) {
            return Error::withReason("io.device \"" + io.device + "\"",
                                     "no such block device on this host",
                                     std::errc::no_such_device);
        }
        const std::string& majMin = found->second;
        if (auto [it, inserted] = namedBy.emplace(majMin, io.device); !inserted) {
            return Error::withReason(
                "io.device \"" + io.device + "\"",
                "is the same device (" + majMin + ") as \"" + it->second + "\"");
        }
        IoLine& line = lines[majMin];
        if (line.keys.empty() && all != nullptr) {
            // A named device that is not a whole disk (a partition) still gets the
            // all-devices limits under its own.
            overlay(line, *all, "io.");
        }
        overlay(line, io, "io.device.\"" + io.device + "\".");
    }
    std::vector<std::pair<std::string, IoLine>> sorted(lines.begin(), lines.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        auto ka = majMinKey(a.first);
        auto kb = majMinKey(b.first);
        return ka != kb ? ka < kb : a.first < b.first;
    });
    for (const auto& [majMin, line] : sorted) {
        std::string text = ioLineText(majMin, line.limit);
        const bool isDefault = text == ioResetLine(majMin);
        w.push_back(KnobWrite{"io", "io.max", std::move(text), joinKeys(line.keys), isDefault});
    }
    return w;
}

}  // namespace gov::policies
