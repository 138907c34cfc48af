#include "gov/runtime/ProcessAttributes.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <iterator>
#include <string>

#include "gov/runtime/Fd.hpp"

#ifndef IOPRIO_WHO_PROCESS
#define IOPRIO_WHO_PROCESS 1
#endif

namespace gov::runtime {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// The value after "Key:" on its line, or nullopt.
std::optional<std::string_view> field(std::string_view text, std::string_view key) {
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ':')
            return trim(line.substr(key.size() + 1));
    }
    return std::nullopt;
}

template <typename T>
bool number(std::string_view s, T& out, int base = 10) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc() && end == s.data() + s.size();
}

Error malformed(const std::string& what) {
    return Error::withReason("parse /proc status", what, std::errc::bad_message);
}

Result<std::string> readAt(int dirFd, const char* name, const std::string& where) {
    Fd fd(::openat(dirFd, name, O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::fromErrno("read " + where + "/" + name);
    return readToEnd(fd.get(), "read " + where + "/" + name);
}

}  // namespace

Result<StatusFields> parseProcStatus(std::string_view text) {
    StatusFields f;
    auto uid = field(text, "Uid");
    if (!uid)
        return malformed("no Uid line");
    {
        std::string_view first = *uid;
        first = first.substr(0, first.find_first_of(" \t"));
        if (!number(first, f.uid))
            return malformed("bad Uid '" + std::string(*uid) + "'");
    }
    auto nnp = field(text, "NoNewPrivs");
    if (!nnp || (*nnp != "0" && *nnp != "1"))
        return malformed("no NoNewPrivs 0 or 1");
    f.noNewPrivs = *nnp == "1";
    struct Cap {
        const char* key;
        uint64_t* out;
    } caps[] = {{"CapInh", &f.capInheritable},
                {"CapPrm", &f.capPermitted},
                {"CapEff", &f.capEffective},
                {"CapBnd", &f.capBounding},
                {"CapAmb", &f.capAmbient}};
    for (const auto& c : caps) {
        auto v = field(text, c.key);
        if (!v || !number(*v, *c.out, 16))
            return malformed(std::string("no hexadecimal ") + c.key);
    }
    auto umask = field(text, "Umask");
    unsigned mask = 0;
    if (!umask || !number(*umask, mask, 8) || mask > 0777)
        return malformed("no octal Umask");
    f.umask = static_cast<mode_t>(mask);
    return f;
}

Result<StatFields> parseProcStat(std::string_view text) {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
    // fields are counted from the last ')', which ends field 2.
    const size_t close = text.rfind(')');
    if (close == std::string_view::npos)
        return malformed("no ')' in /proc stat");
    std::string_view rest = text.substr(close + 1);
    StatFields f;
    int field = 2;
    bool nice = false;
    bool policy = false;
    while (!rest.empty()) {
        while (!rest.empty() && rest.front() == ' ')
            rest.remove_prefix(1);
        if (rest.empty())
            break;
        const size_t end = std::min(rest.find(' '), rest.size());
        std::string_view word = trim(rest.substr(0, end));
        rest.remove_prefix(end);
        ++field;
        if (field == 19)
            nice = number(word, f.nice);
        else if (field == 41)
            policy = number(word, f.schedPolicy);
    }
    if (!nice || !policy)
        return malformed("no nice (field 19) or policy (field 41) in /proc stat");
    return f;
}

Result<std::array<struct rlimit, kResourceLimits>> parseProcLimits(std::string_view text) {
    // The rows as the kernel names them (fs/proc/base.c), one per RLIMIT_*.
    static constexpr struct {
        std::string_view name;
        int resource;
    } kRows[] = {
        {"Max cpu time", RLIMIT_CPU},
        {"Max file size", RLIMIT_FSIZE},
        {"Max data size", RLIMIT_DATA},
        {"Max stack size", RLIMIT_STACK},
        {"Max core file size", RLIMIT_CORE},
        {"Max resident set", RLIMIT_RSS},
        {"Max processes", RLIMIT_NPROC},
        {"Max open files", RLIMIT_NOFILE},
        {"Max locked memory", RLIMIT_MEMLOCK},
        {"Max address space", RLIMIT_AS},
        {"Max file locks", RLIMIT_LOCKS},
        {"Max pending signals", RLIMIT_SIGPENDING},
        {"Max msgqueue size", RLIMIT_MSGQUEUE},
        {"Max nice priority", RLIMIT_NICE},
        {"Max realtime priority", RLIMIT_RTPRIO},
        {"Max realtime timeout", RLIMIT_RTTIME},
    };
    static_assert(std::size(kRows) == kResourceLimits);
    std::array<struct rlimit, kResourceLimits> out{};
    std::array<bool, kResourceLimits> seen{};
    auto value = [](std::string_view& rest, rlim_t& v) {
        while (!rest.empty() && rest.front() == ' ')
            rest.remove_prefix(1);
        const size_t end = std::min(rest.find(' '), rest.size());
        const std::string_view word = rest.substr(0, end);
        rest.remove_prefix(end);
        if (word == "unlimited") {
            v = RLIM_INFINITY;
            return true;
        }
        return number(word, v);
    };
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        for (const auto& row : kRows) {
            // The name is followed by the padding of its 25-character column.
            if (line.substr(0, row.name.size()) != row.name || line.size() <= row.name.size() ||
                line[row.name.size()] != ' ')
                continue;
            std::string_view rest = line.substr(row.name.size());
            auto& limit = out[static_cast<size_t>(row.resource)];
            if (!value(rest, limit.rlim_cur) || !value(rest, limit.rlim_max))
                return malformed("bad limits row '" + std::string(line) + "'");
            seen[static_cast<size_t>(row.resource)] = true;
        }
    }
    for (const auto& row : kRows) {
        if (!seen[static_cast<size_t>(row.resource)])
            return malformed("no '" + std::string(row.name) + "' row in /proc limits");
    }
    return out;
}

Result<std::optional<uint32_t>> parseAuditId(std::string_view text) {
    text = trim(text);
    uint32_t v = 0;
    if (!number(text, v)) {
        return Error::withReason("parse audit id", "not a number: '" + std::string(text) + "'",
                                 std::errc::bad_message);
    }
    if (v == 4294967295u)
        return std::optional<uint32_t>();
    return std::optional<uint32_t>(v);
}

Result<ProcessAttributes> readProcessAttributes(pid_t pid, uid_t expectedUid, int pidfd,
                                                const std::string& procRoot) {
    const std::string who = "process " + std::to_string(pid);
    Fd ownPidfd;
    if (pidfd < 0) {
        ownPidfd = Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (!ownPidfd.valid())
            return Error::fromErrno("pin " + who + " (pidfd_open)");
        pidfd = ownPidfd.get();
    }
    const std::string where = procRoot + "/" + std::to_string(pid);
    Fd dir(::open(where.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid())
        return Error::fromErrno("open " + where);

    ProcessAttributes a;
    auto status = readAt(dir.get(), "status", where);
    if (!status)
        return std::move(status).error();
    auto fields = parseProcStatus(*status);
    if (!fields)
        return std::move(fields).error().wrap(where + "/status");
    a.uid = fields->uid;
    a.noNewPrivs = fields->noNewPrivs;
    a.capInheritable = fields->capInheritable;
    a.capPermitted = fields->capPermitted;
    a.capEffective = fields->capEffective;
    a.capBounding = fields->capBounding;
    a.capAmbient = fields->capAmbient;
    a.umask = fields->umask;

    auto oom = readAt(dir.get(), "oom_score_adj", where);
    if (!oom)
        return std::move(oom).error();
    if (!number(trim(*oom), a.oomScoreAdj))
        return Error::withReason("read " + where + "/oom_score_adj", "not a number");
    // Kernels without CONFIG_AUDIT have neither file: unset.
    if (auto login = readAt(dir.get(), "loginuid", where)) {
        auto id = parseAuditId(*login);
        if (!id)
            return std::move(id).error().wrap(where + "/loginuid");
        a.loginUid = *id;
        if (auto session = readAt(dir.get(), "sessionid", where)) {
            auto sid = parseAuditId(*session);
            if (!sid)
                return std::move(sid).error().wrap(where + "/sessionid");
            a.sessionId = *sid;
        }
    } else if (login.error().code() != std::errc::no_such_file_or_directory) {
        return std::move(login).error();
    }

    auto stat = readAt(dir.get(), "stat", where);
    if (!stat)
        return std::move(stat).error();
    auto statFields = parseProcStat(*stat);
    if (!statFields)
        return std::move(statFields).error().wrap(where + "/stat");
    a.nice = statFields->nice;
    // SCHED_RESET_ON_FORK is a flag of the policy, not inherited here.
    a.schedPolicy = statFields->schedPolicy & ~SCHED_RESET_ON_FORK;
    auto limits = readAt(dir.get(), "limits", where);
    if (!limits)
        return std::move(limits).error();
    auto parsedLimits = parseProcLimits(*limits);
    if (!parsedLimits)
        return std::move(parsedLimits).error().wrap(where + "/limits");
    a.limits = *parsedLimits;
    // By pid: safe because the pidfd pins the process (checked below).
    const long io = ::syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, pid);
    if (io < 0)
        return Error::fromErrno("ioprio_get of " + who);
    a.ioPriority = static_cast<int>(io);

    // Still the same process (not reaped: its pid cannot have been reused), and
    // still the caller's uid.
    if (::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) != 0) {
        return Error::withReason(who, "exited while its attributes were read",
                                 std::errc::no_such_process);
    }
    if (a.uid != expectedUid) {
        return Error::withReason(
            who, "is uid " + std::to_string(a.uid) + ", not uid " + std::to_string(expectedUid),
            std::errc::permission_denied);
    }
    return a;
}

}  // namespace gov::runtime
