#include "gov/runtime/Accounting.hpp"

#include <algorithm>
#include <iterator>

#include "gov/runtime/Parsers.hpp"

namespace gov::runtime {
namespace {

Error parseError(Error e, std::string_view file, const std::string& group) {
    return std::move(e.wrap("parse " + std::string(file) + " in " + groupDisplayName(group)));
}

// The table grouped by file, built once: a scrape parses every file of every group,
// so each file's parser looks only at that file's rows (string_views, no strlen).
struct Row {
    CounterId id;
    std::string_view key;
    std::array<std::string_view, 2> keyFallback;
};
struct FileRows {
    std::string_view name;
    const char* readIf;
    CounterSource source;
    std::vector<Row> rows;
};

std::vector<FileRows> groupByFile() {
    std::vector<FileRows> files;
    auto sv = [](const char* s) { return s ? std::string_view(s) : std::string_view(); };
    for (const auto& spec : kCounters) {
        auto it = std::find_if(files.begin(), files.end(),
                               [&](const FileRows& f) { return f.name == spec.file; });
        if (it == files.end()) {
            files.push_back({spec.file, spec.readIf, spec.source, {}});
            it = std::prev(files.end());
        }
        it->rows.push_back({spec.id, spec.key, {sv(spec.keyFallback[0]), sv(spec.keyFallback[1])}});
    }
    // cgroup.events first: its absence is how a missing group is told apart.
    std::stable_partition(files.begin(), files.end(),
                          [](const FileRows& f) { return f.name == kPresenceFile; });
    return files;
}

const std::vector<FileRows>& filesOfTable() {
    static const std::vector<FileRows> files = groupByFile();
    return files;
}

const FileRows* findFile(std::string_view name) {
    for (const auto& f : filesOfTable()) {
        if (f.name == name)
            return &f;
    }
    return nullptr;
}

Result<void> parseKeyed(const FileRows& file, std::string_view text, GroupUsage& usage) {
    // A fallback is the sum of its keys, used only when the row's own key is missing.
    std::array<uint64_t, kCounterCount> fallbackSum{};
    std::bitset<kCounterCount> fallbackSeen;
    auto r = forEachFlatKeyed(text, [&](std::string_view key, uint64_t v) {
        for (const auto& row : file.rows) {
            if (row.key == key) {
                usage.values.set(row.id, v);
            } else if (!key.empty() && (row.keyFallback[0] == key || row.keyFallback[1] == key)) {
                fallbackSum[index(row.id)] += v;
                fallbackSeen.set(index(row.id));
            }
        }
    });
    if (!r)
        return r;
    for (const auto& row : file.rows) {
        if (!usage.values.has(row.id) && fallbackSeen.test(index(row.id)))
            usage.values.set(row.id, fallbackSum[index(row.id)]);
    }
    return success();
}

Result<void> parseSingle(const FileRows& file, std::string_view text, GroupUsage& usage) {
    std::optional<uint64_t> value;
    if (file.source == CounterSource::Limit) {
        auto max = parseMax(text);
        if (!max)
            return std::move(max).error();
        if (!max->isMax)
            value = max->value;
    } else {
        auto v = parseU64(text);
        if (!v)
            return std::move(v).error();
        value = *v;
    }
    if (value) {
        for (const auto& row : file.rows)
            usage.values.set(row.id, *value);
    }
    return success();
}

Result<void> parsePerDevice(const FileRows& file, std::string_view text, GroupUsage& usage) {
    std::vector<DeviceValues> devices;
    auto r = forEachDeviceField(
        text,
        [&](std::string_view device) {
            devices.push_back({std::string(device), {}});
            // The kernel writes every key on every line; a missing one reads as 0.
            for (const auto& row : file.rows)
                devices.back().values.set(row.id, 0);
        },
        [&](std::string_view key) {
            return std::any_of(file.rows.begin(), file.rows.end(),
                               [&](const Row& row) { return row.key == key; });
        },
        [&](std::string_view key, uint64_t v) {
            for (const auto& row : file.rows) {
                if (row.key == key)
                    devices.back().values.set(row.id, v);
            }
        });
    if (!r)
        return r;
    usage.devices = std::move(devices);
    return success();
}

Result<void> parsePressureFile(const FileRows& file, std::string_view text, GroupUsage& usage) {
    auto p = parsePressure(text);
    if (!p)
        return std::move(p).error();
    for (const auto& row : file.rows) {
        if (row.key == "some")
            usage.values.set(row.id, p->some.totalUsec);
        else if (row.key == "full" && p->full)
            usage.values.set(row.id, p->full->totalUsec);
    }
    return success();
}

Result<void> parseFile(const FileRows& file, std::string_view text, GroupUsage& usage) {
    Result<void> r = success();
    switch (file.source) {
        case CounterSource::Keyed:
            r = parseKeyed(file, text, usage);
            break;
        case CounterSource::Single:
        case CounterSource::Limit:
            r = parseSingle(file, text, usage);
            break;
        case CounterSource::PerDevice:
            r = parsePerDevice(file, text, usage);
            break;
        case CounterSource::Pressure:
            r = parsePressureFile(file, text, usage);
            break;
    }
    if (!r)
        return r;
    for (const auto& row : file.rows)
        usage.filesRead.set(index(row.id));
    return success();
}

std::vector<CounterFile> makeCounterFiles() {
    std::vector<CounterFile> out;
    for (const auto& f : filesOfTable())
        out.push_back({f.name.data(), f.readIf});
    return out;
}

}  // namespace

const std::vector<CounterFile>& counterFiles() {
    static const std::vector<CounterFile> files = makeCounterFiles();
    return files;
}

Result<void> parseCounterFile(std::string_view file, std::string_view text, GroupUsage& usage) {
    const FileRows* rows = findFile(file);
    if (rows == nullptr)
        return Error::withReason(std::string(file), "not a file of the counter table");
    return parseFile(*rows, text, usage);
}

Result<CgroupEvents> parseCgroupEvents(std::string_view text) {
    CgroupEvents out;
    auto r = forEachFlatKeyed(text, [&](std::string_view key, uint64_t v) {
        if (key == "populated") {
            out.populated = v != 0;
        } else if (key == "frozen") {
            out.frozen = v != 0;
        }
    });
    if (!r) {
        return std::move(r).error();
    }
    return out;
}

Result<CgroupEvents> readEvents(const CgroupFs& fs, const std::string& group) {
    auto text = fs.read(group, "cgroup.events");
    if (!text) {
        return std::move(text).error();
    }
    auto ev = parseCgroupEvents(*text);
    if (!ev) {
        return parseError(std::move(ev).error(), "cgroup.events", group);
    }
    return ev;
}

Result<GroupUsage> readUsage(const CgroupFs& fs, const std::string& group) {
    GroupUsage u;
    const auto& files = filesOfTable();
    // Files found missing: the files that need them (readIf) are not tried.
    std::vector<std::string_view> missing;
    for (const auto& file : files) {
        if (file.readIf != nullptr &&
            std::find(missing.begin(), missing.end(), file.readIf) != missing.end()) {
            continue;
        }
        const std::string name(file.name);
        std::optional<std::string> text;
        if (&file == &files.front()) {  // kPresenceFile: must exist
            auto t = fs.read(group, name);
            if (!t)
                return std::move(t).error();
            text = std::move(*t);
        } else {
            auto t = fs.readIfExists(group, name);
            if (!t)
                return std::move(t).error();
            text = std::move(*t);
        }
        if (!text) {
            missing.push_back(file.name);
            continue;
        }
        auto parsed = parseFile(file, *text, u);
        if (!parsed)
            return parseError(std::move(parsed).error(), file.name, group);
    }
    return u;
}

}  // namespace gov::runtime
