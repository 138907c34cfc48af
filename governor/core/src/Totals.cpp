#include "gov/core/Totals.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

namespace gov::core {

namespace {

using nlohmann::json;

void foldPressure(PressureTotals& into, const std::optional<runtime::Pressure>& p) {
    if (!p)
        return;
    into.someUsec += p->some.totalUsec;
    if (p->full)
        into.fullUsec += p->full->totalUsec;
}

json pressureJson(const PressureTotals& p) {
    return {{"some_usec", p.someUsec}, {"full_usec", p.fullUsec}};
}

// The flat field table: one place that names every scalar of ClassTotals in JSON.
struct Field {
    const char* name;
    uint64_t ClassTotals::*member;
};
constexpr Field kFields[] = {
    {"workloads_ended", &ClassTotals::workloadsEnded},
    {"cpu_usage_usec", &ClassTotals::cpuUsageUsec},
    {"cpu_user_usec", &ClassTotals::cpuUserUsec},
    {"cpu_system_usec", &ClassTotals::cpuSystemUsec},
    {"cpu_nr_periods", &ClassTotals::cpuNrPeriods},
    {"cpu_nr_throttled", &ClassTotals::cpuNrThrottled},
    {"cpu_throttled_usec", &ClassTotals::cpuThrottledUsec},
    {"memory_peak_bytes", &ClassTotals::memoryPeakBytes},
    {"memory_events_low", &ClassTotals::memoryEventsLow},
    {"memory_events_high", &ClassTotals::memoryEventsHigh},
    {"memory_events_max", &ClassTotals::memoryEventsMax},
    {"oom", &ClassTotals::memoryEventsOom},
    {"oom_kill", &ClassTotals::memoryEventsOomKill},
    {"pids_peak", &ClassTotals::pidsPeak},
    {"pids_events_max", &ClassTotals::pidsEventsMax},
};

Result<uint64_t> getU64(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end())
        return uint64_t{0};  // fields added later default to 0
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
        return Error::withReason(where + "." + key, "not a non-negative integer");
    }
    return it->get<uint64_t>();
}

Result<PressureTotals> getPressure(const json& obj, const char* key, const std::string& where) {
    PressureTotals p;
    auto it = obj.find(key);
    if (it == obj.end())
        return p;
    if (!it->is_object())
        return Error::withReason(where + "." + key, "not an object");
    auto some = getU64(*it, "some_usec", where + "." + key);
    if (!some)
        return some.error();
    auto full = getU64(*it, "full_usec", where + "." + key);
    if (!full)
        return full.error();
    p.someUsec = *some;
    p.fullUsec = *full;
    return p;
}

Result<void> writeAll(int fd, const std::string& data, const std::string& path) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::fromErrno("write " + path);
        }
        done += static_cast<size_t>(n);
    }
    return success();
}

Result<std::string> readFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::fromErrno("open " + path);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            ::close(fd);
            return Error::fromErrno("read " + path, err);
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace

void ClassTotals::fold(const runtime::GroupUsage& u) {
    ++workloadsEnded;
    if (u.cpu) {
        cpuUsageUsec += u.cpu->usageUsec;
        cpuUserUsec += u.cpu->userUsec;
        cpuSystemUsec += u.cpu->systemUsec;
        cpuNrPeriods += u.cpu->nrPeriods.value_or(0);
        cpuNrThrottled += u.cpu->nrThrottled.value_or(0);
        cpuThrottledUsec += u.cpu->throttledUsec.value_or(0);
    }
    if (u.memory) {
        memoryPeakBytes = std::max(memoryPeakBytes, u.memory->peak.value_or(u.memory->current));
        memoryEventsLow += u.memory->events.low;
        memoryEventsHigh += u.memory->events.high;
        memoryEventsMax += u.memory->events.max;
        memoryEventsOom += u.memory->events.oom;
        memoryEventsOomKill += u.memory->events.oomKill;
    }
    if (u.pids) {
        pidsPeak = std::max(pidsPeak, u.pids->peak.value_or(u.pids->current));
        pidsEventsMax += u.pids->eventsMax;
    }
    if (u.io) {
        for (const auto& line : *u.io) {
            auto& t = io[line.majMin];
            t.readBytes += line.rbytes;
            t.writeBytes += line.wbytes;
            t.readOps += line.rios;
            t.writeOps += line.wios;
        }
    }
    foldPressure(cpuPressure, u.cpuPressure);
    foldPressure(memoryPressure, u.memoryPressure);
    foldPressure(ioPressure, u.ioPressure);
}

std::string stateToJson(const State& state) {
    json classes = json::object();
    for (const auto& [name, t] : state.classes) {
        json c = json::object();
        for (const auto& f : kFields)
            c[f.name] = t.*(f.member);
        json io = json::object();
        for (const auto& [dev, d] : t.io) {
            io[dev] = {{"read_bytes", d.readBytes},
                       {"write_bytes", d.writeBytes},
                       {"read_ops", d.readOps},
                       {"write_ops", d.writeOps}};
        }
        c["io"] = io;
        c["cpu_pressure"] = pressureJson(t.cpuPressure);
        c["memory_pressure"] = pressureJson(t.memoryPressure);
        c["io_pressure"] = pressureJson(t.ioPressure);
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
        for (const auto& f : kFields) {
            auto v = getU64(c, f.name, where);
            if (!v)
                return v.error();
            t.*(f.member) = *v;
        }
        if (auto io = c.find("io"); io != c.end()) {
            if (!io->is_object())
                return Error::withReason(where + ".io", "not an object");
            for (const auto& [dev, d] : io->items()) {
                IoTotals it;
                std::string w = where + ".io." + dev;
                auto rb = getU64(d, "read_bytes", w);
                auto wb = getU64(d, "write_bytes", w);
                auto ro = getU64(d, "read_ops", w);
                auto wo = getU64(d, "write_ops", w);
                for (auto* r : {&rb, &wb, &ro, &wo}) {
                    if (!*r)
                        return r->error();
                }
                it.readBytes = *rb;
                it.writeBytes = *wb;
                it.readOps = *ro;
                it.writeOps = *wo;
                t.io[dev] = it;
            }
        }
        auto cp = getPressure(c, "cpu_pressure", where);
        auto mp = getPressure(c, "memory_pressure", where);
        auto ip = getPressure(c, "io_pressure", where);
        for (auto* r : {&cp, &mp, &ip}) {
            if (!*r)
                return r->error();
        }
        t.cpuPressure = *cp;
        t.memoryPressure = *mp;
        t.ioPressure = *ip;
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

Result<StateStore::Loaded> StateStore::load() const {
    Loaded out;
    auto tryLoad = [](const std::string& path) -> Result<State> {
        auto text = readFile(path);
        if (!text)
            return std::move(text).error();
        auto state = stateFromJson(*text);
        if (!state)
            return std::move(state).error().wrap(path);
        return state;
    };
    auto main = tryLoad(path());
    if (main) {
        out.state = std::move(*main);
        return out;
    }
    const bool mainMissing = main.error().code() == std::errc::no_such_file_or_directory;
    auto prev = tryLoad(path() + ".prev");
    if (prev) {
        out.state = std::move(*prev);
        out.warning = mainMissing ? path() + " is missing; using the previous generation"
                                  : main.error().message() + "; using the previous generation";
        return out;
    }
    const bool prevMissing = prev.error().code() == std::errc::no_such_file_or_directory;
    if (mainMissing && prevMissing)
        return out;  // first start
    return mainMissing ? std::move(prev).error() : std::move(main).error();
}

Result<void> StateStore::save(const State& state) const {
    if (::mkdir(dir_.c_str(), 0755) < 0 && errno != EEXIST) {
        return Error::fromErrno("create state directory " + dir_);
    }
    const std::string tmp = path() + ".tmp";
    const std::string data = stateToJson(state);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error::fromErrno("open " + tmp);
    auto written = writeAll(fd, data, tmp);
    if (written.ok() && ::fsync(fd) < 0)
        written = Error::fromErrno("fsync " + tmp);
    ::close(fd);
    if (!written)
        return written;
    // Keep the previous generation: a hard link, so totals.json itself is never
    // missing for a moment.
    ::unlink((path() + ".prev").c_str());
    if (::link(path().c_str(), (path() + ".prev").c_str()) < 0 && errno != ENOENT) {
        return Error::fromErrno("keep previous generation of " + path());
    }
    if (::rename(tmp.c_str(), path().c_str()) < 0)
        return Error::fromErrno("rename " + tmp);
    int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return Error::fromErrno("open " + dir_);
    int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc < 0)
        return Error::fromErrno("fsync " + dir_);
    return success();
}

}  // namespace gov::core
