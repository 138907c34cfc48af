#include "StatusFormat.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace gov::govctl {

namespace {

// Left-aligned columns separated by two spaces; the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows) {
        if (width.size() < r.size())
            width.resize(r.size(), 0);
        for (size_t i = 0; i < r.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size())
                line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v)
        s += (s.empty() ? "" : sep) + x;
    return s;
}

}  // namespace

std::string humanBytes(uint64_t bytes) {
    static const char* kUnits[] = {"K", "M", "G", "T", "P", "E"};
    if (bytes < 1024)
        return std::to_string(bytes);
    double v = static_cast<double>(bytes);
    int unit = -1;
    while (v >= 1024 && unit < 5) {
        v /= 1024;
        ++unit;
    }
    return fixed(v, 1) + kUnits[unit];
}

std::string humanCpuTime(uint64_t usec) {
    if (usec == 0)
        return "0";
    const uint64_t minutes = usec / 60000000;
    const uint64_t rest = usec % 60000000;
    std::string s = fixed(static_cast<double>(rest) / 1e6, 3) + "s";
    if (minutes == 0)
        return s;
    const uint64_t hours = minutes / 60;
    std::string m = std::to_string(minutes % 60) + "min " + s;
    return hours ? std::to_string(hours) + "h " + m : m;
}

std::string groupState(const GroupRow& row) {
    if (row.killed)
        return "killed";
    return row.frozen ? "frozen" : "running";
}

std::string formatGroupsTable(const std::vector<GroupRow>& rows) {
    std::vector<std::vector<std::string>> t;
    t.push_back({"GROUP", "CLASS", "STATE", "TASKS", "CPU", "MEMORY", "IO-READ", "IO-WRITE"});
    for (const auto& r : rows) {
        t.push_back({r.group, r.className, groupState(r), std::to_string(r.tasks),
                     humanCpuTime(r.cpuUsageUsec), humanBytes(r.memoryBytes),
                     humanBytes(r.ioReadBytes), humanBytes(r.ioWriteBytes)});
    }
    return table(t);
}

nlohmann::json groupToJson(const GroupRow& r) {
    return {{"group", r.group},
            {"class", r.className},
            {"state", groupState(r)},
            {"frozen", r.frozen},
            {"killed", r.killed},
            {"tasks", r.tasks},
            {"cpu_usage_usec", r.cpuUsageUsec},
            {"memory_bytes", r.memoryBytes},
            {"io_read_bytes", r.ioReadBytes},
            {"io_write_bytes", r.ioWriteBytes}};
}

nlohmann::json groupsToJson(const std::vector<GroupRow>& rows) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows)
        a.push_back(groupToJson(r));
    return {{"groups", a}};
}

std::string formatClassesTable(const std::vector<ClassRow>& rows) {
    std::vector<std::vector<std::string>> t;
    t.push_back({"CLASS", "WORKLOADS", "STATE", "NAMESPACES", "DESCRIPTION"});
    for (const auto& r : rows) {
        t.push_back({r.name, std::to_string(r.workloads), r.frozen ? "frozen" : "running",
                     r.namespaces.empty() ? "-" : join(r.namespaces, ","),
                     r.description.empty() ? "-" : r.description});
    }
    return table(t);
}

nlohmann::json classesToJson(const std::vector<ClassRow>& rows) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows) {
        a.push_back({{"name", r.name},
                     {"description", r.description},
                     {"namespaces", r.namespaces},
                     {"workloads", r.workloads},
                     {"frozen", r.frozen}});
    }
    return {{"classes", a}};
}

std::string formatGroupDetail(const GroupRow& r, const std::vector<uint32_t>& pids) {
    std::ostringstream o;
    o << "group:    " << r.group << "\n"
      << "class:    " << r.className << "\n"
      << "state:    " << groupState(r) << "\n"
      << "tasks:    " << r.tasks << "\n"
      << "cpu:      " << humanCpuTime(r.cpuUsageUsec) << " (" << r.cpuUsageUsec << " us)\n"
      << "memory:   " << humanBytes(r.memoryBytes) << "\n"
      << "io read:  " << humanBytes(r.ioReadBytes) << "\n"
      << "io write: " << humanBytes(r.ioWriteBytes) << "\n"
      << "pids:     ";
    if (pids.empty())
        o << "-";
    for (size_t i = 0; i < pids.size(); ++i)
        o << (i ? " " : "") << pids[i];
    o << "\n";
    return o.str();
}

nlohmann::json groupDetailToJson(const GroupRow& r, const std::vector<uint32_t>& pids) {
    nlohmann::json j = groupToJson(r);
    j["pids"] = pids;
    return j;
}

std::string formatClassLimits(const std::vector<LimitRow>& rows) {
    if (rows.empty())
        return "limits:   none (every knob at the kernel's default)\n";
    std::vector<std::vector<std::string>> t;
    t.push_back({"LIMIT", "VALUE", "ON", "SOURCE"});
    for (const auto& r : rows) {
        t.push_back({r.key, r.value, r.group + (r.enforced ? "" : " (NOT ENFORCED)"), r.source});
    }
    std::string out = "limits:\n" + table(t);
    std::string notes;
    for (const auto& r : rows) {
        if (!r.enforced)
            notes += "  " + r.key + " on " + r.group + ": " + r.reason + "\n";
    }
    if (!notes.empty())
        out += "not enforceable on this host:\n" + notes;
    return out;
}

nlohmann::json classLimitsToJson(const std::vector<LimitRow>& rows) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows) {
        a.push_back({{"key", r.key},
                     {"value", r.value},
                     {"file", r.file},
                     {"group", r.group},
                     {"source", r.source},
                     {"enforced", r.enforced},
                     {"reason", r.reason}});
    }
    return a;
}

std::string formatDiff(const std::vector<DiffRow>& rows, const std::vector<std::string>& notes) {
    std::string out;
    for (const auto& r : rows)
        out += r.description + "\n";
    if (rows.empty()) {
        out += "no changes: the policy is already in force\n";
    } else {
        out += std::to_string(rows.size()) +
               (rows.size() == 1 ? " cgroup operation\n" : " cgroup operations\n");
    }
    for (const auto& n : notes)
        out += "note: " + n + "\n";
    return out;
}

nlohmann::json diffToJson(const std::vector<DiffRow>& rows, const std::vector<std::string>& notes) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows) {
        a.push_back({{"kind", r.kind},
                     {"group", r.group},
                     {"file", r.file},
                     {"old", r.oldValue},
                     {"new", r.value},
                     {"text", r.description}});
    }
    return {{"valid", true}, {"actions", a}, {"unenforceable", notes}};
}

std::optional<TopOrder> topOrderFromName(const std::string& name) {
    static const std::map<std::string, TopOrder> kNames = {{"cpu", TopOrder::Cpu},
                                                           {"memory", TopOrder::Memory},
                                                           {"io", TopOrder::Io},
                                                           {"tasks", TopOrder::Tasks},
                                                           {"group", TopOrder::Group}};
    auto it = kNames.find(name);
    if (it == kNames.end())
        return std::nullopt;
    return it->second;
}

std::vector<TopRow> topRows(const std::vector<GroupRow>& before, const std::vector<GroupRow>& now,
                            double seconds, TopOrder order) {
    std::map<std::string, const GroupRow*> prev;
    for (const auto& r : before)
        prev[r.group] = &r;
    std::vector<TopRow> rows;
    for (const auto& r : now) {
        TopRow t;
        t.now = r;
        auto it = prev.find(r.group);
        if (it != prev.end() && seconds > 0) {
            const GroupRow& p = *it->second;
            if (r.cpuUsageUsec >= p.cpuUsageUsec) {
                t.cpuPercent =
                    static_cast<double>(r.cpuUsageUsec - p.cpuUsageUsec) / (seconds * 1e6) * 100.0;
            }
            if (r.ioReadBytes >= p.ioReadBytes && r.ioWriteBytes >= p.ioWriteBytes) {
                t.ioReadPerSec = static_cast<double>(r.ioReadBytes - p.ioReadBytes) / seconds;
                t.ioWritePerSec = static_cast<double>(r.ioWriteBytes - p.ioWriteBytes) / seconds;
            }
        }
        rows.push_back(std::move(t));
    }
    auto key = [order](const TopRow& t) -> double {
        switch (order) {
            case TopOrder::Cpu:
                return t.cpuPercent.value_or(-1);
            case TopOrder::Memory:
                return static_cast<double>(t.now.memoryBytes);
            case TopOrder::Io:
                return t.ioReadPerSec.value_or(-1) + t.ioWritePerSec.value_or(0);
            case TopOrder::Tasks:
                return t.now.tasks;
            case TopOrder::Group:
                return 0;
        }
        return 0;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const TopRow& a, const TopRow& b) {
        const double ka = key(a), kb = key(b);
        if (ka != kb)
            return ka > kb;
        return a.now.group < b.now.group;
    });
    return rows;
}

std::string formatTopTable(const std::vector<TopRow>& rows) {
    std::vector<std::vector<std::string>> t;
    t.push_back({"GROUP", "TASKS", "%CPU", "MEMORY", "IO-READ/s", "IO-WRITE/s"});
    for (const auto& r : rows) {
        auto rate = [](const std::optional<double>& v) {
            return v ? humanBytes(static_cast<uint64_t>(*v)) : std::string("-");
        };
        t.push_back({r.now.group, std::to_string(r.now.tasks),
                     r.cpuPercent ? fixed(*r.cpuPercent, 1) : "-", humanBytes(r.now.memoryBytes),
                     rate(r.ioReadPerSec), rate(r.ioWritePerSec)});
    }
    return table(t);
}

nlohmann::json topToJson(const std::vector<TopRow>& rows, double seconds) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json j = groupToJson(r.now);
        j["cpu_percent"] = r.cpuPercent ? nlohmann::json(*r.cpuPercent) : nlohmann::json(nullptr);
        j["io_read_bytes_per_second"] =
            r.ioReadPerSec ? nlohmann::json(*r.ioReadPerSec) : nlohmann::json(nullptr);
        j["io_write_bytes_per_second"] =
            r.ioWritePerSec ? nlohmann::json(*r.ioWritePerSec) : nlohmann::json(nullptr);
        a.push_back(std::move(j));
    }
    return {{"interval_seconds", seconds}, {"groups", a}};
}

}  // namespace gov::govctl
