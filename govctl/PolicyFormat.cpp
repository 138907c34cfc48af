#include "PolicyFormat.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <type_traits>
#include <variant>

#include "gov/policies/Knobs.hpp"
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

// The table's resource columns, from the knob table: one per column name, in table
// order (a row without a column name has its own, named after its key in capitals).
struct Column {
    std::string name;
    std::vector<const policies::Knob*> knobs;
    bool io = false;  // the keys of io.max lines: one cell for every device
};

std::string columnName(const policies::Knob& k) {
    if (!k.column.empty()) {
        return std::string(k.column);
    }
    std::string name(k.key);
    for (auto& c : name) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

bool setsAny(const Column& column, const Resources& r) {
    if (column.io) {
        return !r.io.empty();
    }
    return std::any_of(column.knobs.begin(), column.knobs.end(), [&](const policies::Knob* k) {
        return policies::knobValue(*k, r).has_value();
    });
}

// The columns shown for `policy`: those the table always shows, and those of knobs
// some class sets.
std::vector<Column> columnsFor(const Policy& policy) {
    std::vector<Column> all;
    std::vector<bool> always;
    for (const auto& k : policies::knobs()) {
        const std::string name = columnName(k);
        auto it =
            std::find_if(all.begin(), all.end(), [&](const Column& c) { return c.name == name; });
        if (it == all.end()) {
            all.push_back(Column{name, {}, policies::isIoMaxKey(k)});
            always.push_back(false);
            it = all.end() - 1;
        }
        it->knobs.push_back(&k);
        always[static_cast<size_t>(it - all.begin())] =
            always[static_cast<size_t>(it - all.begin())] || k.columnAlways;
    }
    std::vector<Column> shown;
    for (size_t i = 0; i < all.size(); ++i) {
        bool used = always[i];
        for (const auto& c : policy.classes) {
            used = used || setsAny(all[i], c.limits) || setsAny(all[i], c.workloadLimits);
        }
        if (used) {
            shown.push_back(all[i]);
        }
    }
    return shown;
}

std::string cell(const Column& column, const Resources& r) {
    if (column.io) {
        return formatIoCell(r.io);
    }
    std::string out;
    for (const auto* k : column.knobs) {
        auto v = policies::knobValue(*k, r);
        if (!v) {
            continue;
        }
        std::string text = policies::humanText(*k, *v);
        if (!k->cellLabel.empty()) {
            text = std::string(k->cellLabel) + " " + text;
        }
        out += (out.empty() ? "" : " ") + text;
    }
    return out.empty() ? "-" : out;
}

using Row = std::vector<std::string>;

Row resourceCells(const std::string& name, const Resources& r, const std::vector<Column>& columns) {
    Row row{name};
    for (const auto& c : columns) {
        row.push_back(cell(c, r));
    }
    return row;
}

nlohmann::json maxOrJson(const MaxOr& v) {
    return v.isMax ? nlohmann::json("max") : nlohmann::json(v.value);
}

// A knob's value in JSON: the exact number in cgroup units, or "max".
nlohmann::json valueJson(const policies::KnobValue& value) {
    return std::visit(
        [](const auto& v) -> nlohmann::json {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, MaxOr>) {
                return maxOrJson(v);
            } else if constexpr (std::is_same_v<T, CpuMax>) {
                return {{"quota_us",
                         v.quotaUsec ? nlohmann::json(*v.quotaUsec) : nlohmann::json("max")},
                        {"period_us", v.periodUsec}};
            } else {
                return nlohmann::json(v);
            }
        },
        value);
}

nlohmann::json resourcesJson(const Resources& r) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& k : policies::knobs()) {
        if (auto v = policies::knobValue(k, r)) {
            j[std::string(k.key)] = valueJson(*v);
        }
    }
    if (!r.io.empty()) {
        nlohmann::json io = nlohmann::json::array();
        for (const auto& l : r.io) {
            nlohmann::json e;
            e["device"] = l.allDevices() ? nlohmann::json(nullptr) : nlohmann::json(l.device);
            for (const auto& k : policies::knobs()) {
                if (auto v = policies::knobValue(k, l)) {
                    e[std::string(k.key.substr(k.key.find('.') + 1))] = valueJson(*v);
                }
            }
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
    return !v ? "-" : policies::humanText(*policies::findKnob("memory.max"), *v);
}

std::string formatCpuMaxCell(const std::optional<CpuMax>& v) {
    return !v ? "-" : policies::humanText(*policies::findKnob("cpu.max"), *v);
}

std::string formatIoCell(const std::vector<IoLimit>& io) {
    std::string out;
    for (const auto& l : io) {
        std::string item;
        for (const auto& k : policies::knobs()) {
            if (auto v = policies::knobValue(k, l)) {
                item += (item.empty() ? "" : " ") + std::string(k.cellLabel) + " " +
                        policies::humanText(k, *v);
            }
        }
        std::string who = l.allDevices() ? "" : l.device + ": ";
        out += (out.empty() ? "" : "; ") + who + item;
    }
    return out.empty() ? "-" : out;
}

std::string formatPolicyTable(const Policy& policy) {
    const std::vector<Column> columns = columnsFor(policy);
    std::vector<Row> rows;
    Row header{"CLASS"};
    for (const auto& c : columns) {
        header.push_back(c.name);
    }
    header.insert(header.end(), {"NAMESPACES", "EXEC", "DESCRIPTION"});
    rows.push_back(std::move(header));
    for (const auto& c : policy.classes) {
        Row row = resourceCells(c.name, c.limits, columns);
        row.push_back(formatNamespaces(c));
        row.push_back(formatPrincipals(c.execAllowed));
        row.push_back(c.description.empty() ? "-" : c.description);
        rows.push_back(std::move(row));
        if (!c.workloadLimits.empty()) {
            Row w = resourceCells(c.name + "/workload", c.workloadLimits, columns);
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
