#include "PolicyFormat.hpp"

#include <algorithm>
#include <cstdint>

#include "gov/policies/Units.hpp"

namespace gov::govctl {

using policies::ClassPolicy;
using policies::CpuMax;
using policies::IoLimit;
using policies::MaxOr;
using policies::Policy;
using policies::Principals;
using policies::Resources;

namespace {

std::string joinNames(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += out.empty() ? n : "," + n;
    }
    return out;
}

std::string formatCount(const std::optional<MaxOr>& v) {
    return !v ? "-" : v->isMax ? "max" : std::to_string(v->value);
}

std::string formatRateOrMax(const MaxOr& v) {
    return v.isMax ? "max" : policies::formatRate(v.value);
}

std::string formatCpuset(const Resources& r) {
    std::string out;
    if (r.cpusetCpus) {
        out += "cpus " + *r.cpusetCpus;
    }
    if (r.cpusetMems) {
        out += (out.empty() ? "" : " ") + ("mems " + *r.cpusetMems);
    }
    return out.empty() ? "-" : out;
}

std::string formatPrincipals(const Principals& p) {
    if (p.empty()) {
        return "root only";
    }
    std::string out;
    if (!p.users.empty()) {
        out += "users " + joinNames(p.users);
    }
    if (!p.groups.empty()) {
        out += (out.empty() ? "" : " ") + ("groups " + joinNames(p.groups));
    }
    return out;
}

std::string formatNamespaces(const ClassPolicy& c) {
    std::vector<std::string> names;
    for (auto ns : c.namespaces) {
        names.emplace_back(policies::namespaceName(ns));
    }
    return names.empty() ? "-" : joinNames(names);
}

using Row = std::vector<std::string>;

Row resourceCells(const std::string& name, const Resources& r) {
    return {name,
            formatSizeCell(r.memoryMax),
            formatSizeCell(r.memoryHigh),
            formatSizeCell(r.memoryLow),
            formatSizeCell(r.memoryMin),
            formatCount(r.pidsMax),
            r.cpuWeight ? std::to_string(*r.cpuWeight) : "-",
            formatCpuMaxCell(r.cpuMax),
            formatCpuset(r),
            formatIoCell(r.io)};
}

nlohmann::json maxOrJson(const MaxOr& v) {
    return v.isMax ? nlohmann::json("max") : nlohmann::json(v.value);
}

nlohmann::json resourcesJson(const Resources& r) {
    nlohmann::json j = nlohmann::json::object();
    auto put = [&](const char* key, const std::optional<MaxOr>& v) {
        if (v) {
            j[key] = maxOrJson(*v);
        }
    };
    put("memory.max", r.memoryMax);
    put("memory.high", r.memoryHigh);
    put("memory.low", r.memoryLow);
    put("memory.min", r.memoryMin);
    put("pids.max", r.pidsMax);
    if (r.cpuWeight) {
        j["cpu.weight"] = *r.cpuWeight;
    }
    if (r.cpuMax) {
        j["cpu.max"] = {{"quota_us", r.cpuMax->quotaUsec ? nlohmann::json(*r.cpuMax->quotaUsec)
                                                         : nlohmann::json("max")},
                        {"period_us", r.cpuMax->periodUsec}};
    }
    if (r.cpusetCpus) {
        j["cpuset.cpus"] = *r.cpusetCpus;
    }
    if (r.cpusetMems) {
        j["cpuset.mems"] = *r.cpusetMems;
    }
    if (!r.io.empty()) {
        nlohmann::json io = nlohmann::json::array();
        for (const auto& l : r.io) {
            nlohmann::json e;
            e["device"] = l.allDevices() ? nlohmann::json(nullptr) : nlohmann::json(l.device);
            auto putIo = [&](const char* key, const std::optional<MaxOr>& v) {
                if (v) {
                    e[key] = maxOrJson(*v);
                }
            };
            putIo("read_bps", l.readBps);
            putIo("write_bps", l.writeBps);
            putIo("read_iops", l.readIops);
            putIo("write_iops", l.writeIops);
            io.push_back(std::move(e));
        }
        j["io"] = std::move(io);
    }
    return j;
}

nlohmann::json principalsJson(const Principals& p) {
    return {{"users", p.users}, {"groups", p.groups}};
}

}  // namespace

std::string formatSizeCell(const std::optional<MaxOr>& v) {
    return !v ? "-" : v->isMax ? "max" : policies::formatBytes(v->value);
}

std::string formatCpuMaxCell(const std::optional<CpuMax>& v) {
    if (!v) {
        return "-";
    }
    if (!v->quotaUsec) {
        return v->periodUsec == 100000 ? "max"
                                       : "max/" + policies::formatDurationUsec(v->periodUsec);
    }
    // Percent of one CPU when it is exact, else quota/period.
    if (*v->quotaUsec < UINT64_MAX / 100 && (*v->quotaUsec * 100) % v->periodUsec == 0) {
        return std::to_string(*v->quotaUsec * 100 / v->periodUsec) + "%";
    }
    return policies::formatDurationUsec(*v->quotaUsec) + "/" +
           policies::formatDurationUsec(v->periodUsec);
}

std::string formatIoCell(const std::vector<IoLimit>& io) {
    std::string out;
    for (const auto& l : io) {
        std::string item;
        auto add = [&](const char* name, const std::optional<MaxOr>& v, bool rate) {
            if (!v) {
                return;
            }
            item += (item.empty() ? "" : " ") + std::string(name) + " " +
                    (rate ? formatRateOrMax(*v) : formatCount(v));
        };
        add("rbps", l.readBps, true);
        add("wbps", l.writeBps, true);
        add("riops", l.readIops, false);
        add("wiops", l.writeIops, false);
        std::string who = l.allDevices() ? "" : l.device + ": ";
        out += (out.empty() ? "" : "; ") + who + item;
    }
    return out.empty() ? "-" : out;
}

std::string formatPolicyTable(const Policy& policy) {
    std::vector<Row> rows;
    rows.push_back({"CLASS", "MEMORY.MAX", "MEMORY.HIGH", "MEMORY.LOW", "MEMORY.MIN", "PIDS.MAX",
                    "CPU.WEIGHT", "CPU.MAX", "CPUSET", "IO", "NAMESPACES", "EXEC", "DESCRIPTION"});
    for (const auto& c : policy.classes) {
        Row row = resourceCells(c.name, c.limits);
        row.push_back(formatNamespaces(c));
        row.push_back(formatPrincipals(c.execAllowed));
        row.push_back(c.description.empty() ? "-" : c.description);
        rows.push_back(std::move(row));
        if (!c.workloadLimits.empty()) {
            Row w = resourceCells(c.name + "/workload", c.workloadLimits);
            w.insert(w.end(), {"-", "-", "limits of each workload group"});
            rows.push_back(std::move(w));
        }
    }
    std::vector<size_t> width(rows.front().size(), 0);
    for (const auto& r : rows) {
        for (size_t i = 0; i < r.size(); ++i) {
            width[i] = std::max(width[i], r[i].size());
        }
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) {
                line += std::string(width[i] - r[i].size() + 2, ' ');
            }
        }
        out += line + "\n";
    }
    out += "\n" + std::to_string(policy.classes.size()) +
           (policy.classes.size() == 1 ? " class" : " classes") + " from " +
           (policy.sources.empty() ? std::string("<policy>") : joinNames(policy.sources)) +
           "; '-' = not set (no limit)\n";
    if (!policy.admins.empty()) {
        out += "admins: " + formatPrincipals(policy.admins) + "\n";
    }
    return out;
}

nlohmann::json policyToJson(const Policy& policy) {
    nlohmann::json classes = nlohmann::json::array();
    for (const auto& c : policy.classes) {
        nlohmann::json ns = nlohmann::json::array();
        for (auto n : c.namespaces) {
            ns.push_back(policies::namespaceName(n));
        }
        classes.push_back(
            {{"name", c.name},
             {"description", c.description},
             {"limits", resourcesJson(c.limits)},
             {"workload_limits", resourcesJson(c.workloadLimits)},
             {"namespaces", ns},
             {"exec", principalsJson(c.execAllowed)},
             {"control", principalsJson(c.controlAllowed)},
             {"where",
              {{"file", c.where.file}, {"line", c.where.line}, {"column", c.where.column}}}});
    }
    return {{"valid", true},
            {"sources", policy.sources},
            {"admins", principalsJson(policy.admins)},
            {"classes", classes}};
}

nlohmann::json diagnosticsToJson(const std::vector<policies::Diagnostic>& diagnostics) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : diagnostics) {
        list.push_back({{"file", d.where.file},
                        {"line", d.where.line},
                        {"column", d.where.column},
                        {"key", d.keyPath},
                        {"message", d.message},
                        {"suggestion", d.suggestion},
                        {"text", d.format()}});
    }
    return {{"valid", false}, {"diagnostics", list}};
}

std::string dumpJson(const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gov::govctl
